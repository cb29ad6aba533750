"""A local RDS Data API front over a real PostgreSQL, for real boto3 ``rds-data`` clients.

Speaks the service's restJson1 protocol (botocore ``rds-data`` 2018-08-01: ``POST /Execute``
-> ``ExecuteStatement``) and, on the same port, Secrets Manager's ``GetSecretValue`` (awsJson1.1,
``X-Amz-Target: secretsmanager.GetSecretValue``, by ``VersionStage``), the one call the schema
function makes::

    with FakeDataApi(postgres) as api:
        arn = api.add_secret("postgres", postgres.admin_password)
        client = boto3.client("rds-data", endpoint_url=api.endpoint_url, ...)
        client.execute_statement(resourceArn=api.cluster_arn, secretArn=arn,
                                 database="db", sql="SELECT 1")

Each call logs in to PostgreSQL with the secret's username and password (so a wrong password
really fails) and runs one statement in autocommit, as the Data API does without a
transaction. ``stringValue`` parameters are sent as ``varchar`` unless a ``typeHint`` names
another type, like the service. Results come back as ``records`` of ``Field`` values and, with
``includeResultMetadata``, ``columnMetadata`` (``type`` is the JDBC ``java.sql.Types`` code
PgJDBC reports; the service's exact codes per type are not documented: unverified).

``fail_next(n)`` makes the next ``n`` calls answer ``DatabaseResumingException`` the way the
service does (HTTP status from the service model, ``x-amzn-ErrorType`` header, JSON message).
"""

from __future__ import annotations

import base64
import datetime as dt
import decimal
import gzip
import json
import socket
import threading
import uuid
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any

import botocore
import pg8000.exceptions
import pg8000.native

from tests.support.local_server import LocalServer
from tests.support.postgres import Postgres

CLUSTER_ARN = "arn:aws:rds:us-east-1:123456789012:cluster:kit-test-kb"
RESUMING = "DatabaseResumingException"
_MODEL = Path(botocore.__file__).parent / "data" / "rds-data" / "2018-08-01" / "service-2.json.gz"
# Message of the modeled exception (botocore's documentation of the shape).
RESUMING_MESSAGE = (
    "A request was cancelled because the Aurora Serverless DB instance was paused. The Data "
    "API request automatically resumes the DB instance. Wait a few seconds and try again."
)

# typeHint -> PostgreSQL type oid; a stringValue without a hint is a varchar.
_HINT_OIDS = {
    "UUID": 2950,
    "JSON": 114,
    "DATE": 1082,
    "TIME": 1083,
    "TIMESTAMP": 1114,
    "DECIMAL": 1700,
}
_VARCHAR, _INT8, _FLOAT8, _BOOL, _UNKNOWN = 1043, 20, 701, 16, 705
# java.sql.Types codes by PostgreSQL type name (PgJDBC's mapping); anything else is OTHER.
_JDBC_TYPES = {
    "bool": -7,
    "int2": 5,
    "int4": 4,
    "int8": -5,
    "float4": 7,
    "float8": 8,
    "numeric": 2,
    "text": 12,
    "varchar": 12,
    "name": 12,
    "bpchar": 1,
    "bytea": -2,
    "date": 91,
    "time": 92,
    "timestamp": 93,
    "timestamptz": 93,
}
_OTHER = 1111


def _error_statuses() -> dict[str, int]:
    model = json.loads(gzip.decompress(_MODEL.read_bytes()))
    return {
        name: shape["error"]["httpStatusCode"]
        for name, shape in model["shapes"].items()
        if shape.get("exception")
    }


@dataclass(frozen=True)
class Call:
    """One ``ExecuteStatement`` the front received."""

    sql: str
    database: str | None
    secret_arn: str
    answered: str
    """``"ok"`` or the error code answered."""


