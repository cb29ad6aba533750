"""Rotation of the Bedrock user's Aurora password through the RDS Data API (no network path).

Secrets Manager calls a rotation function four times per rotation, each with ``Step``,
``SecretId`` and ``ClientRequestToken`` (the new version's id): ``createSecret`` puts a new
value labelled ``AWSPENDING``, ``setSecret`` sets it in the database, ``testSecret`` checks it
and ``finishSecret`` moves ``AWSCURRENT`` to it (AWS Secrets Manager user guide, "Rotation by
Lambda function" and "Lambda rotation functions", docs.aws.amazon.com/secretsmanager/latest/
userguide/rotate-secrets_lambda.html, checked 2026-12-01). Each step is idempotent the way
AWS's rotation templates make it (aws-samples/aws-secrets-manager-rotation-lambdas,
``SecretsManagerRotationTemplate``): a version already ``AWSCURRENT`` is done, a version
without ``AWSPENDING`` is refused, an existing pending value is kept.

The single-user strategy: the role keeps its name, only its password changes. The password is
set as a SCRAM-SHA-256 verifier (:func:`kit_runtime.pgvector.password_statement`) with the
administrative secret, so the clear password never reaches PostgreSQL, and it is never logged.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from botocore.exceptions import ClientError

from kit_runtime.pgvector import (
    DataApi,
    DbUser,
    SchemaError,
    Statement,
    check_role_name,
    password_statement,
    read_user,
    role_lookup,
    verifier_matches,
)

Step = Literal["createSecret", "setSecret", "testSecret", "finishSecret"]
STEPS: tuple[Step, ...] = ("createSecret", "setSecret", "testSecret", "finishSecret")
CURRENT, PENDING = "AWSCURRENT", "AWSPENDING"
PASSWORD_LENGTH = 40
"""Like the generated secret (``PgvectorSchema``): 40 letters and digits, no punctuation."""


class RotationError(Exception):
    """A rotation step cannot run; ``str()`` says why (never with a secret's value)."""


@dataclass(frozen=True)
class RotationRequest:
    """One invocation by Secrets Manager.

    Attributes
    ----------
    step:
        The rotation step.
    secret_id:
        The secret's ARN.
    token:
        ``ClientRequestToken``: the id of the version being rotated in.
    """

    step: Step
    secret_id: str
    token: str


def parse_request(event: Mapping[str, Any]) -> RotationRequest:
    """The event's ``Step``, ``SecretId`` and ``ClientRequestToken``.

    Raises
    ------
    RotationError
        A field is missing or the step is unknown.
    """
    missing = [k for k in ("Step", "SecretId", "ClientRequestToken") if not event.get(k)]
    if missing:
        raise RotationError(f"rotation event: missing {', '.join(missing)}")
    step = event["Step"]
    if step not in STEPS:
        raise RotationError(f"rotation event: unknown Step {step!r} (expected one of {STEPS})")
    return RotationRequest(
        step=step, secret_id=event["SecretId"], token=event["ClientRequestToken"]
    )


@dataclass(frozen=True)
class StepResult:
    """What a step did, for the log (no secret values).

    Attributes
    ----------
    step:
        The step.
    outcome:
        ``done``; ``already-current`` (the version was rotated in already); ``pending-kept``
        (createSecret found the pending value); ``verified`` (testSecret compared the stored
        verifier); ``role-checked`` (testSecret could only check the role: see
        :func:`test_secret`).
    """

    step: Step
    outcome: str


class Rotation:
    """The four steps for one secret of the Bedrock user.

    Parameters
    ----------
    secrets:
        A boto3 ``secretsmanager`` client.
    api:
        The Data API on the user's cluster, as the administrative secret.
    user_secret_arn:
        The one secret this function may rotate.
    """

    def __init__(self, secrets: Any, api: DataApi, *, user_secret_arn: str) -> None:
        self._secrets = secrets
        self._api = api
        self._user_secret_arn = user_secret_arn

    def run(self, request: RotationRequest) -> StepResult:
        """Run ``request.step``; safe to call again with the same request.

        Raises
        ------
        RotationError
            The secret is not this function's, rotation is off, the version is not pending,
            or the step failed (the message says which and why).
        SchemaError
            The Data API refused a statement or the cluster did not resume in time.
        """
        if request.secret_id != self._user_secret_arn:
            raise RotationError(
                f"this function rotates {self._user_secret_arn} only, not {request.secret_id}"
            )
        stages = self._stages(request)
        if CURRENT in stages:
            return StepResult(request.step, "already-current")
        if PENDING not in stages:
            raise RotationError(
                f"version {request.token} of {request.secret_id} is not {PENDING}: a newer "
                "rotation replaced it"
            )
        step: dict[Step, Callable[[RotationRequest], str]] = {
            "createSecret": self.create_secret,
            "setSecret": self.set_secret,
            "testSecret": self.test_secret,
            "finishSecret": self.finish_secret,
        }
        return StepResult(request.step, step[request.step](request))

    def _describe(self, secret_id: str) -> Mapping[str, Any]:
        return self._call("DescribeSecret", self._secrets.describe_secret, SecretId=secret_id)

    def _stages(self, request: RotationRequest) -> list[str]:
        metadata = self._describe(request.secret_id)
        if not metadata.get("RotationEnabled"):
            raise RotationError(f"rotation is not enabled on {request.secret_id}")
        versions: Mapping[str, list[str]] = metadata.get("VersionIdsToStages") or {}
        if request.token not in versions:
            raise RotationError(f"{request.secret_id} has no version {request.token} to rotate in")
        return list(versions[request.token])

    def _value(self, secret_id: str, **version: str) -> dict[str, Any]:
        answer = self._call(
            "GetSecretValue", self._secrets.get_secret_value, SecretId=secret_id, **version
        )
        read_user(answer)  # a JSON object with username and password strings, or a clear error
        value: dict[str, Any] = json.loads(answer["SecretString"])
        return value

    def _pending_user(self, request: RotationRequest) -> DbUser:
        value = self._value(request.secret_id, VersionId=request.token, VersionStage=PENDING)
        current = self._value(request.secret_id, VersionStage=CURRENT)
        if value["username"] != current["username"]:
            raise RotationError(
                f"the pending version of {request.secret_id} names another user than the "
                "current one: single-user rotation changes only the password"
            )
        check_role_name(value["username"])
        return DbUser(name=value["username"], password=value["password"])

    def create_secret(self, request: RotationRequest) -> str:
        """Put a new password (same username and other fields) as the pending version."""
        current = self._value(request.secret_id, VersionStage=CURRENT)
        try:
            self._secrets.get_secret_value(
                SecretId=request.secret_id, VersionId=request.token, VersionStage=PENDING
            )
            return "pending-kept"
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") != "ResourceNotFoundException":
                raise _error("GetSecretValue", exc) from None
        password = self._call(
            "GetRandomPassword",
            self._secrets.get_random_password,
            PasswordLength=PASSWORD_LENGTH,
            ExcludePunctuation=True,
            IncludeSpace=False,
        )["RandomPassword"]
        self._call(
            "PutSecretValue",
            self._secrets.put_secret_value,
            SecretId=request.secret_id,
            ClientRequestToken=request.token,
            SecretString=json.dumps({**current, "password": password}),
            VersionStages=[PENDING],
        )
        return "done"

    def set_secret(self, request: RotationRequest) -> str:
        """Set the pending password on the role, as its SCRAM verifier, through the Data API."""
        user = self._pending_user(request)
        if not self._api.run(role_lookup(user.name)):
            raise RotationError(
                f"role {user.name} does not exist in the cluster: the schema custom resource "
                "creates it; deploy the Knowledge stack first"
            )
        self._api.run(password_statement(user, exists=True))
        return "done"

    def test_secret(self, request: RotationRequest) -> str:
        """Check the pending password took effect, as far as the Data API can tell.

        The function has no network path to the cluster, so it cannot log in as the role (the
        Data API only takes a secret's ``AWSCURRENT`` value). Where the administrative user may
        read ``pg_authid`` (a superuser), the stored verifier is recomputed from the pending
        password and compared. Aurora's master user is not a superuser (``NOSUPERUSER``,
        Aurora user guide "Understanding the rds_superuser role"), and PostgreSQL keeps
        ``pg_authid`` to superusers, so there only the role's existence and login right are
        checked: a wrong verifier would show as Bedrock's next failed login.
        """
        user = self._pending_user(request)
        readable = self._api.run(
            Statement(
                "may the admin read pg_authid",
                "SELECT has_table_privilege('pg_catalog.pg_authid', 'SELECT') AS readable",
            )
        )
        if readable and readable[0].get("readable"):
            rows = self._api.run(
                Statement(
                    f"read the verifier of {user.name}",
                    "SELECT rolpassword AS verifier, rolcanlogin AS login "
                    "FROM pg_catalog.pg_authid WHERE rolname = :name",
                    {"name": user.name},
                )
            )
            if not rows or not rows[0].get("login"):
                raise RotationError(f"role {user.name} is missing or may not log in")
            if not verifier_matches(str(rows[0].get("verifier") or ""), user.password):
                raise RotationError(
                    f"the password stored for {user.name} is not the pending one: setSecret "
                    "did not take effect"
                )
            return "verified"
        rows = self._api.run(
            Statement(
                f"check login role {user.name}",
                "SELECT rolcanlogin AS login, "
                "(rolvaliduntil IS NULL OR rolvaliduntil > now()) AS valid "
                "FROM pg_catalog.pg_roles WHERE rolname = :name",
                {"name": user.name},
            )
        )
        if not rows or not rows[0].get("login") or not rows[0].get("valid"):
            raise RotationError(f"role {user.name} is missing, may not log in or has expired")
        return "role-checked"

    def finish_secret(self, request: RotationRequest) -> str:
        """Move ``AWSCURRENT`` to the pending version and take ``AWSPENDING`` off it."""
        versions: Mapping[str, list[str]] = (
            self._describe(request.secret_id).get("VersionIdsToStages") or {}
        )
        current = next((v for v, stages in versions.items() if CURRENT in stages), None)
        if current == request.token:
            return "already-current"
        previous = {"RemoveFromVersionId": current} if current is not None else {}
        self._call(
            "UpdateSecretVersionStage",
            self._secrets.update_secret_version_stage,
            SecretId=request.secret_id,
            VersionStage=CURRENT,
            MoveToVersionId=request.token,
            **previous,
        )
        self._call(
            "UpdateSecretVersionStage",
            self._secrets.update_secret_version_stage,
            SecretId=request.secret_id,
            VersionStage=PENDING,
            RemoveFromVersionId=request.token,
        )
        return "done"

    @staticmethod
    def _call(name: str, method: Callable[..., Any], **kwargs: Any) -> Any:
        try:
            return method(**kwargs)
        except ClientError as exc:
            raise _error(name, exc) from None


def _error(operation: str, exc: ClientError) -> RotationError:
    # Secrets Manager's error messages name versions and labels, never values.
    error = exc.response.get("Error", {})
    return RotationError(
        f"{operation}: {error.get('Code', 'error')}: {error.get('Message', '')}".rstrip(": ")
    )


__all__ = [
    "PASSWORD_LENGTH",
    "STEPS",
    "Rotation",
    "RotationError",
    "RotationRequest",
    "SchemaError",
    "StepResult",
    "parse_request",
]
