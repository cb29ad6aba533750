"""The ingestion handlers with real event shapes, real boto3 against the local bedrock-agent."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import boto3
import pytest
from botocore.config import Config

from handlers.ingestion import Runtime, report, trigger
from kit_runtime.contracts.ingestion import IngestionSettings, IngestionSource
from kit_runtime.ingestion import BedrockJobs, Coordinator, record_key
from tests.fakes.bedrock_agent_server import BedrockAgentServer, IngestionService, Job, MemoryStore
from tests.support.ingestion import BUCKET, ingestion_source
from tests.support.lambda_context import LambdaContext

DOCS = ingestion_source("docs", 1)
WIKI = ingestion_source("wiki", 2)
SETTINGS = IngestionSettings(
    stage="test",
    sources=(DOCS, WIKI),
    table_name="table",
    state_machine_arn="arn:aws:states:us-east-1:111111111111:stateMachine:kit-test-ingestion",
    lease_seconds=900,
    failure_reasons_shown=2,
)


@dataclass
class Followers:
    started: list[tuple[str, str]] = field(default_factory=list)

    def follow(self, source: IngestionSource, job_id: str, attempt: int) -> None:
        self.started.append((source.name, job_id))


@dataclass
class Local:
    service: IngestionService
    server: BedrockAgentServer
    store: MemoryStore
    followers: Followers
    runtime: Runtime


@pytest.fixture
def local() -> Iterator[Local]:
    service = IngestionService(("IN_PROGRESS",))
    with BedrockAgentServer(service) as server:
        client = boto3.client(
            "bedrock-agent",
            region_name="us-east-1",
            endpoint_url=server.endpoint_url,
            aws_access_key_id="AKIDEXAMPLE",
            aws_secret_access_key="secret",
            config=Config(retries={"max_attempts": 1}),
        )
        store, followers = MemoryStore(), Followers()
        coordinator = Coordinator(store, BedrockJobs(client), followers, lease_seconds=900)
        yield Local(service, server, store, followers, Runtime(SETTINGS, coordinator))


def s3_event(detail_type: str, bucket: str, key: str) -> dict[str, Any]:
    """An EventBridge S3 event as the Amazon S3 user guide shows it (fields we read + more)."""
    return {
        "version": "0",
        "id": "17793124-05d4-b198-2fde-7ededc63b103",
        "detail-type": detail_type,
        "source": "aws.s3",
        "account": "111111111111",
        "time": "2026-12-01T18:43:48Z",
        "region": "us-east-1",
        "resources": [f"arn:aws:s3:::{bucket}"],
        "detail": {
            "version": "0",
            "bucket": {"name": bucket},
            "object": {
                "key": key,
                "size": 5,
                "etag": "b1946ac92492d2347c6235b4d2611184",
                "sequencer": "00617F08299329D189",
            },
            "request-id": "N4N7GDK58NMKJ12R",
            "requester": "111111111111",
            "reason": "PutObject" if detail_type == "Object Created" else "DeleteObject",
        },
    }


def sqs_batch(*bodies: Any) -> dict[str, Any]:
    """An SQS event source batch (Lambda developer guide's shape), one record per body."""
    return {
        "Records": [
            {
                "messageId": f"m-{i}",
                "receiptHandle": f"h-{i}",
                "body": body if isinstance(body, str) else json.dumps(body),
                "attributes": {"ApproximateReceiveCount": "1", "SentTimestamp": "1764614628000"},
                "messageAttributes": {},
                "md5OfBody": "x",
                "eventSource": "aws:sqs",
                "eventSourceARN": "arn:aws:sqs:us-east-1:111111111111:triggers",
                "awsRegion": "us-east-1",
            }
            for i, body in enumerate(bodies)
        ]
    }


def test_given_a_batch_of_uploads_when_handled_then_one_job_per_data_source(local: Local) -> None:
    batch = sqs_batch(
        s3_event("Object Created", BUCKET, "docs/a.pdf"),
        s3_event("Object Created", BUCKET, "docs/b.pdf"),
        s3_event("Object Deleted", BUCKET, "wiki/old.md"),
    )

    answer = trigger(batch, LambdaContext(), runtime=local.runtime)

    assert answer == {"batchItemFailures": []}
    started = {(j.knowledge_base_id, j.data_source_id) for j in local.service.jobs}
    assert started == {
        (DOCS.knowledge_base_id, DOCS.data_source_id),
        (WIKI.knowledge_base_id, WIKI.data_source_id),
    }
    assert len(local.service.jobs) == 2
    assert sorted(name for name, _ in local.followers.started) == ["docs", "wiki"]
    assert local.server.calls.count("StartIngestionJob") == 2


def test_given_a_running_job_when_more_uploads_arrive_then_they_coalesce(local: Local) -> None:
    trigger(
        sqs_batch(s3_event("Object Created", BUCKET, "docs/a.pdf")),
        LambdaContext(),
        runtime=local.runtime,
    )

    trigger(
        sqs_batch(s3_event("Object Created", BUCKET, "docs/c.pdf")),
        LambdaContext(),
        runtime=local.runtime,
    )
    trigger(
        sqs_batch(s3_event("Object Deleted", BUCKET, "docs/a.pdf")),
        LambdaContext(),
        runtime=local.runtime,
    )

    assert len(local.service.jobs) == 1
    assert local.store.read(record_key(DOCS)).pending is True


def test_given_a_job_started_outside_when_triggered_then_conflict_is_answered_and_it_is_adopted(
    local: Local,
) -> None:
    outside = local.service.start_job(DOCS.knowledge_base_id, DOCS.data_source_id)

    answer = trigger(
        sqs_batch(s3_event("Object Created", BUCKET, "docs/a.pdf")),
        LambdaContext(),
        runtime=local.runtime,
    )

    assert answer == {"batchItemFailures": []}
    assert local.server.calls[:2] == ["StartIngestionJob", "ListIngestionJobs"]
    assert local.followers.started == [("docs", outside.job_id)]
    assert local.store.read(record_key(DOCS)).pending is True


def test_given_events_of_no_data_source_or_junk_then_they_are_acknowledged_without_a_job(
    local: Local,
) -> None:
    batch = sqs_batch(
        s3_event("Object Created", "other-bucket", "docs/a.pdf"),
        s3_event("Object Created", BUCKET, "elsewhere/a.pdf"),
        "not json",
    )

    answer = trigger(batch, LambdaContext(), runtime=local.runtime)

    assert answer == {"batchItemFailures": []}
    assert local.service.jobs == []


def test_given_bedrock_refuses_then_only_that_sources_messages_fail(local: Local) -> None:
    # Given the wiki's knowledge base is unknown to the service (ResourceNotFound on start)
    broken = WIKI.model_copy(update={"knowledge_base_id": "KBMISSING1"})
    settings = SETTINGS.model_copy(update={"sources": (DOCS, broken)})
    local.runtime = Runtime(settings, local.runtime.coordinator)
    original = local.service.start_job

    def refuse(kb: str, ds: str) -> Job:
        if kb == "KBMISSING1":
            raise RuntimeError("refused")
        return original(kb, ds)

    local.service.start_job = refuse  # type: ignore[method-assign]
    batch = sqs_batch(
        s3_event("Object Created", BUCKET, "docs/a.pdf"),
        s3_event("Object Created", BUCKET, "wiki/a.md"),
        s3_event("Object Created", BUCKET, "wiki/b.md"),
    )

    answer = trigger(batch, LambdaContext(), runtime=local.runtime)

    # Then SQS redelivers only the wiki's two messages; the docs job started
    assert answer == {"batchItemFailures": [{"itemIdentifier": "m-1"}, {"itemIdentifier": "m-2"}]}
    assert [j.knowledge_base_id for j in local.service.jobs] == [DOCS.knowledge_base_id]
    # And the wiki's record is free for the redelivery
    assert local.store.read(record_key(broken)).state == "idle"


def test_given_a_scheduled_sweep_then_owed_jobs_start(local: Local) -> None:
    from kit_runtime.ingestion import Record

    assert local.store.put(record_key(WIKI), Record(pending=True, version=1), 0)
    sweep = {
        "version": "0",
        "id": "x",
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": "111111111111",
        "time": "2026-12-01T00:00:00Z",
        "region": "us-east-1",
        "resources": ["arn:aws:events:us-east-1:111111111111:rule/sweep"],
        "detail": {},
    }

    answer = trigger(sqs_batch(sweep), LambdaContext(), runtime=local.runtime)

    assert answer == {"batchItemFailures": []}
    assert [j.knowledge_base_id for j in local.service.jobs] == [WIKI.knowledge_base_id]


def _follow(job_id: str, source: IngestionSource = DOCS) -> dict[str, str]:
    return {
        "source": source.name,
        "knowledgeBaseId": source.knowledge_base_id,
        "dataSourceId": source.data_source_id,
        "ingestionJobId": job_id,
    }


def sfn_job(job_id: str, status: str, failed: int, reasons: list[str]) -> dict[str, Any]:
    """GetIngestionJob's IngestionJob as the Step Functions SDK integration returns it."""
    return {
        "KnowledgeBaseId": DOCS.knowledge_base_id,
        "DataSourceId": DOCS.data_source_id,
        "IngestionJobId": job_id,
        "Status": status,
        "Statistics": {
            "NumberOfDocumentsScanned": 12,
            "NumberOfNewDocumentsIndexed": 7,
            "NumberOfModifiedDocumentsIndexed": 2,
            "NumberOfDocumentsDeleted": 1,
            "NumberOfDocumentsFailed": failed,
        },
        "FailureReasons": reasons,
        "StartedAt": "2026-12-01T10:00:00Z",
        "UpdatedAt": "2026-12-01T10:02:30Z",
    }


def test_given_a_finished_job_with_failures_when_reported_then_log_metrics_and_follow_up(
    local: Local, capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    first = trigger(
        sqs_batch(s3_event("Object Created", BUCKET, "docs/a.pdf")),
        LambdaContext(),
        runtime=local.runtime,
    )
    assert first == {"batchItemFailures": []}
    job_id = local.followers.started[0][1]
    trigger(
        sqs_batch(s3_event("Object Created", BUCKET, "docs/b.pdf")),
        LambdaContext(),
        runtime=local.runtime,
    )
    local.service.finish(job_id, "COMPLETE")
    capsys.readouterr()
    reasons = [
        f"s3://{BUCKET}/docs/x.pdf: unsupported",
        f"s3://{BUCKET}/docs/y.pdf: too large",
        "third",
    ]

    answer = report(
        {
            "kind": "ended",
            "follow": _follow(job_id),
            "job": sfn_job(job_id, "COMPLETE", 3, reasons),
        },
        LambdaContext(),
        runtime=local.runtime,
    )

    # Then the coordinator started the owed follow-up
    assert answer["action"] == "started" and answer["jobId"] != job_id
    lines = [
        json.loads(line) for line in capsys.readouterr().out.splitlines() if line.startswith("{")
    ]
    (record,) = [
        r for r in caplog.records if r.getMessage() == "ingestion job finished with failures"
    ]
    entry = record.__dict__
    assert record.levelname == "ERROR"
    assert entry["statistics"]["failed"] == 3 and entry["statistics"]["new_indexed"] == 7
    assert entry["failure_reasons"] == reasons[:2] and entry["failure_reasons_clipped"] == 1
    assert entry["duration_seconds"] == 150
    emf = next(e for e in lines if "_aws" in e)
    (directive,) = emf["_aws"]["CloudWatchMetrics"]
    # The alarms name exactly these dimensions (service is Powertools' own, from the env)
    assert set(directive["Dimensions"][0]) == {"service", "stage", "knowledge_base"}
    assert emf["knowledge_base"] == "docs" and emf["stage"] == "test"
    values = {k: v[0] if isinstance(v, list) else v for k, v in emf.items()}
    assert values["DocumentsFailed"] == 3 and values["DocumentsIndexed"] == 9
    assert values["IngestionJobsFailed"] == 0 and values["JobDurationSeconds"] == 150


def test_given_a_failed_job_when_reported_then_the_job_failure_metric_is_one(
    local: Local, capsys: pytest.CaptureFixture[str]
) -> None:
    trigger(
        sqs_batch(s3_event("Object Created", BUCKET, "docs/a.pdf")),
        LambdaContext(),
        runtime=local.runtime,
    )
    job_id = local.followers.started[0][1]
    local.service.finish(job_id, "FAILED")
    capsys.readouterr()

    answer = report(
        {"kind": "ended", "follow": _follow(job_id), "job": sfn_job(job_id, "FAILED", 0, ["boom"])},
        LambdaContext(),
        runtime=local.runtime,
    )

    assert answer["action"] == "idle"
    emf = next(json.loads(x) for x in capsys.readouterr().out.splitlines() if '"_aws"' in x)
    assert emf["IngestionJobsFailed"] in (1, [1], [1.0])


def test_given_a_lost_follower_when_reported_then_the_record_is_released_owing_a_job(
    local: Local,
) -> None:
    trigger(
        sqs_batch(s3_event("Object Created", BUCKET, "docs/a.pdf")),
        LambdaContext(),
        runtime=local.runtime,
    )
    job_id = local.followers.started[0][1]

    answer = report(
        {
            "kind": "lost",
            "follow": _follow(job_id),
            "error": {"Error": "BedrockAgent.AccessDeniedException", "Cause": "denied"},
        },
        LambdaContext(),
        runtime=local.runtime,
    )

    assert answer["action"] == "idle"
    record = local.store.read(record_key(DOCS))
    assert record.state == "idle" and record.pending is True
