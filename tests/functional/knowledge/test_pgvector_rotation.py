"""Rotation of the Bedrock user's Aurora password through real boto3: Secrets Manager served by
moto in-process, the Data API by the local front over a real PostgreSQL (SCRAM logins)."""

from __future__ import annotations

import json
import logging
import secrets
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import boto3
import pg8000.exceptions
import pytest
from botocore.config import Config

from handlers import pgvector_rotation
from kit_runtime.contracts.pgvector import PgvectorRotationSettings
from kit_runtime.pgvector import SchemaError
from kit_runtime.pgvector_rotation import STEPS, RotationError
from tests.fakes.rds_data_server import RESUMING, FakeDataApi
from tests.support.lambda_context import LambdaContext
from tests.support.postgres import ADMIN, Postgres
from tests.support.secrets_rotation import REGION, begin_rotation, stages

moto = pytest.importorskip("moto", reason="moto (dev dependency) provides Secrets Manager")

DATABASE = "postgres"


@pytest.fixture(scope="module")
def front(postgres: Postgres) -> Iterator[FakeDataApi]:
    with FakeDataApi(postgres) as api:
        yield api


@dataclass
class Rotated:
    """A login role, its secret in Secrets Manager and the function's settings."""

    postgres: Postgres
    front: FakeDataApi
    secrets: Any
    role: str
    old_password: str
    settings: PgvectorRotationSettings
    sleeps: list[float] = field(default_factory=list)

    @property
    def arn(self) -> str:
        return self.settings.user_secret_arn

    def step(self, step: str, token: str, *, secret_id: str | None = None, **changes: Any) -> None:
        """Invoke the function as Secrets Manager does for one step (settings ``changes``)."""
        context = LambdaContext(remaining_ms=300_000, function_name="kit-test-rotation")

        def sleep(seconds: float) -> None:  # time passes for the function, not for the test
            self.sleeps.append(seconds)
            context.started -= seconds

        event = {"Step": step, "SecretId": secret_id or self.arn, "ClientRequestToken": token}
        pgvector_rotation.handler(
            event,
            context,
            settings=self.settings.model_copy(update=changes),
            client=boto3.client(
                "rds-data",
                endpoint_url=self.front.endpoint_url,
                region_name=REGION,
                aws_access_key_id="AKIAFAKEFAKEFAKEFAKE",
                aws_secret_access_key="fake-secret-for-local-tests",
                config=Config(retries={"total_max_attempts": 1}),
            ),
            secrets=self.secrets,
            sleep=sleep,
        )

    def rotate(self) -> str:
        """A whole rotation: the new version's id."""
        token = begin_rotation(self.arn)
        for step in STEPS:
            self.step(step, token)
        return token

    def value(self, **version: str) -> dict[str, Any]:
        answer = self.secrets.get_secret_value(SecretId=self.arn, **version)
        value: dict[str, Any] = json.loads(answer["SecretString"])
        return value

    def logs_in(self, password: str) -> bool:
        try:
            self.postgres.connect(DATABASE, self.role, password).close()
        except pg8000.exceptions.Error:
            return False
        return True


@pytest.fixture
def rotated(postgres: Postgres, front: FakeDataApi) -> Iterator[Rotated]:
    """A role of this test's own (roles are cluster-wide) with a generated-like password."""
    front.reset()
    password = secrets.token_hex(20)
    role = postgres.create_role(password)
    with moto.mock_aws():
        client = boto3.client(
            "secretsmanager",
            region_name=REGION,
            aws_access_key_id="AKIAFAKEFAKEFAKEFAKE",
            aws_secret_access_key="fake-secret-for-local-tests",
        )
        arn = client.create_secret(
            Name=f"kit-test-user-{role}",
            SecretString=json.dumps({"username": role, "password": password}),
        )["ARN"]
        yield Rotated(
            postgres=postgres,
            front=front,
            secrets=client,
            role=role,
            old_password=password,
            settings=PgvectorRotationSettings(
                cluster_arn=front.cluster_arn,
                admin_secret_arn=front.add_secret(ADMIN, postgres.admin_password),
                user_secret_arn=arn,
                database=DATABASE,
            ),
        )


