"""``make ingest KB=<name> STAGE=<stage>``: sync one knowledge base and follow the job to its end.

Usage::

    python -m stacks.tools.ingest --stage dev --kb docs [--profile p] [--poll-seconds 15]

The stage's region and knowledge base names come from its config (``cdk.json``, through the
config loader, offline); the knowledge base and data source ids from the Ingestion stack's
``IngestionTargets`` output (CloudFormation ``DescribeStacks``), with the credentials botocore's
chain finds (as ``make call`` does). It starts an ingestion job (StartIngestionJob); when one is
already running (the service answers ConflictException or ServiceQuotaExceededException), it
says so and follows that one instead. It prints each status change and the running counts,
then the statistics and the failure reasons.

The deployed coordinator learns of a job started here the next time a document changes: its
StartIngestionJob is refused, it adopts the running job and owes one follow-up (nothing lost).

Exit status: 0 when the job completed with no failed document; 1 when it failed, was stopped,
or some documents failed; 2 when something must be fixed first (unknown stage or knowledge
base, no credentials, stack not deployed, a ``POLL`` that is not 1-300 seconds). Messages name
the fix; never a trace.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import botocore.session
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from stacks.tools.client import (
    ClientProblem,
    check_knowledge_base,
    knowledge_base_names,
    stage_plan,
)
from stacks.tools.preflight import PreflightError, credential_source

ROOT = Path(__file__).resolve().parents[2]
INGESTION_STACK = "Ingestion"
"""The Ingestion stack's construct id in the stage (stacks/stage.py)."""
TARGETS_OUTPUT = "IngestionTargets"
ACTIVE = ("STARTING", "IN_PROGRESS", "STOPPING")
BUSY = ("ConflictException", "ServiceQuotaExceededException")
POLL_SECONDS = 15.0
POLL_RANGE = (1.0, 300.0)
"""Seconds between two GetIngestionJob calls that ``POLL`` may ask for: at least a second (a
person watches; each check is an API call), at most five minutes (progress still shows)."""


def ingestion_stack_name(kit: str, stage: str) -> str:
    """The CloudFormation name of the stage's Ingestion stack."""
    from stacks.core.naming import stage_id

    return f"{stage_id(kit, stage)}-{INGESTION_STACK}"


def _error(error: ClientError) -> tuple[str, str]:
    info = error.response.get("Error", {})
    return str(info.get("Code", "")), str(info.get("Message", error))


def poll_seconds(text: str) -> float:
    """``POLL`` as seconds between progress checks; refuses what is not a number in
    :data:`POLL_RANGE`."""
    low, high = POLL_RANGE
    try:
        value = float(text)
    except ValueError:
        value = float("nan")
    if not low <= value <= high:  # also false for nan and inf
        raise ClientProblem(
            f"POLL={text!r} is not allowed: the seconds between progress checks, a number from "
            f"{low:g} to {high:g} (default {POLL_SECONDS:g})"
        )
    return value


def find_target(
    session: botocore.session.Session, region: str, stack: str, kb: str, *, stage: str
) -> tuple[str, str]:
    """``(knowledge base id, data source id)`` of ``kb`` from the stack's targets output;
    ``stage`` is named in the fix when the stack or the target is missing."""
    import json

    cloudformation = session.create_client("cloudformation", region_name=region)
    try:
        stacks = cloudformation.describe_stacks(StackName=stack)["Stacks"]
    except ClientError as error:
        _, message = _error(error)
        if "does not exist" in message:
            raise ClientProblem(
                f"stack {stack} does not exist in {region} for these credentials: deploy the "
                f"stage (make deploy STAGE={stage}) or use the account's profile (PROFILE=<p>)"
            ) from None
        raise ClientProblem(
            f"CloudFormation DescribeStacks {stack} ({region}): {message}"
        ) from None
    except BotoCoreError as error:
        raise ClientProblem(
            f"CloudFormation DescribeStacks {stack} ({region}): {error}\n"
            "AWS may be unreachable, or the credentials expired (aws sso login)."
        ) from None
    outputs = {o["OutputKey"]: o["OutputValue"] for o in stacks[0].get("Outputs") or []}
    try:
        targets = json.loads(outputs[TARGETS_OUTPUT])
        target = targets[kb]
        return str(target["knowledgeBaseId"]), str(target["dataSourceId"])
    except (KeyError, ValueError, TypeError):
        raise ClientProblem(
            f"stack {stack} in {region} has no ingestion target for {kb!r} in its "
            f"{TARGETS_OUTPUT} output: deploy the stage again (make deploy STAGE={stage}) "
            "after adding it"
        ) from None


def start_or_join(agent: Any, kb_id: str, ds_id: str, out: Callable[[str], None]) -> str:
    """Start a job, or return the running one (saying so) when the service is busy."""
    try:
        answer = agent.start_ingestion_job(
            knowledgeBaseId=kb_id, dataSourceId=ds_id, description="make ingest"
        )
        job_id = str(answer["ingestionJob"]["ingestionJobId"])
        out(f"started ingestion job {job_id}")
        return job_id
    except ClientError as error:
        code, message = _error(error)
        if code not in BUSY:
            raise ClientProblem(f"StartIngestionJob: {code}: {message}") from None
    listed = (
        agent.list_ingestion_jobs(
            knowledgeBaseId=kb_id,
            dataSourceId=ds_id,
            filters=[{"attribute": "STATUS", "operator": "EQ", "values": list(ACTIVE)}],
            sortBy={"attribute": "STARTED_AT", "order": "DESCENDING"},
            maxResults=10,
        ).get("ingestionJobSummaries")
        or []
    )
    if not listed:
        raise ClientProblem(
            "StartIngestionJob answered that a job is running, but none is listed: it has "
            "probably just ended; run make ingest again"
        )
    job_id = str(listed[0]["ingestionJobId"])
    out(
        f"a job is already running ({job_id}, started {listed[0].get('startedAt')}): following "
        "it instead; documents changed after it started are picked up by the follow-up job "
        "the kit starts on their upload events (or run make ingest again when it ends)"
    )
    return job_id


