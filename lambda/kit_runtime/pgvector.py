"""The Aurora pgvector table a knowledge base writes to, created through the RDS Data API.

Pure logic over an injected ``rds-data`` client: the statements Bedrock's Aurora setup needs
(the ``vector`` extension, the schema, the table with the column names of
:class:`~kit_runtime.contracts.pgvector.PgvectorTable`, an HNSW cosine index on the vector,
the ``to_tsvector('simple', ...)`` GIN index hybrid search needs and a GIN index on the custom
metadata), each idempotent, and optionally the login role Bedrock connects as.

Retry (botocore ``rds-data`` 2018-08-01 model, checked 2026-12-01): while an auto-paused
Aurora Serverless v2 cluster resumes, ``ExecuteStatement`` answers
``DatabaseResumingException`` (HTTP 400): "Wait a few seconds and try again". That error and
throttling are retried with a doubling delay while the function has time left; nothing else is
(a statement error would fail again).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import secrets
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from botocore.exceptions import ClientError

from kit_runtime.contracts.pgvector import IDENTIFIER, PgvectorTable

RESUMING = "DatabaseResumingException"
# The throttling codes of botocore's standard retry mode (botocore/retries/standard.py) that
# name throttling itself; the Data API models none, so any of them is taken as throttling.
THROTTLING = frozenset(
    {
        "Throttling",
        "ThrottlingException",
        "ThrottledException",
        "RequestThrottledException",
        "TooManyRequestsException",
        "RequestLimitExceeded",
        "RequestThrottled",
    }
)
RETRYABLE = THROTTLING | {RESUMING}

SqlValue = str | int | float | bool | None


class SchemaError(Exception):
    """The schema cannot be set up; ``str()`` says what is wrong and what to do."""


class DimensionChangeError(SchemaError):
    """The table exists with another vector size than the embedding model's."""


class ClusterNotReadyError(SchemaError):
    """The cluster kept answering "resuming" (or throttling) until the time ran out."""


@dataclass(frozen=True)
class Backoff:
    """Delays between retries of a resuming (or throttled) call.

    Attributes
    ----------
    first_seconds, max_seconds:
        The first delay; each next one doubles, up to ``max_seconds``.
    reserve_seconds:
        Time kept for the last call and the answer to CloudFormation: no wait starts that
        would leave less.
    """

    first_seconds: float = 1.0
    max_seconds: float = 8.0
    reserve_seconds: float = 10.0

    def delay(self, attempt: int) -> float:
        """The wait after the ``attempt``-th retryable answer (0-based)."""
        return float(min(self.first_seconds * (2**attempt), self.max_seconds))


@dataclass(frozen=True)
class Statement:
    """One SQL statement and what it is for (logged and named in errors instead of the SQL).

    Attributes
    ----------
    purpose:
        A short description, e.g. ``"HNSW index on embedding"``.
    sql:
        The statement (never logged: the role statement carries a password verifier).
    parameters:
        Named parameters (``:name`` in ``sql``), sent as Data API ``SqlParameter`` values.
    """

    purpose: str
    sql: str
    parameters: Mapping[str, SqlValue] = field(default_factory=dict)


@dataclass(frozen=True)
class DbUser:
    """The login role Bedrock connects as, read from its secret."""

    name: str
    password: str = field(repr=False)
    rotating: bool = False
    """A rotation of the secret is under way (an ``AWSPENDING`` version exists): the rotation
    function owns the password, so an existing role keeps the one it has."""