def test_a_rotation_moves_the_role_and_the_secret_to_a_new_password(
    rotated: Rotated, caplog: pytest.LogCaptureFixture
) -> None:
    # Given a role logging in with its current secret, and an admin that may read pg_authid
    assert rotated.logs_in(rotated.old_password)
    caplog.set_level(logging.INFO)
    # When Secrets Manager runs the four steps
    token = rotated.rotate()
    # Then the current version is the new one, for the same user, with a new generated password
    current = rotated.value(VersionStage="AWSCURRENT")
    assert current["username"] == rotated.role
    new = current["password"]
    assert new != rotated.old_password
    assert len(new) == 40 and new.isalnum() and new.isascii()
    assert stages(rotated.secrets, rotated.arn)[token] == ["AWSCURRENT"]
    assert rotated.value(VersionStage="AWSPREVIOUS")["password"] == rotated.old_password
    # And the role logs in with the new password, no longer with the old
    assert rotated.logs_in(new)
    assert not rotated.logs_in(rotated.old_password)
    # And PostgreSQL received a SCRAM verifier, never the password
    altered = [c.sql for c in rotated.front.calls if c.sql.startswith("ALTER ROLE")]
    assert len(altered) == 1 and "SCRAM-SHA-256$" in altered[0]
    assert all(new not in c.sql for c in rotated.front.calls)
    # And the test step compared the stored verifier with the new password
    outcomes = {r.__dict__.get("step"): r.__dict__.get("outcome") for r in caplog.records}
    assert outcomes["testSecret"] == "verified"


def test_every_step_run_again_changes_nothing(rotated: Rotated) -> None:
    # Given a rotation started
    token = begin_rotation(rotated.arn)
    # When each step runs twice (Secrets Manager retries), then the whole rotation once more
    rotated.step("createSecret", token)
    pending = rotated.value(VersionId=token, VersionStage="AWSPENDING")
    rotated.step("createSecret", token)
    # Then the pending value is the one created first
    assert rotated.value(VersionId=token, VersionStage="AWSPENDING") == pending
    for step in STEPS[1:]:
        rotated.step(step, token)
        rotated.step(step, token)
    for step in STEPS:
        rotated.step(step, token)
    # And the version is current, nothing is left pending, and the role logs in with it
    assert stages(rotated.secrets, rotated.arn)[token] == ["AWSCURRENT"]
    assert not [v for v, s in stages(rotated.secrets, rotated.arn).items() if "AWSPENDING" in s]
    assert rotated.value(VersionStage="AWSCURRENT") == pending
    assert rotated.logs_in(pending["password"])


def test_a_paused_cluster_is_retried_until_it_resumes(rotated: Rotated) -> None:
    # Given a created pending version and a cluster answering "resuming" to the next 3 calls
    token = begin_rotation(rotated.arn)
    rotated.step("createSecret", token)
    rotated.front.fail_next(3)
    # When setSecret runs
    rotated.step("setSecret", token)
    # Then it waited with growing delays and set the password
    assert [c.answered for c in rotated.front.calls][:4] == [RESUMING] * 3 + ["ok"]
    assert len(rotated.sleeps) == 3 and rotated.sleeps == sorted(rotated.sleeps)
    assert rotated.logs_in(rotated.value(VersionId=token, VersionStage="AWSPENDING")["password"])


def test_a_failed_set_keeps_the_current_password_and_a_retry_completes(
    rotated: Rotated, postgres: Postgres
) -> None:
    # Given an admin secret for a role that may not change other roles' passwords
    weak_password = secrets.token_hex(12)
    weak = rotated.front.add_secret(postgres.create_role(weak_password), weak_password)
    token = begin_rotation(rotated.arn)
    rotated.step("createSecret", token)
    # When setSecret runs as that role
    with pytest.raises(SchemaError) as failure:
        rotated.step("setSecret", token, admin_secret_arn=weak)
    # Then the database's refusal fails the step at once
    assert "permission denied" in str(failure.value) and rotated.sleeps == []
    # And the current version and the old password still work
    assert rotated.value(VersionStage="AWSCURRENT")["password"] == rotated.old_password
    assert rotated.logs_in(rotated.old_password)
    # When Secrets Manager retries the rotation with the right admin
    for step in STEPS:
        rotated.step(step, token)
    # Then it completes with the pending password
    new = rotated.value(VersionStage="AWSCURRENT")["password"]
    assert new != rotated.old_password and rotated.logs_in(new)


