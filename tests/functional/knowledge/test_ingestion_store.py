"""The coordinator's DynamoDB writes, checked by moto's DynamoDB (it evaluates the condition
expressions as DynamoDB specifies them) through real boto3 serialization."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import boto3
import pytest

from kit_runtime.contracts.ingestion import IngestionSource
from kit_runtime.ingestion import TABLE_KEY, Coordinator, DynamoStore, Record, record_key
from tests.fakes.bedrock_agent_server import IngestionService, ServiceJobs
from tests.support.ingestion import ingestion_source

moto = pytest.importorskip("moto", reason="moto (dev dependency) provides DynamoDB offline")

TABLE = "kit-test-ingestion"
SOURCE = ingestion_source("docs")


@pytest.fixture
def dynamodb(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
    }.items():
        monkeypatch.setenv(name, value)
    with moto.mock_aws():
        client = boto3.client("dynamodb", region_name="us-east-1")
        # The table as the stack creates it: partition key pk (string), on demand.
        client.create_table(
            TableName=TABLE,
            KeySchema=[{"AttributeName": TABLE_KEY, "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": TABLE_KEY, "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
        )
        yield client


def test_given_no_record_then_only_one_first_write_wins(dynamodb: Any) -> None:
    store = DynamoStore(dynamodb, TABLE)
    assert store.read("k") == Record()

    first = store.put("k", Record(state="running", version=1, claim="a"), 0)
    second = store.put("k", Record(state="running", version=1, claim="b"), 0)

    assert (first, second) == (True, False)
    assert store.read("k").claim == "a"


def test_given_a_record_then_a_write_succeeds_only_on_the_version_read(dynamodb: Any) -> None:
    store = DynamoStore(dynamodb, TABLE)
    store.put("k", Record(state="running", job_id="JOB0000001", version=1, updated_at=5.5), 0)

    stale = store.put("k", Record(version=2), 0)
    wrong = store.put("k", Record(version=3), 2)
    right = store.put("k", Record(state="running", job_id="JOB0000001", pending=True, version=2), 1)

    assert (stale, wrong, right) == (False, False, True)
    assert store.read("k") == Record(state="running", job_id="JOB0000001", pending=True, version=2)


def test_given_a_record_then_it_round_trips_every_field(dynamodb: Any) -> None:
    store = DynamoStore(dynamodb, TABLE)
    record = Record(
        state="running", job_id=None, pending=True, version=7, updated_at=1764590000.25, claim="c"
    )
    assert store.put("k", record, 0)
    assert store.read("k") == record


@dataclass
class Followers:
    started: list[str] = field(default_factory=list)

    def follow(self, source: IngestionSource, job_id: str, attempt: int) -> None:
        self.started.append(job_id)


def test_given_the_dynamodb_store_then_two_triggers_during_a_job_make_one_follow_up(
    dynamodb: Any,
) -> None:
    service = IngestionService(("IN_PROGRESS",))
    coordinator = Coordinator(
        DynamoStore(dynamodb, TABLE), ServiceJobs(service), Followers(), lease_seconds=900
    )
    first = coordinator.trigger(SOURCE).job_id
    assert first is not None

    actions = [coordinator.trigger(SOURCE).action, coordinator.trigger(SOURCE).action]
    service.finish(first)
    follow_up = coordinator.job_ended(SOURCE, first)

    assert actions == ["coalesced", "coalesced"]
    assert follow_up.action == "started" and len(service.jobs) == 2
    item = dynamodb.get_item(TableName=TABLE, Key={TABLE_KEY: {"S": record_key(SOURCE)}})["Item"]
    assert item["job_id"]["S"] == follow_up.job_id and item["pending"]["BOOL"] is False