class DataApi:
    """``ExecuteStatement`` on one cluster and database, as one secret, retrying a resume.

    Parameters
    ----------
    client:
        A boto3 ``rds-data`` client (best built without botocore retries: this class retries).
    cluster_arn, secret_arn, database:
        The Data API's ``resourceArn``, ``secretArn`` and ``database``.
    remaining_seconds:
        The time the function has left (``context.get_remaining_time_in_millis() / 1000``).
    backoff:
        The retry delays.
    sleep:
        Waits (tests pass a recorder).
    on_retry:
        Called with the error code, the attempt and the delay before each wait (logging).
    """

    def __init__(
        self,
        client: Any,
        *,
        cluster_arn: str,
        secret_arn: str,
        database: str,
        remaining_seconds: Callable[[], float],
        backoff: Backoff | None = None,
        sleep: Callable[[float], None] = time.sleep,
        on_retry: Callable[[str, int, float], None] | None = None,
    ) -> None:
        self._client = client
        self._target = {"resourceArn": cluster_arn, "secretArn": secret_arn, "database": database}
        self._remaining = remaining_seconds
        self._backoff = backoff or Backoff()
        self._sleep = sleep
        self._on_retry = on_retry

    def run(self, statement: Statement) -> list[dict[str, Any]]:
        """Execute ``statement``; its rows as ``{column: value}`` (none for DDL).

        Raises
        ------
        ClusterNotReadyError
            The cluster kept resuming (or the API throttling) until the time ran out.
        SchemaError
            The Data API refused the statement; the message names its purpose and the error.
        """
        request: dict[str, Any] = {
            **self._target,
            "sql": statement.sql,
            "includeResultMetadata": True,
        }
        if statement.parameters:
            request["parameters"] = [
                {"name": k, "value": _field(v)} for k, v in statement.parameters.items()
            ]
        waited = 0.0
        attempt = 0
        while True:
            try:
                response = self._client.execute_statement(**request)
            except ClientError as exc:
                error = exc.response.get("Error", {})
                code = str(error.get("Code", ""))
                if code not in RETRYABLE:
                    raise SchemaError(
                        f"{statement.purpose}: the Data API answered {code or 'an error'}: "
                        f"{error.get('Message', '')}"
                    ) from None
                delay = self._backoff.delay(attempt)
                if self._remaining() - delay < self._backoff.reserve_seconds:
                    raise ClusterNotReadyError(
                        f"{statement.purpose}: the Data API still answered {code} after "
                        f"{attempt + 1} attempt(s) over {waited:.0f}s and the function's time "
                        "is nearly up. A paused Aurora Serverless v2 cluster resumes on its "
                        "own: deploy again in a minute."
                    ) from None
                if self._on_retry is not None:
                    self._on_retry(code, attempt + 1, delay)
                self._sleep(delay)
                waited += delay
                attempt += 1
                continue
            return _rows(response)


def _field(value: SqlValue) -> dict[str, Any]:
    if value is None:
        return {"isNull": True}
    if isinstance(value, bool):
        return {"booleanValue": value}
    if isinstance(value, int):
        return {"longValue": value}
    if isinstance(value, float):
        return {"doubleValue": value}
    return {"stringValue": value}


def _value(field_: Mapping[str, Any]) -> Any:
    if field_.get("isNull"):
        return None
    for key in ("stringValue", "longValue", "doubleValue", "booleanValue", "blobValue"):
        if key in field_:
            return field_[key]
    return None


def _rows(response: Mapping[str, Any]) -> list[dict[str, Any]]:
    names = [c.get("label") or c.get("name") for c in response.get("columnMetadata", [])]
    return [
        {name: _value(f) for name, f in zip(names, record, strict=True)}
        for record in response.get("records", [])
    ]


def _quoted(identifier: str) -> str:
    # The contract already limits names to [a-z_][a-z0-9_]*; quoting also keeps reserved
    # words (a table named "user") working, and equals the unquoted lowercase name.
    return f'"{identifier}"'


def _index_name(table: PgvectorTable, suffix: str) -> str:
    # PostgreSQL cuts names at 63 bytes: cut the table part so the suffixes stay distinct.
    return _quoted(f"{table.table[: 63 - len(suffix) - 1]}_{suffix}")