def test_the_test_step_catches_a_password_that_was_not_set(rotated: Rotated) -> None:
    # Given a pending password set, then changed in the database behind the rotation's back
    token = begin_rotation(rotated.arn)
    rotated.step("createSecret", token)
    rotated.step("setSecret", token)
    rotated.postgres.query(DATABASE, f"ALTER ROLE {rotated.role} PASSWORD 'something-else-1'")
    # When testSecret runs
    with pytest.raises(RotationError) as failure:
        rotated.step("testSecret", token)
    # Then it fails, and the current version stays the old one
    assert "not the pending one" in str(failure.value)
    assert rotated.value(VersionStage="AWSCURRENT")["password"] == rotated.old_password


def test_without_pg_authid_the_test_step_checks_the_login_role(
    rotated: Rotated, postgres: Postgres, caplog: pytest.LogCaptureFixture
) -> None:
    # Given an admin like Aurora's master user: CREATEROLE but not a superuser, owning the role
    admin_password = secrets.token_hex(12)
    admin = f"admin_{secrets.token_hex(4)}"
    postgres.query(
        DATABASE, f"CREATE ROLE {admin} LOGIN CREATEROLE NOSUPERUSER PASSWORD '{admin_password}'"
    )
    role_password = secrets.token_hex(12)
    con = postgres.connect(DATABASE, admin, admin_password)
    try:
        role = f"role_{secrets.token_hex(4)}"
        con.run(f"CREATE ROLE {role} LOGIN PASSWORD '{role_password}'")
    finally:
        con.close()
    rotated.secrets.put_secret_value(
        SecretId=rotated.arn,
        SecretString=json.dumps({"username": role, "password": role_password}),
    )
    rotated.role, rotated.old_password = role, role_password
    rotated.settings = rotated.settings.model_copy(
        update={"admin_secret_arn": rotated.front.add_secret(admin, admin_password)}
    )
    caplog.set_level(logging.INFO)
    # When Secrets Manager rotates the secret
    rotated.rotate()
    # Then the test step could only check the role, and the rotation completed
    outcomes = {r.__dict__.get("step"): r.__dict__.get("outcome") for r in caplog.records}
    assert outcomes["testSecret"] == "role-checked"
    new = rotated.value(VersionStage="AWSCURRENT")["password"]
    assert rotated.logs_in(new) and not rotated.logs_in(role_password)


def test_no_password_appears_in_any_log_line(
    rotated: Rotated,
    postgres: Postgres,
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO)
    # Given a rotation whose setSecret fails once (an error is logged), then succeeds
    weak_password = secrets.token_hex(12)
    weak = rotated.front.add_secret(postgres.create_role(weak_password), weak_password)
    token = begin_rotation(rotated.arn)
    rotated.step("createSecret", token)
    with pytest.raises(SchemaError):
        rotated.step("setSecret", token, admin_secret_arn=weak)
    for step in STEPS:
        rotated.step(step, token)
    # When the logs are read
    text = capsys.readouterr().out + "".join(str(r.__dict__) for r in caplog.records)
    # Then every step was logged, the failure too, without either password
    assert text.count("rotation step ran") >= len(STEPS) and "rotation step failed" in text
    new = rotated.value(VersionStage="AWSCURRENT")["password"]
    assert new not in text and rotated.old_password not in text


def test_another_secret_or_a_version_not_pending_is_refused(rotated: Rotated) -> None:
    # Given a rotation started, and another secret in the account
    token = begin_rotation(rotated.arn)
    other = rotated.secrets.create_secret(Name="kit-test-other", SecretString="{}")["ARN"]
    # When the function is asked to rotate the other secret
    with pytest.raises(RotationError) as foreign:
        rotated.step("createSecret", token, secret_id=other)
    # Then it refuses, naming the one secret it rotates
    assert f"rotates {rotated.arn} only" in str(foreign.value)
    # And a version id the rotation did not create is refused
    with pytest.raises(RotationError) as unknown:
        rotated.step("createSecret", "00000000-0000-4000-8000-000000000000")
    assert "no version" in str(unknown.value)
    # And nothing was written: the pending version still has no value
    with pytest.raises(rotated.secrets.exceptions.ResourceNotFoundException):
        rotated.value(VersionId=token, VersionStage="AWSPENDING")
    assert rotated.value(VersionStage="AWSCURRENT")["password"] == rotated.old_password
