"""The ingestion functions: ``trigger`` (SQS batches of S3 events and sweeps) and ``report``.

``trigger`` reads batches from the ingestion queue, where EventBridge puts the data buckets'
``Object Created`` / ``Object Deleted`` events (one rule per data source, filtered by bucket
and prefix) and the scheduled sweep. Events of one data source in a batch become one trigger;
a data source whose trigger failed reports its messages as batch item failures, so SQS
redelivers only those (and moves them to the dead-letter queue after the last receive).

``report`` is a step of the follower state machine: it logs a finished job's statistics and
failure reasons, emits its metrics and tells the coordinator, which may start the follow-up.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from kit_runtime.contracts.ingestion import (
    ENV_VAR,
    IngestionSettings,
    IngestionSource,
    ReportRequest,
)
from kit_runtime.ingestion import (
    BedrockJobs,
    Coordinator,
    DynamoStore,
    Outcome,
    StepFunctionsFollowers,
    changed_object,
    job_report,
    sources_for_object,
)
from kit_runtime.observability import logger, metrics, tracer

SWEEP_DETAIL_TYPE = "Scheduled Event"
SECONDS_UNIT = MetricUnit.Seconds


@dataclass(frozen=True)
class Runtime:
    """What the handlers work with: the settings and a coordinator over real or fake ports."""

    settings: IngestionSettings
    coordinator: Coordinator


@cache
def load_settings() -> IngestionSettings:
    """Parse ``KIT_SETTINGS`` (written by the Ingestion stack from the same contract)."""
    text = os.environ.get(ENV_VAR)
    if not text:
        raise RuntimeError(f"{ENV_VAR} is not set: the stack writes it; redeploy the function")
    return IngestionSettings.model_validate_json(text)


@cache
def default_runtime() -> Runtime:
    """Clients built once per execution environment, in the function's region."""
    import boto3

    settings = load_settings()
    coordinator = Coordinator(
        DynamoStore(boto3.client("dynamodb"), settings.table_name),
        BedrockJobs(boto3.client("bedrock-agent")),
        StepFunctionsFollowers(boto3.client("stepfunctions"), settings.state_machine_arn),
        lease_seconds=settings.lease_seconds,
    )
    return Runtime(settings, coordinator)


def _sources_of(body: Mapping[str, Any], settings: IngestionSettings) -> list[IngestionSource]:
    if body.get("source") == "aws.events" and body.get("detail-type") == SWEEP_DETAIL_TYPE:
        return []  # handled by the caller: the sweep concerns every source
    changed = changed_object(body)
    if changed is None:
        return []
    return sources_for_object(settings.sources, *changed)


@logger.inject_lambda_context
@tracer.capture_lambda_handler(capture_response=False)
def trigger(
    event: dict[str, Any], context: LambdaContext, *, runtime: Runtime | None = None
) -> dict[str, Any]:
    """Handle one SQS batch (``ReportBatchItemFailures``).

    Returns
    -------
    dict
        ``batchItemFailures``: the messages of data sources whose trigger failed.
    """
    rt = runtime or default_runtime()
    by_source: dict[str, list[str]] = {}
    sweep: list[str] = []
    sources = {s.name: s for s in rt.settings.sources}
    for message in event.get("Records") or []:
        message_id = str(message.get("messageId", ""))
        try:
            body = json.loads(message.get("body") or "")
        except ValueError:
            body = None
        if not isinstance(body, dict):
            # It can never succeed: keep it out of the retry loop, say so.
            logger.warning("ignoring a message that is not an event", extra={"id": message_id})
            continue
        if body.get("detail-type") == SWEEP_DETAIL_TYPE and body.get("source") == "aws.events":
            sweep.append(message_id)
            continue
        matched = _sources_of(body, rt.settings)
        if not matched:
            logger.warning(
                "ignoring an event of no data source",
                extra={"id": message_id, "detail_type": body.get("detail-type")},
            )
        for source in matched:
            by_source.setdefault(source.name, []).append(message_id)
    failed: set[str] = set()
    for name, message_ids in by_source.items():
        if not _notify(rt, sources[name], "trigger", events=len(message_ids)):
            failed.update(message_ids)
    if sweep and not all([_notify(rt, s, "reconcile") for s in rt.settings.sources]):
        failed.update(sweep)
    return {"batchItemFailures": [{"itemIdentifier": i} for i in sorted(failed)]}


def _notify(rt: Runtime, source: IngestionSource, notice: str, **extra: Any) -> bool:
    try:
        if notice == "trigger":
            outcome = rt.coordinator.trigger(source)
        else:
            outcome = rt.coordinator.reconcile(source)
    except Exception:
        logger.exception(
            f"ingestion {notice} failed; the messages will be retried",
            extra={"knowledge_base": source.name, **extra},
        )
        return False
    _log_outcome(source, notice, outcome, **extra)
    return True


def _log_outcome(source: IngestionSource, notice: str, outcome: Outcome, **extra: Any) -> None:
    logger.info(
        f"ingestion {notice}: {outcome.action}",
        extra={
            "knowledge_base": source.name,
            "ingestion_job_id": outcome.job_id,
            "action": outcome.action,
            **extra,
        },
    )


@logger.inject_lambda_context
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics
def report(
    event: dict[str, Any], context: LambdaContext, *, runtime: Runtime | None = None
) -> dict[str, Any]:
    """Report a finished (or lost) job and tell the coordinator.

    Returns
    -------
    dict
        ``action`` and ``jobId``: what the coordinator did next (a follow-up job, idle...).
    """
    rt = runtime or default_runtime()
    request = ReportRequest.model_validate(event)
    follow = request.follow
    source = next((s for s in rt.settings.sources if s.name == follow.source), None)
    if source is None:
        raise ValueError(f"unknown knowledge base {follow.source!r} (settings changed?)")
    if request.kind == "lost":
        logger.error(
            "following an ingestion job failed; the record is released and a job is owed",
            extra={
                "knowledge_base": source.name,
                "ingestion_job_id": follow.ingestionJobId,
                "error": request.error,
            },
        )
        outcome = rt.coordinator.release(source, follow.ingestionJobId)
    else:
        result = job_report(
            source.name, request.job or {}, reasons_shown=rt.settings.failure_reasons_shown
        )
        metrics.add_dimension(name="stage", value=rt.settings.stage)
        metrics.add_dimension(name="knowledge_base", value=source.name)
        for name, value in result.metrics().items():
            unit = SECONDS_UNIT if name.endswith("Seconds") else MetricUnit.Count
            metrics.add_metric(name=name, unit=unit, value=value)
        entry = result.log_entry()
        if result.failed:
            logger.error("ingestion job finished with failures", extra=entry)
        else:
            logger.info("ingestion job finished", extra=entry)
        outcome = rt.coordinator.job_ended(source, follow.ingestionJobId)
    _log_outcome(source, request.kind, outcome)
    return {"action": outcome.action, "jobId": outcome.job_id}