def relation(table: PgvectorTable) -> str:
    """The quoted ``"schema"."table"``."""
    return f"{_quoted(table.schema_name)}.{_quoted(table.table)}"


def expected_columns(table: PgvectorTable) -> dict[str, str]:
    """Column name -> type as ``format_type`` shows it, for the table Bedrock expects."""
    return {
        table.id_column: "uuid",
        table.vector_column: f"vector({table.dimensions})",
        table.text_column: "text",
        table.metadata_column: "json",
        table.custom_metadata_column: "jsonb",
    }


def schema_statements(table: PgvectorTable) -> list[Statement]:
    """The idempotent statements creating the extension, schema, table and indexes."""
    rel = relation(table)
    columns = ", ".join(
        f"{_quoted(name)} {type_}{' PRIMARY KEY' if name == table.id_column else ''}"
        for name, type_ in expected_columns(table).items()
    )
    vector, text = _quoted(table.vector_column), _quoted(table.text_column)
    custom = _quoted(table.custom_metadata_column)
    return [
        Statement("vector extension", "CREATE EXTENSION IF NOT EXISTS vector"),
        Statement(
            f"schema {table.schema_name}",
            f"CREATE SCHEMA IF NOT EXISTS {_quoted(table.schema_name)}",
        ),
        Statement(f"table {table.qualified_name}", f"CREATE TABLE IF NOT EXISTS {rel} ({columns})"),
        Statement(
            f"HNSW cosine index on {table.vector_column}",
            f"CREATE INDEX IF NOT EXISTS {_index_name(table, 'hnsw')} ON {rel} "
            f"USING hnsw ({vector} vector_cosine_ops)",
        ),
        Statement(
            f"text-search index on {table.text_column}",
            f"CREATE INDEX IF NOT EXISTS {_index_name(table, 'fts')} ON {rel} "
            f"USING gin (to_tsvector('simple', {text}))",
        ),
        Statement(
            f"GIN index on {table.custom_metadata_column}",
            f"CREATE INDEX IF NOT EXISTS {_index_name(table, 'custom_gin')} ON {rel} "
            f"USING gin ({custom})",
        ),
    ]


def describe_statement(table: PgvectorTable) -> Statement:
    """Reads the table's columns and types (no rows when the table does not exist)."""
    return Statement(
        f"read the columns of {table.qualified_name}",
        "SELECT a.attname AS name, format_type(a.atttypid, a.atttypmod) AS type "
        "FROM pg_catalog.pg_attribute a "
        "WHERE a.attrelid = to_regclass(:relation) AND a.attnum > 0 AND NOT a.attisdropped",
        {"relation": relation(table)},
    )


def check_existing(table: PgvectorTable, found: Mapping[str, str]) -> None:
    """Fail when an existing table cannot serve as ``table`` (nothing to check if absent).

    Raises
    ------
    DimensionChangeError
        The vector column has another size.
    SchemaError
        A column Bedrock writes is missing or has another type.
    """
    if not found:
        return
    want = expected_columns(table)
    have = found.get(table.vector_column)
    if have is not None and have.startswith("vector(") and have != want[table.vector_column]:
        raise DimensionChangeError(
            f"{table.qualified_name}.{table.vector_column} holds {have} but the embedding "
            f"model gives {table.dimensions} dimensions. A vector size cannot change in place: "
            "an embedding model with another size needs a new knowledge base and a new table "
            "(another table name), then a new ingestion. The existing table and its vectors "
            "are kept."
        )
    wrong = [
        f"{name} is {found.get(name, 'missing')} (expected {type_})"
        for name, type_ in want.items()
        if found.get(name) != type_
    ]
    if wrong:
        raise SchemaError(
            f"{table.qualified_name} exists but does not have the columns Bedrock writes: "
            f"{'; '.join(wrong)}. Give the knowledge base another table name, or fix or drop "
            "this table."
        )


