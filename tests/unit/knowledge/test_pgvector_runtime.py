"""Pure parts of the pgvector schema: statements, existing-table checks, retries, secrets."""

from __future__ import annotations

import base64
import hashlib
import hmac
from typing import Any

import pytest
from botocore.exceptions import ClientError

from handlers.pgvector_schema import parse_properties, physical_id
from kit_runtime.contracts.pgvector import PgvectorTable
from kit_runtime.pgvector import (
    RESUMING,
    Backoff,
    ClusterNotReadyError,
    DataApi,
    DbUser,
    DimensionChangeError,
    SchemaError,
    Statement,
    check_existing,
    expected_columns,
    read_user,
    schema_statements,
    scram_verifier,
    user_statements,
)

TABLE = PgvectorTable(dimensions=1024)


def _error(code: str) -> ClientError:
    return ClientError({"Error": {"Code": code, "Message": f"{code} happened"}}, "ExecuteStatement")


class ScriptedClient:
    """Answers ``execute_statement`` from a script of errors, then with ``answer``."""

    def __init__(self, errors: list[str], answer: dict[str, Any] | None = None) -> None:
        self.errors = list(errors)
        self.answer = answer or {}
        self.requests: list[dict[str, Any]] = []

    def execute_statement(self, **request: Any) -> dict[str, Any]:
        self.requests.append(request)
        if self.errors:
            raise _error(self.errors.pop(0))
        return self.answer


class Clock:
    """A function's remaining time that only the recorded sleeps consume."""

    def __init__(self, remaining: float) -> None:
        self.remaining = remaining
        self.sleeps: list[float] = []

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.remaining -= seconds


def _api(client: ScriptedClient, clock: Clock, backoff: Backoff | None = None) -> DataApi:
    return DataApi(
        client,
        cluster_arn="arn:aws:rds:us-east-1:123456789012:cluster:c",
        secret_arn="arn:aws:secretsmanager:us-east-1:123456789012:secret:s",
        database="bedrock",
        remaining_seconds=lambda: clock.remaining,
        backoff=backoff,
        sleep=clock.sleep,
    )


def test_every_statement_is_idempotent_and_names_the_bedrock_columns() -> None:
    statements = schema_statements(TABLE)
    assert all(" IF NOT EXISTS " in s.sql for s in statements)
    table = next(s.sql for s in statements if s.sql.startswith("CREATE TABLE"))
    for column, type_ in expected_columns(TABLE).items():
        assert f'"{column}" {type_}' in table
    assert '"id" uuid PRIMARY KEY' in table


def test_index_names_stay_distinct_for_the_longest_table_name() -> None:
    # Given a table name at PostgreSQL's 63-byte limit
    table = PgvectorTable(dimensions=8, table="t" * 63)
    # When the index statements are built
    names = [s.sql.split()[5] for s in schema_statements(table) if "INDEX" in s.sql]
    # Then the three names are distinct and within the limit (PostgreSQL would cut them)
    assert len(set(names)) == 3
    assert all(len(n.strip('"')) <= 63 for n in names)


def test_a_missing_table_passes_and_a_matching_one_passes() -> None:
    check_existing(TABLE, {})
    check_existing(TABLE, {**expected_columns(TABLE), "extra": "text"})


def test_another_vector_size_fails_naming_both_sizes_and_the_way_out() -> None:
    found = {**expected_columns(TABLE), "embedding": "vector(1536)"}
    with pytest.raises(DimensionChangeError) as failure:
        check_existing(TABLE, found)
    message = str(failure.value)
    assert "vector(1536)" in message and "1024" in message
    assert "new knowledge base" in message


def test_a_table_without_a_bedrock_column_fails_naming_it() -> None:
    found = {k: v for k, v in expected_columns(TABLE).items() if k != "custom_metadata"}
    with pytest.raises(SchemaError, match="custom_metadata is missing"):
        check_existing(TABLE, found)


def test_resuming_is_retried_with_doubling_delays() -> None:
    # Given a cluster resuming for three calls and plenty of time
    client, clock = ScriptedClient([RESUMING] * 3, {"records": []}), Clock(300)
    # When a statement runs
    _api(client, clock, Backoff(first_seconds=1, max_seconds=8)).run(Statement("s", "SELECT 1"))
    # Then it was sent four times, waiting 1, 2 and 4 s
    assert len(client.requests) == 4
    assert clock.sleeps == [1, 2, 4]


def test_delays_stop_growing_at_the_cap() -> None:
    backoff = Backoff(first_seconds=1, max_seconds=8)
    assert [backoff.delay(n) for n in range(6)] == [1, 2, 4, 8, 8, 8]


def test_retries_stop_before_the_functions_time_runs_out() -> None:
    # Given a cluster that never resumes and 30 s left, 10 of them kept in reserve
    client, clock = ScriptedClient([RESUMING] * 100), Clock(30)
    backoff = Backoff(first_seconds=1, max_seconds=8, reserve_seconds=10)
    # When a statement runs
    with pytest.raises(ClusterNotReadyError, match="deploy again"):
        _api(client, clock, backoff).run(Statement("s", "SELECT 1"))
    # Then no wait ate into the reserve
    assert clock.remaining >= backoff.reserve_seconds
    assert sum(clock.sleeps) <= 30 - backoff.reserve_seconds


@pytest.mark.parametrize(
    "code", ["DatabaseErrorException", "BadRequestException", "StatementTimeoutException"]
)
def test_other_errors_are_not_retried(code: str) -> None:
    client, clock = ScriptedClient([code]), Clock(300)
    with pytest.raises(SchemaError, match=code) as failure:
        _api(client, clock).run(Statement("HNSW index", "CREATE INDEX ..."))
    assert len(client.requests) == 1 and clock.sleeps == []
    # And the error names the statement's purpose
    assert str(failure.value).startswith("HNSW index:")


