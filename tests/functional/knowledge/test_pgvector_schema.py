"""The pgvector schema custom resource through real boto3 against a local Data API front
over a real PostgreSQL with pgvector."""

from __future__ import annotations

import json
import secrets
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import boto3
import pg8000.exceptions
import pytest
from botocore.config import Config

from handlers import pgvector_schema
from kit_runtime.contracts.pgvector import USER_NAME, PgvectorSchemaProperties, PgvectorTable
from kit_runtime.pgvector import SchemaError
from tests.fakes.rds_data_server import RESUMING, FakeDataApi
from tests.support.lambda_context import LambdaContext
from tests.support.postgres import ADMIN, Postgres

DIMENSIONS = 8


@pytest.fixture(scope="module")
def front(postgres: Postgres) -> Iterator[FakeDataApi]:
    with FakeDataApi(postgres) as api:
        yield api


def _client(service: str, front: FakeDataApi) -> Any:
    return boto3.client(
        service,
        endpoint_url=front.endpoint_url,
        region_name="us-east-1",
        aws_access_key_id="AKIAFAKEFAKEFAKEFAKE",
        aws_secret_access_key="fake-secret-for-local-tests",
        config=Config(retries={"total_max_attempts": 1}),
    )


@dataclass
class Cluster:
    """One test's database behind the front, its secrets and what the handler slept."""

    postgres: Postgres
    front: FakeDataApi
    database: str
    admin_secret: str
    user_secret: str
    user_password: str
    schema: str = "bedrock_integration"
    sleeps: list[float] = field(default_factory=list)

    @property
    def kb(self) -> str:
        """The default table's ``schema.table``."""
        return f"{self.schema}.bedrock_kb"

    def table(self, **changes: Any) -> PgvectorTable:
        return PgvectorTable(
            **{
                "database": self.database,
                "schema_name": self.schema,
                "dimensions": DIMENSIONS,
                **changes,
            }
        )

    def properties(self, table: PgvectorTable | None = None, **changes: Any) -> dict[str, Any]:
        props = PgvectorSchemaProperties(
            ClusterArn=self.front.cluster_arn,
            SecretArn=self.admin_secret,
            UserSecretArn=self.user_secret,
            Table=table or self.table(),
        ).render()
        return {**props, **changes}

    def send(
        self,
        request_type: str,
        props: dict[str, Any],
        *,
        old: dict[str, Any] | None = None,
        physical_id: str | None = None,
        remaining_ms: int = 300_000,
    ) -> dict[str, Any]:
        """Run the handler on an event shaped like the Provider framework's."""
        event: dict[str, Any] = {
            "RequestType": request_type,
            "ServiceToken": "arn:aws:lambda:us-east-1:123456789012:function:framework",
            "ResponseURL": "https://cloudformation-custom-resource-response.example/",
            "StackId": "arn:aws:cloudformation:us-east-1:123456789012:stack/kit-test/1",
            "RequestId": str(uuid.uuid4()),
            "LogicalResourceId": "KbSchema",
            "ResourceType": "Custom::PgvectorSchema",
            "ResourceProperties": _as_cloudformation({"ServiceToken": "x", **props}),
        }
        if old is not None:
            event["OldResourceProperties"] = _as_cloudformation({"ServiceToken": "x", **old})
        if physical_id is not None:
            event["PhysicalResourceId"] = physical_id
        context = LambdaContext(remaining_ms=remaining_ms, function_name="kit-test-pgvector-schema")

        def sleep(seconds: float) -> None:  # time passes for the function, not for the test
            self.sleeps.append(seconds)
            context.started -= seconds

        return pgvector_schema.handler(
            event,
            context,
            client=_client("rds-data", self.front),
            secrets=_client("secretsmanager", self.front),
            sleep=sleep,
        )

    def query(self, sql: str, **params: Any) -> list[list[Any]]:
        return self.postgres.query(self.database, sql, **params)