def scram_verifier(password: str, *, salt: bytes | None = None, iterations: int = 4096) -> str:
    """The SCRAM-SHA-256 verifier PostgreSQL stores for ``password`` (RFC 5802/7677).

    ``CREATE ROLE ... PASSWORD`` stores a string already in this form as is (PostgreSQL docs,
    CREATE ROLE, "ENCRYPTED"), so the clear password never reaches the database or its logs.

    Raises
    ------
    SchemaError
        The password is not printable ASCII (PostgreSQL would SASLprep it first).
    """
    if not password or not password.isascii() or not password.isprintable():
        raise SchemaError(
            "the database user's secret must hold a printable ASCII password (the kit "
            "generates one)"
        )
    salt = salt if salt is not None else secrets.token_bytes(16)
    salted = hashlib.pbkdf2_hmac("sha256", password.encode(), salt, iterations)
    client_key = hmac.new(salted, b"Client Key", hashlib.sha256).digest()
    stored_key = hashlib.sha256(client_key).digest()
    server_key = hmac.new(salted, b"Server Key", hashlib.sha256).digest()

    def b64(raw: bytes) -> str:
        return base64.b64encode(raw).decode()

    return f"SCRAM-SHA-256${iterations}:{b64(salt)}${b64(stored_key)}:{b64(server_key)}"


def check_role_name(name: str) -> None:
    """Fail unless ``name`` is a lowercase PostgreSQL identifier the kit may quote.

    Raises
    ------
    SchemaError
        Naming the value and what is allowed.
    """
    if not _matches(IDENTIFIER, name):
        raise SchemaError(
            f"the database user's secret names {name!r}: expected a lowercase "
            "PostgreSQL identifier (letters, digits, underscores)"
        )


def password_statement(user: DbUser, *, exists: bool) -> Statement:
    """``CREATE`` (or ``ALTER``) ``ROLE ... WITH LOGIN PASSWORD '<SCRAM verifier>'``.

    Only the verifier reaches PostgreSQL (see :func:`scram_verifier`); a new random salt each
    time, so running it again with the same password changes nothing a login can tell.
    """
    check_role_name(user.name)
    verb = "ALTER" if exists else "CREATE"
    return Statement(
        f"{verb.lower()} login role {user.name}",
        f"{verb} ROLE {_quoted(user.name)} WITH LOGIN PASSWORD '{scram_verifier(user.password)}'",
    )


def role_lookup(name: str) -> Statement:
    """One row (``found``) when the role ``name`` exists."""
    return Statement(
        f"look up role {name}",
        "SELECT 1 AS found FROM pg_catalog.pg_roles WHERE rolname = :name",
        {"name": name},
    )


def verifier_matches(verifier: str, password: str) -> bool:
    """Whether a stored ``SCRAM-SHA-256$<iterations>:<salt>$<stored>:<server>`` is ``password``'s.

    Recomputes the verifier with the stored salt and iteration count; anything that is not a
    SCRAM-SHA-256 verifier (an MD5 hash, none) does not match.
    """
    match = re.fullmatch(r"SCRAM-SHA-256\$(\d+):([A-Za-z0-9+/=]+)\$[A-Za-z0-9+/=:]+", verifier)
    if match is None:
        return False
    try:
        salt = base64.b64decode(match.group(2), validate=True)
        expected = scram_verifier(password, salt=salt, iterations=int(match.group(1)))
    except (ValueError, SchemaError):
        return False
    return hmac.compare_digest(expected.encode(), verifier.encode())