def test_rows_are_read_by_column_label_with_nulls() -> None:
    answer = {
        "columnMetadata": [{"name": "name", "label": "name"}, {"name": "n", "label": "n"}],
        "records": [
            [{"stringValue": "a"}, {"longValue": 3}],
            [{"stringValue": "b"}, {"isNull": True}],
        ],
    }
    rows = _api(ScriptedClient([], answer), Clock(300)).run(Statement("s", "SELECT"))
    assert rows == [{"name": "a", "n": 3}, {"name": "b", "n": None}]


def test_parameters_are_sent_as_typed_fields() -> None:
    client = ScriptedClient([])
    _api(client, Clock(300)).run(Statement("s", "SELECT :a, :b, :c", {"a": "x", "b": 2, "c": None}))
    assert client.requests[0]["parameters"] == [
        {"name": "a", "value": {"stringValue": "x"}},
        {"name": "b", "value": {"longValue": 2}},
        {"name": "c", "value": {"isNull": True}},
    ]


def _scram_client_proof_ok(verifier: str, password: str) -> bool:
    # What the server checks at login: SHA256(ClientKey) == StoredKey, ClientKey from the
    # password, the verifier's salt and iteration count (RFC 5802).
    _, rest = verifier.split("$", 1)
    iterations_salt, keys = rest.split("$")
    iterations, salt = iterations_salt.split(":")
    stored_key, server_key = (base64.b64decode(k) for k in keys.split(":"))
    salted = hashlib.pbkdf2_hmac(
        "sha256", password.encode(), base64.b64decode(salt), int(iterations)
    )
    client_key = hmac.new(salted, b"Client Key", hashlib.sha256).digest()
    server = hmac.new(salted, b"Server Key", hashlib.sha256).digest()
    return hashlib.sha256(client_key).digest() == stored_key and server == server_key


def test_the_role_statement_carries_a_verifier_not_the_password() -> None:
    user = DbUser(name="bedrock_user", password="CorrectHorseBatteryStaple42")
    role = user_statements(TABLE, user, exists=False)[0]
    assert user.password not in role.sql and user.password not in role.purpose
    verifier = role.sql.split("PASSWORD '")[1].rstrip("'")
    assert verifier.startswith("SCRAM-SHA-256$4096:")
    assert _scram_client_proof_ok(verifier, user.password)
    assert not _scram_client_proof_ok(verifier, "another password")
    # And the password is not in the user's repr either
    assert user.password not in repr(user)


def test_two_verifiers_of_one_password_differ_by_salt() -> None:
    assert scram_verifier("same-password") != scram_verifier("same-password")


def test_an_existing_role_is_altered_and_given_the_schema_and_its_table_as_the_guide_does() -> None:
    statements = user_statements(TABLE, DbUser("bedrock_user", "pw-pw-pw-pw"), exists=True)
    assert statements[0].sql.startswith('ALTER ROLE "bedrock_user" WITH LOGIN PASSWORD')
    grants = [s.sql for s in statements[1:]]
    assert grants == [
        'GRANT ALL ON SCHEMA "bedrock_integration" TO "bedrock_user"',
        'ALTER TABLE "bedrock_integration"."bedrock_kb" OWNER TO "bedrock_user"',
    ]


@pytest.mark.parametrize("name", ["Bedrock", "bedrock-user", "x; DROP TABLE t"])
def test_a_user_name_that_is_not_a_plain_identifier_is_refused(name: str) -> None:
    with pytest.raises(SchemaError, match="lowercase"):
        user_statements(TABLE, DbUser(name, "password"), exists=False)


@pytest.mark.parametrize("password", ["", "pässword", "tab\there"])
def test_a_password_that_is_not_printable_ascii_is_refused(password: str) -> None:
    with pytest.raises(SchemaError, match="printable ASCII"):
        scram_verifier(password)


@pytest.mark.parametrize(
    "secret_string", ["not json", "[]", '{"username": "u"}', '{"username": 1, "password": "p"}']
)
def test_a_malformed_secret_fails_without_showing_its_content(secret_string: str) -> None:
    with pytest.raises(SchemaError) as failure:
        read_user({"ARN": "arn:s", "SecretString": secret_string})
    assert secret_string not in str(failure.value)
    assert "arn:s" in str(failure.value)


def test_properties_from_cloudformation_strings_parse() -> None:
    props = parse_properties(
        {
            "ServiceToken": "arn:aws:lambda:us-east-1:1:function:f",
            "ClusterArn": "arn:aws:rds:us-east-1:123456789012:cluster:kb",
            "SecretArn": "arn:s",
            "Table": {"dimensions": "1024", "database": "bedrock"},
        }
    )
    assert props.Table.dimensions == 1024
    assert physical_id(props) == "pgvector:kb/bedrock/bedrock_integration.bedrock_kb"


@pytest.mark.parametrize(
    ("change", "named"),
    [
        ({"Table": {"dimensions": "1024", "table": "Bad-Name"}}, "Table.table"),
        ({"ClusterArn": ""}, "ClusterArn"),
        ({"Surprise": "x"}, "Surprise"),
    ],
)
def test_bad_properties_name_the_property(change: dict[str, Any], named: str) -> None:
    base: dict[str, Any] = {
        "ClusterArn": "arn:aws:rds:us-east-1:1:cluster:kb",
        "SecretArn": "arn:s",
        "Table": {"dimensions": "1024"},
    }
    with pytest.raises(ValueError, match=named):
        parse_properties({**base, **change})