def _as_cloudformation(value: Any) -> Any:
    """CloudFormation hands every scalar of a custom resource's properties as a string."""
    if isinstance(value, dict):
        return {k: _as_cloudformation(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_as_cloudformation(v) for v in value]
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _cluster(postgres: Postgres, front: FakeDataApi, database: str, schema: str) -> Cluster:
    front.reset()
    password = secrets.token_urlsafe(24)
    return Cluster(
        postgres=postgres,
        front=front,
        database=database,
        admin_secret=front.add_secret(ADMIN, postgres.admin_password),
        user_secret=front.add_secret(USER_NAME, password),
        user_password=password,
        schema=schema,
    )


@pytest.fixture(scope="module")
def shared_database(postgres: Postgres) -> str:
    return postgres.create_database()


@pytest.fixture
def cluster(postgres: Postgres, front: FakeDataApi, shared_database: str) -> Cluster:
    """A database shared by the module's tests, and a schema of this test's own."""
    return _cluster(postgres, front, shared_database, f"kb_{secrets.token_hex(4)}")


@pytest.fixture
def empty_cluster(postgres: Postgres, front: FakeDataApi) -> Cluster:
    """A new database (no pgvector yet) and the default schema name."""
    return _cluster(postgres, front, postgres.create_database(), "bedrock_integration")


def _indexes(cluster: Cluster, table: PgvectorTable) -> dict[str, str]:
    rows = cluster.query(
        "SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = :s AND tablename = :t",
        s=table.schema_name,
        t=table.table,
    )
    return {name: definition for name, definition in rows}


def _vector(*values: float) -> str:
    return "[" + ",".join(str(v) for v in values) + "]"


def test_create_builds_the_extension_table_and_indexes_bedrock_needs(
    empty_cluster: Cluster,
) -> None:
    # Given an empty database behind the Data API
    cluster = empty_cluster
    table = cluster.table()
    # When CloudFormation creates the resource
    got = cluster.send("Create", cluster.properties())
    # Then the answer names the table as the knowledge base's tableName
    assert got["Data"] == {"TableName": "bedrock_integration.bedrock_kb"}
    assert got["PhysicalResourceId"].endswith(f"/{cluster.database}/bedrock_integration.bedrock_kb")
    # And pgvector, the table's columns and the three indexes exist
    assert cluster.query("SELECT extname FROM pg_extension WHERE extname = 'vector'")
    columns = cluster.query(
        "SELECT a.attname, format_type(a.atttypid, a.atttypmod) FROM pg_attribute a "
        "WHERE a.attrelid = to_regclass('bedrock_integration.bedrock_kb') AND a.attnum > 0 "
        "AND NOT a.attisdropped ORDER BY a.attnum"
    )
    assert columns == [
        ["id", "uuid"],
        ["embedding", f"vector({DIMENSIONS})"],
        ["chunks", "text"],
        ["metadata", "json"],
        ["custom_metadata", "jsonb"],
    ]
    primary = cluster.query(
        "SELECT a.attname FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid "
        "AND a.attnum = ANY(i.indkey) WHERE i.indrelid = to_regclass(:r) AND i.indisprimary",
        r="bedrock_integration.bedrock_kb",
    )
    assert primary == [["id"]]
    definitions = list(_indexes(cluster, table).values())
    assert any("USING hnsw (embedding vector_cosine_ops)" in d for d in definitions)
    assert any("USING gin (to_tsvector('simple'::regconfig, chunks))" in d for d in definitions)
    assert any("USING gin (custom_metadata)" in d for d in definitions)


def test_create_twice_and_update_change_nothing(cluster: Cluster) -> None:
    # Given a created table holding a row
    props = cluster.properties()
    first = cluster.send("Create", props)
    cluster.query(
        f"INSERT INTO {cluster.kb} (id, embedding, chunks) "
        "VALUES (gen_random_uuid(), CAST(:v AS vector), 'kept')",
        v=_vector(*[1.0] * DIMENSIONS),
    )
    indexes = _indexes(cluster, cluster.table())
    # When Create runs again (a retried deployment) and then an Update
    again = cluster.send("Create", props)
    updated = cluster.send("Update", props, old=props, physical_id=first["PhysicalResourceId"])
    # Then the same resource answers, and the table, its row and its indexes are unchanged
    assert again["PhysicalResourceId"] == updated["PhysicalResourceId"]
    assert updated["PhysicalResourceId"] == first["PhysicalResourceId"]
    assert cluster.query(f"SELECT chunks FROM {cluster.kb}") == [["kept"]]
    assert _indexes(cluster, cluster.table()) == indexes
    # And no statement failed along the way
    assert {c.answered for c in cluster.front.calls} == {"ok"}


def test_a_paused_cluster_is_retried_until_it_resumes(cluster: Cluster) -> None:
    # Given a cluster that answers "resuming" to the next three calls
    cluster.front.fail_next(3)
    # When CloudFormation creates the resource
    cluster.send("Create", cluster.properties())
    # Then the handler waited with growing delays and then set the table up
    answered = [c.answered for c in cluster.front.calls]
    assert answered[:4] == [RESUMING, RESUMING, RESUMING, "ok"]
    assert len(cluster.sleeps) == 3
    assert cluster.sleeps == sorted(cluster.sleeps) and cluster.sleeps[0] < cluster.sleeps[-1]
    assert cluster.query(f"SELECT to_regclass('{cluster.kb}')::text") == [[cluster.kb]]


def test_throttling_is_retried_like_a_resume(cluster: Cluster) -> None:
    # Given a Data API that throttles the first call
    cluster.front.fail_next(1, "ThrottlingException", "Rate exceeded")
    # When the resource is created
    cluster.send("Create", cluster.properties())
    # Then the call was retried once and everything ran
    assert len(cluster.sleeps) == 1
    assert cluster.front.calls[0].answered == "ThrottlingException"
    assert cluster.front.calls[-1].answered == "ok"


def test_a_cluster_that_does_not_resume_in_time_fails_clearly(cluster: Cluster) -> None:
    # Given a cluster that keeps resuming and a function with 20 s left
    cluster.front.fail_next(50)
    # When the resource is created
    with pytest.raises(SchemaError) as failure:
        cluster.send("Create", cluster.properties(), remaining_ms=20_000)
    # Then it gives up before the function's time runs out, saying what to do
    assert "DatabaseResumingException" in str(failure.value)
    assert "deploy again" in str(failure.value)
    assert sum(cluster.sleeps) < 20
    cluster.front.reset()


def test_a_statement_error_is_not_retried(cluster: Cluster) -> None:
    # Given an admin secret for a role that may not create schemas in the database
    weak = cluster.postgres.create_role("weak-password-1")
    cluster.query(f"REVOKE CREATE ON DATABASE {cluster.database} FROM PUBLIC")
    props = cluster.properties(SecretArn=cluster.front.add_secret(weak, "weak-password-1"))
    # When the resource is created
    with pytest.raises(SchemaError) as failure:
        cluster.send("Create", props)
    # Then the database's refusal fails the deployment at once, naming the statement
    assert cluster.sleeps == []
    refused = [c for c in cluster.front.calls if c.answered != "ok"]
    assert [c.answered for c in refused] == ["DatabaseErrorException"]
    assert "permission denied" in str(failure.value)
    assert "DatabaseErrorException" in str(failure.value)


def test_a_dimension_change_fails_and_keeps_the_table(cluster: Cluster) -> None:
    # Given a created table
    props = cluster.properties()
    created = cluster.send("Create", props)
    # When an update asks for another vector size in the same table
    bigger = cluster.properties(cluster.table(dimensions=DIMENSIONS * 2))
    with pytest.raises(SchemaError) as failure:
        cluster.send("Update", bigger, old=props, physical_id=created["PhysicalResourceId"])
    # Then the message says a new knowledge base and table are needed
    message = str(failure.value)
    assert f"vector({DIMENSIONS})" in message and str(DIMENSIONS * 2) in message
    assert "new knowledge base" in message and "new table" in message
    # And the column keeps its size
    assert cluster.query(
        "SELECT format_type(atttypid, atttypmod) FROM pg_attribute "
        f"WHERE attrelid = to_regclass('{cluster.kb}') "
        "AND attname = 'embedding'"
    ) == [[f"vector({DIMENSIONS})"]]


def test_a_new_table_name_with_a_new_size_is_a_new_resource(cluster: Cluster) -> None:
    # Given a created table
    props = cluster.properties()
    created = cluster.send("Create", props)
    # When an update moves to another table with another size
    moved = cluster.properties(cluster.table(table="bedrock_kb_v2", dimensions=DIMENSIONS * 2))
    got = cluster.send("Update", moved, old=props, physical_id=created["PhysicalResourceId"])
    # Then it is a new physical resource and both tables exist
    assert got["PhysicalResourceId"] != created["PhysicalResourceId"]
    assert got["Data"]["TableName"] == f"{cluster.schema}.bedrock_kb_v2"
    found = cluster.query(
        f"SELECT tablename FROM pg_tables WHERE schemaname = '{cluster.schema}' ORDER BY 1"
    )
    assert found == [["bedrock_kb"], ["bedrock_kb_v2"]]


def test_delete_keeps_the_table_and_runs_nothing(cluster: Cluster) -> None:
    # Given a created table
    props = cluster.properties()
    created = cluster.send("Create", props)
    cluster.front.reset()
    # When CloudFormation deletes the resource
    got = cluster.send("Delete", props, physical_id=created["PhysicalResourceId"])
    # Then nothing ran and the table is still there
    assert got == {"PhysicalResourceId": created["PhysicalResourceId"]}
    assert cluster.front.calls == []
    assert cluster.query(f"SELECT to_regclass('{cluster.kb}')::text") == [[cluster.kb]]


def test_bedrock_user_owns_writes_and_searches_its_table_by_cosine(cluster: Cluster) -> None:
    # Given the created table, and the Data API used with the Bedrock user's own secret
    cluster.send("Create", cluster.properties())
    rds = _client("rds-data", cluster.front)
    target = {
        "resourceArn": cluster.front.cluster_arn,
        "secretArn": cluster.user_secret,
        "database": cluster.database,
    }
    rows = {
        "near": [1.0, 0.0] + [0.0] * (DIMENSIONS - 2),
        "far": [0.0, 1.0] + [0.0] * (DIMENSIONS - 2),
    }
    # When that user inserts rows as Bedrock does (uuid and JSON by type hint)
    for chunk, values in rows.items():
        rds.execute_statement(
            **target,
            sql=f"INSERT INTO {cluster.kb} "
            "(id, embedding, chunks, metadata, custom_metadata) "
            "VALUES (:id, CAST(:embedding AS vector), :chunks, :metadata, "
            "CAST(:custom AS jsonb))",
            parameters=[
                {"name": "id", "value": {"stringValue": str(uuid.uuid4())}, "typeHint": "UUID"},
                {"name": "embedding", "value": {"stringValue": _vector(*values)}},
                {"name": "chunks", "value": {"stringValue": f"the {chunk} chunk"}},
                {
                    "name": "metadata",
                    "value": {"stringValue": json.dumps({"source": f"s3://b/{chunk}.txt"})},
                    "typeHint": "JSON",
                },
                {"name": "custom", "value": {"stringValue": json.dumps({"tenant": "acme"})}},
            ],
        )
    # And searches by cosine distance with the HNSW index preferred
    found = rds.execute_statement(
        **target,
        sql="SELECT chunks, embedding <=> CAST(:q AS vector) AS distance "
        f"FROM {cluster.kb} "
        "WHERE custom_metadata @> CAST(:filter AS jsonb) "
        "ORDER BY embedding <=> CAST(:q AS vector) LIMIT 2",
        parameters=[
            {"name": "q", "value": {"stringValue": _vector(0.9, 0.1, *[0.0] * (DIMENSIONS - 2))}},
            {"name": "filter", "value": {"stringValue": json.dumps({"tenant": "acme"})}},
        ],
        includeResultMetadata=True,
    )
    # Then the nearer chunk comes first, with its distance as a double
    assert [c["name"] for c in found["columnMetadata"]] == ["chunks", "distance"]
    records = found["records"]
    assert [r[0]["stringValue"] for r in records] == ["the near chunk", "the far chunk"]
    assert 0 <= records[0][1]["doubleValue"] < records[1][1]["doubleValue"]
    # And the planner can answer the nearest-neighbour query from the HNSW index
    con = cluster.postgres.connect(cluster.database)
    try:
        con.run("SET enable_seqscan = off")
        plan = con.run(
            f"EXPLAIN SELECT id FROM {cluster.kb} "
            "ORDER BY embedding <=> CAST(:q AS vector) LIMIT 1",
            q=_vector(*[1.0] * DIMENSIONS),
        )
    finally:
        con.close()
    assert "bedrock_kb_hnsw" in " ".join(str(line) for line in plan)
    # And the user owns its table, as in the Bedrock guide's set-up
    owner = cluster.query(
        f"SELECT tableowner FROM pg_tables WHERE schemaname || '.' || tablename = '{cluster.kb}'"
    )
    assert owner == [[USER_NAME]]


def test_the_user_secret_is_the_password_that_logs_in_and_is_never_logged(
    cluster: Cluster, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given a created table
    cluster.send("Create", cluster.properties())
    # Then the user logs in with the password from its secret, and not with another
    con = cluster.postgres.connect(cluster.database, USER_NAME, cluster.user_password)
    assert con.run("SELECT current_user") == [[USER_NAME]]
    con.close()
    # (pg8000 reports the server's refusal as a DatabaseError or, when the server closes the
    # socket first, as an InterfaceError)
    with pytest.raises(pg8000.exceptions.Error):
        cluster.postgres.connect(cluster.database, USER_NAME, "not-the-password")
    # And running Update again (with the same secret) keeps it working
    cluster.send("Create", cluster.properties())
    cluster.postgres.connect(cluster.database, USER_NAME, cluster.user_password).close()
    # And neither the password nor the statement carrying its verifier reached the logs
    out = capsys.readouterr()
    assert cluster.user_password not in out.out + out.err
    assert "SCRAM-SHA-256" not in out.out + out.err


def test_a_rerun_during_a_rotation_keeps_the_password_the_rotation_set(cluster: Cluster) -> None:
    # Given a created table, then a rotation whose setSecret gave the role a new password
    cluster.send("Create", cluster.properties())
    rotated = secrets.token_urlsafe(24)
    cluster.front.add_pending(cluster.user_secret, rotated)
    admin = cluster.postgres.connect(cluster.database)
    try:
        # (DDL takes no parameters; token_urlsafe is letters, digits, "-" and "_" only)
        admin.run(f"ALTER ROLE {USER_NAME} PASSWORD '{rotated}'")
    finally:
        admin.close()
    # When the schema re-runs before the rotation finishes
    cluster.send("Update", cluster.properties())
    # Then the role still logs in with the rotated password, not the current one
    cluster.postgres.connect(cluster.database, USER_NAME, rotated).close()
    with pytest.raises(pg8000.exceptions.Error):
        cluster.postgres.connect(cluster.database, USER_NAME, cluster.user_password)


def test_bad_properties_fail_naming_the_property(cluster: Cluster) -> None:
    # Given properties with a vector size the contract refuses
    props = cluster.properties()
    props["Table"] = {**props["Table"], "dimensions": "0"}
    # When the resource is created
    with pytest.raises(ValueError, match="Table.dimensions"):
        cluster.send("Create", props)
    # Then nothing was sent to the database
    assert cluster.front.calls == []