def user_statements(table: PgvectorTable, user: DbUser, *, exists: bool) -> list[Statement]:
    """Create (or re-password) ``user``, grant it the schema and make it the table's owner.

    The grants follow the Bedrock user guide's Aurora set-up (``GRANT ALL ON SCHEMA`` to the
    role that then creates, and so owns, the table): what Bedrock checks when it creates the
    knowledge base is not documented, so the kit gives exactly what the guide gives. The role
    owns this one table and nothing else of the database.
    """
    role = _quoted(user.name)
    # During a rotation the database may already hold the pending password (setSecret ran):
    # writing the current one back would leave the rotated secret unable to log in.
    password = [] if exists and user.rotating else [password_statement(user, exists=exists)]
    return [
        *password,
        Statement(
            f"schema privileges for {user.name}",
            f"GRANT ALL ON SCHEMA {_quoted(table.schema_name)} TO {role}",
        ),
        Statement(
            f"table owner {user.name}",
            f"ALTER TABLE {relation(table)} OWNER TO {role}",
        ),
    ]


def _matches(pattern: str, value: str) -> bool:
    return re.fullmatch(pattern, value) is not None


@dataclass(frozen=True)
class SchemaResult:
    """What :func:`ensure_schema` found and ran.

    Attributes
    ----------
    table_existed:
        The table was there before (an update or a re-run).
    statements:
        The purposes of the statements run, in order.
    """

    table_existed: bool
    statements: tuple[str, ...]


def ensure_schema(
    api: DataApi,
    table: PgvectorTable,
    *,
    user: DbUser | None = None,
    on_statement: Callable[[str], None] | None = None,
) -> SchemaResult:
    """Make the cluster hold ``table`` as Bedrock expects; safe to run again.

    The existing table, if any, is checked first, so a vector size change fails before
    anything is run.

    Raises
    ------
    DimensionChangeError, SchemaError, ClusterNotReadyError
        With a message naming what to do.
    """
    found = {r["name"]: r["type"] for r in api.run(describe_statement(table))}
    check_existing(table, found)
    plan = schema_statements(table)
    if user is not None:
        rows = api.run(role_lookup(user.name))
        plan += user_statements(table, user, exists=bool(rows))
    for statement in plan:
        if on_statement is not None:
            on_statement(statement.purpose)
        api.run(statement)
    return SchemaResult(table_existed=bool(found), statements=tuple(s.purpose for s in plan))


def read_user(secret: Mapping[str, Any]) -> DbUser:
    """The role name and password of a ``GetSecretValue`` answer (JSON ``SecretString``).

    Raises
    ------
    SchemaError
        The secret is not a JSON object with ``username`` and ``password`` strings (the
        message never contains the secret's content).
    """
    try:
        value = json.loads(secret.get("SecretString") or "")
    except ValueError:
        value = None
    if (
        not isinstance(value, dict)
        or not isinstance(value.get("username"), str)
        or not isinstance(value.get("password"), str)
    ):
        raise SchemaError(
            f"secret {secret.get('ARN', '')}: expected a JSON object with 'username' and "
            "'password' strings"
        )
    return DbUser(name=value["username"], password=value["password"])


__all__ = [
    "RESUMING",
    "RETRYABLE",
    "THROTTLING",
    "Backoff",
    "ClusterNotReadyError",
    "DataApi",
    "DbUser",
    "DimensionChangeError",
    "SchemaError",
    "SchemaResult",
    "Statement",
    "check_existing",
    "check_role_name",
    "describe_statement",
    "ensure_schema",
    "expected_columns",
    "cluster_clients",
    "password_statement",
    "read_user",
    "relation",
    "role_lookup",
    "schema_statements",
    "scram_verifier",
    "user_statements",
    "verifier_matches",
]


def cluster_clients(cluster_arn: str) -> tuple[Any, Any]:
    """The ``rds-data`` and ``secretsmanager`` clients of the cluster's region.

    The Data API client has botocore's retries off: :class:`DataApi` retries a resuming cluster
    and throttling itself, within the function's time (the two would multiply).
    """
    import boto3
    from botocore.config import Config

    parts = cluster_arn.split(":")
    region = parts[3] if len(parts) > 3 and parts[3] else None
    data = boto3.client(
        "rds-data", region_name=region, config=Config(retries={"total_max_attempts": 1})
    )
    return data, boto3.client("secretsmanager", region_name=region)