@dataclass
class _State:
    postgres: Postgres
    statuses: dict[str, int]
    secrets: dict[str, dict[str, str]] = field(default_factory=dict)
    pending: dict[str, dict[str, str]] = field(default_factory=dict)
    calls: list[Call] = field(default_factory=list)
    failures: list[tuple[str, str]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    # Idle connections by (user, password, database): the service pools its connections too.
    idle: dict[tuple[str, str, str], list[pg8000.native.Connection]] = field(default_factory=dict)

    def checkout(self, user: str, password: str, database: str) -> pg8000.native.Connection:
        with self.lock:
            pool = self.idle.get((user, password, database)) or []
            if pool:
                return pool.pop()
        return self.postgres.connect(database, user, password)

    def checkin(self, key: tuple[str, str, str], con: pg8000.native.Connection) -> None:
        with self.lock:
            self.idle.setdefault(key, []).append(con)

    def close_all(self) -> None:
        with self.lock:
            pools, self.idle = list(self.idle.values()), {}
        for pool in pools:
            for con in pool:
                con.close()


class FakeDataApi(LocalServer):
    """The Data API (``ExecuteStatement``) and ``GetSecretValue`` on 127.0.0.1."""

    cluster_arn = CLUSTER_ARN

    def __init__(self, postgres: Postgres) -> None:
        self._state = _State(postgres=postgres, statuses=_error_statuses())
        state = self._state

        class Handler(_Handler):
            pass

        Handler.state = state
        super().__init__(Handler)

    def add_secret(self, username: str, password: str) -> str:
        """Store a database secret (``username``/``password`` JSON); its ARN."""
        name = f"kit-test-{uuid.uuid4().hex[:8]}"
        arn = f"arn:aws:secretsmanager:us-east-1:123456789012:secret:{name}-AbCdEf"
        self._state.secrets[arn] = {"username": username, "password": password}
        return arn

    def add_pending(self, arn: str, password: str) -> None:
        """Give secret ``arn`` an ``AWSPENDING`` version (a rotation under way)."""
        self._state.pending[arn] = {**self._state.secrets[arn], "password": password}

    def fail_next(self, count: int, code: str = RESUMING, message: str = RESUMING_MESSAGE) -> None:
        """The next ``count`` ``ExecuteStatement`` calls answer ``code`` without running."""
        with self._state.lock:
            self._state.failures += [(code, message)] * count

    @property
    def calls(self) -> list[Call]:
        """Every ``ExecuteStatement`` received, in order."""
        return list(self._state.calls)

    def reset(self) -> None:
        """Forget the calls and pending failures; close the pooled connections."""
        with self._state.lock:
            self._state.calls.clear()
            self._state.failures.clear()
        self._state.close_all()

    def __exit__(self, *exc: Any) -> None:
        super().__exit__(*exc)
        self._state.close_all()


class _Handler(BaseHTTPRequestHandler):
    state: _State
    protocol_version = "HTTP/1.1"

    def setup(self) -> None:
        super().setup()
        # Headers and body go out in two writes: without this, Nagle's algorithm and the
        # client's delayed ACK hold the body back ~40 ms per call.
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the base's name
        pass

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = json.loads(self.rfile.read(length) or b"{}")
        target = self.headers.get("X-Amz-Target", "")
        if target == "secretsmanager.GetSecretValue":
            self._get_secret_value(body)
        elif self.path.split("?")[0] == "/Execute":
            self._execute(body)
        else:
            self._send(404, {"message": f"no operation at {self.path}"}, "UnknownOperation")

    def _send(self, status: int, payload: dict[str, Any], error: str | None = None) -> None:
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("x-amzn-RequestId", str(uuid.uuid4()))
        if error is not None:
            self.send_header("x-amzn-ErrorType", error)
        self.end_headers()
        self.wfile.write(data)

    def _get_secret_value(self, body: dict[str, Any]) -> None:
        arn = body.get("SecretId", "")
        stage = body.get("VersionStage", "AWSCURRENT")
        secret = (
            self.state.secrets.get(arn) if stage == "AWSCURRENT" else self.state.pending.get(arn)
        )
        if secret is None:
            self._send(
                400,
                {
                    "__type": "ResourceNotFoundException",
                    "Message": "Secrets Manager can't find the specified secret.",
                },
            )
            return
        self._send(
            200,
            {
                "ARN": arn,
                "Name": arn.rsplit(":", 1)[-1],
                "SecretString": json.dumps(secret),
                "VersionId": "v1" if stage == "AWSCURRENT" else "v2",
                "VersionStages": [stage],
                "CreatedDate": 1764547200,
            },
        )

    def _error(self, code: str, message: str, call: dict[str, Any]) -> None:
        self._record(call, code)
        self._send(self.state.statuses.get(code, 400), {"message": message}, code)

    def _record(self, call: dict[str, Any], answered: str) -> None:
        with self.state.lock:
            self.state.calls.append(
                Call(
                    sql=call.get("sql", ""),
                    database=call.get("database"),
                    secret_arn=call.get("secretArn", ""),
                    answered=answered,
                )
            )

    def _execute(self, body: dict[str, Any]) -> None:
        with self.state.lock:
            failure = self.state.failures.pop(0) if self.state.failures else None
        if failure is not None:
            self._error(*failure, body)
            return
        if body.get("resourceArn") != CLUSTER_ARN:
            self._error("BadRequestException", "unknown resourceArn", body)
            return
        secret = self.state.secrets.get(body.get("secretArn", ""))
        if secret is None:
            self._error("SecretsErrorException", "the secret cannot be read", body)
            return
        key = (secret["username"], secret["password"], body.get("database") or "postgres")
        try:
            con = self.state.checkout(*key)
        except pg8000.exceptions.Error as exc:  # a refused login can surface as either kind
            code = _sql_error(exc)
            name = "DatabaseNotFoundException" if "3D000" in code else "DatabaseErrorException"
            self._error(name, code, body)
            return
        try:
            values, types = _parameters(body.get("parameters") or [])
            rows = con.run(body["sql"], types=types or None, **values)
            result = _result(con, rows, bool(body.get("includeResultMetadata")))
        except pg8000.native.DatabaseError as exc:
            self._error("DatabaseErrorException", _sql_error(exc), body)
            return
        finally:
            self.state.checkin(key, con)
        self._record(body, "ok")
        self._send(200, result)


def _sql_error(exc: pg8000.exceptions.Error) -> str:
    detail = exc.args[0] if exc.args and isinstance(exc.args[0], dict) else {}
    return f"ERROR: {detail.get('M', exc)}; SQLState: {detail.get('C', '')}"


def _parameters(params: list[dict[str, Any]]) -> tuple[dict[str, Any], dict[str, int]]:
    values: dict[str, Any] = {}
    types: dict[str, int] = {}
    for p in params:
        name, value = p["name"], p.get("value", {})
        if value.get("isNull"):
            values[name], types[name] = None, _UNKNOWN
        elif "stringValue" in value:
            values[name] = value["stringValue"]
            types[name] = _HINT_OIDS.get(p.get("typeHint", ""), _VARCHAR)
        elif "longValue" in value:
            values[name], types[name] = value["longValue"], _INT8
        elif "doubleValue" in value:
            values[name], types[name] = value["doubleValue"], _FLOAT8
        elif "booleanValue" in value:
            values[name], types[name] = value["booleanValue"], _BOOL
        else:
            raise ValueError(f"parameter {name}: unsupported value {sorted(value)}")
    return values, types


def _field(value: Any) -> dict[str, Any]:
    if value is None:
        return {"isNull": True}
    if isinstance(value, bool):
        return {"booleanValue": value}
    if isinstance(value, int):
        return {"longValue": value}
    if isinstance(value, float):
        return {"doubleValue": value}
    if isinstance(value, bytes):
        return {"blobValue": base64.b64encode(value).decode()}
    if isinstance(value, dict | list):  # json/jsonb: the service returns the JSON text
        return {"stringValue": json.dumps(value)}
    if isinstance(value, dt.datetime):
        return {"stringValue": value.strftime("%Y-%m-%d %H:%M:%S")}
    if isinstance(value, uuid.UUID | decimal.Decimal | dt.date | dt.time):
        return {"stringValue": str(value)}
    return {"stringValue": str(value)}


def _result(
    con: pg8000.native.Connection, rows: list[list[Any]] | None, metadata: bool
) -> dict[str, Any]:
    columns = con.columns
    if columns is None:  # no result set (DDL, DML without RETURNING)
        count = con.row_count if con.row_count and con.row_count > 0 else 0
        return {"numberOfRecordsUpdated": count, "generatedFields": []}
    result: dict[str, Any] = {
        "records": [[_field(v) for v in row] for row in rows or []],
        "numberOfRecordsUpdated": 0,
    }
    if metadata:
        oids = sorted({c["type_oid"] for c in columns})
        names = dict(
            con.run(
                "SELECT oid::int8, typname::text FROM pg_catalog.pg_type "
                "WHERE oid::int8 = ANY(:oids)",
                oids=oids,
            )
        )
        result["columnMetadata"] = [
            {
                "name": c["name"],
                "label": c["name"],
                "typeName": names.get(c["type_oid"], ""),
                "type": _JDBC_TYPES.get(names.get(c["type_oid"], ""), _OTHER),
            }
            for c in columns
        ]
    return result


__all__ = ["CLUSTER_ARN", "RESUMING", "RESUMING_MESSAGE", "Call", "FakeDataApi"]