def counts(statistics: Mapping[str, Any]) -> str:
    """The job's counts in one line."""
    s = {k: int(v or 0) for k, v in statistics.items()}
    indexed = s.get("numberOfNewDocumentsIndexed", 0) + s.get("numberOfModifiedDocumentsIndexed", 0)
    return (
        f"scanned {s.get('numberOfDocumentsScanned', 0)}, indexed {indexed} "
        f"(new {s.get('numberOfNewDocumentsIndexed', 0)}, "
        f"modified {s.get('numberOfModifiedDocumentsIndexed', 0)}), "
        f"deleted {s.get('numberOfDocumentsDeleted', 0)}, "
        f"failed {s.get('numberOfDocumentsFailed', 0)}"
    )


def follow(
    agent: Any,
    kb_id: str,
    ds_id: str,
    job_id: str,
    *,
    poll_seconds: float,
    out: Callable[[str], None],
    sleep: Callable[[float], None] = time.sleep,
) -> dict[str, Any]:
    """Poll GetIngestionJob until the job ends, printing each change; the final job."""
    shown = ""
    while True:
        try:
            job: dict[str, Any] = agent.get_ingestion_job(
                knowledgeBaseId=kb_id, dataSourceId=ds_id, ingestionJobId=job_id
            )["ingestionJob"]
        except ClientError as error:
            code, message = _error(error)
            raise ClientProblem(f"GetIngestionJob {job_id}: {code}: {message}") from None
        line = f"{job['status']:<12} {counts(job.get('statistics') or {})}"
        if line != shown:
            out(line)
            shown = line
        if job["status"] not in ACTIVE:
            return job
        sleep(poll_seconds)


def summary(job: Mapping[str, Any]) -> tuple[str, bool]:
    """The final report and whether it is a success (COMPLETE, no failed document)."""
    stats = job.get("statistics") or {}
    failed_docs = int(stats.get("numberOfDocumentsFailed") or 0)
    reasons = [str(r) for r in job.get("failureReasons") or []]
    ok = job.get("status") == "COMPLETE" and failed_docs == 0
    lines = [f"ingestion job {job.get('ingestionJobId')}: {job.get('status')}", counts(stats)]
    if reasons:
        lines.append(f"failure reasons ({len(reasons)}):")
        lines += [f"  - {r}" for r in reasons]
    elif not ok:
        lines.append("no failure reasons reported: see the report function's log")
    return "\n".join(lines), ok


def run(
    stage: str,
    kb: str,
    *,
    profile: str | None,
    cdk_json: Path,
    poll_seconds: float,
    out: Callable[[str], None] = print,
    sleep: Callable[[float], None] = time.sleep,
) -> int:
    """``make ingest``: 0 when the job completed cleanly, 1 otherwise (raises ClientProblem).

    ``stage`` empty means the config's default stage; messages name the stage it resolved to.
    """
    plan = stage_plan(stage, cdk_json)
    names = knowledge_base_names(plan, needed_by="make ingest")
    if not kb:
        raise ClientProblem(
            f"name the knowledge base: make ingest KB=<name> STAGE={plan.name}; stage "
            f"{plan.name!r} has: {', '.join(names)}"
        )
    check_knowledge_base(plan, kb, needed_by="make ingest", given_as=f"KB={kb!r}")
    try:
        credential_source(profile)
    except PreflightError as error:
        raise ClientProblem(str(error)) from None
    session = botocore.session.Session(profile=profile)
    stack = ingestion_stack_name(plan.kit_name, plan.name)
    kb_id, ds_id = find_target(session, plan.region, stack, kb, stage=plan.name)
    agent = session.create_client(
        "bedrock-agent", region_name=plan.region, config=Config(retries={"mode": "standard"})
    )
    out(f"knowledge base {kb} ({kb_id}), data source {ds_id}, {plan.region}")
    try:
        job_id = start_or_join(agent, kb_id, ds_id, out)
        job = follow(agent, kb_id, ds_id, job_id, poll_seconds=poll_seconds, out=out, sleep=sleep)
    except BotoCoreError as error:
        raise ClientProblem(f"bedrock-agent ({plan.region}): {error}") from None
    text, ok = summary(job)
    out(text)
    return 0 if ok else 1


def main(argv: Sequence[str] | None = None, *, sleep: Callable[[float], None] = time.sleep) -> int:
    """Command-line entry of ``make ingest``; ``sleep`` waits between progress checks."""
    parser = argparse.ArgumentParser(prog="python -m stacks.tools.ingest")
    parser.add_argument("--stage", default="", help="default: kit.default_stage")
    parser.add_argument("--kb", default="", help="the knowledge base's name in the stage")
    parser.add_argument("--profile", default=None, help="AWS profile (default: AWS_PROFILE)")
    parser.add_argument("--cdk-json", type=Path, default=ROOT / "cdk.json")
    # A string, checked below: argparse's own refusal would print its usage, not the fix.
    parser.add_argument("--poll-seconds", default=str(POLL_SECONDS), help="1-300 (POLL=)")
    args = parser.parse_args(argv)
    try:
        return run(
            args.stage,
            args.kb,
            profile=args.profile or None,
            cdk_json=args.cdk_json,
            poll_seconds=poll_seconds(args.poll_seconds),
            sleep=sleep,
        )
    except ClientProblem as error:
        print(f"make ingest: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
