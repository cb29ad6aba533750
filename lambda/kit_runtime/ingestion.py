"""Ingestion that loses nothing: one job at a time per data source, triggers coalesced.

Bedrock runs one ingestion job at a time per data source, and a job reads the data source as
it finds it while running: a change made after a job has started may or may not be in it. So
every trigger (an upload or delete under the data source) must be *covered* by a job that
starts after it, and no job should start that nothing asked for. The :class:`Coordinator`
keeps one record per data source in a store with compare-and-set writes (DynamoDB
conditional writes in Lambda, a locked dict in tests)::

    idle    --trigger-->          running(job)            (claim, StartIngestionJob, follow)
    running --trigger-->          running(job, pending)   (coalesced: one follow-up owed)
    running --job ended-->        idle                    (nothing owed)
    running(pending) --ended-->   running(next job)       (exactly one follow-up)

Every write is conditional on the version read, and retried from a fresh read when another
writer got there first, so concurrent triggers and job ends never lose a ``pending`` flag.
Failures leave a record that the next trigger or the scheduled sweep (:meth:`reconcile`)
repairs: a claim whose writer died, a job whose follower died, a follow-up that could not
start. The record is coordination state only: losing it loses no document (the next trigger
or ``make ingest`` resyncs the whole data source).
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, replace
from typing import Any, Literal, Protocol

from kit_runtime.contracts.ingestion import IngestionSource

ACTIVE = frozenset({"STARTING", "IN_PROGRESS", "STOPPING"})
"""Statuses of a job still running (botocore bedrock-agent ``IngestionJobStatus``)."""
FINAL = frozenset({"COMPLETE", "FAILED", "STOPPED"})
MAX_WRITE_ATTEMPTS = 64
"""Compare-and-set retries before giving up (each retry follows another writer's success)."""
START_ATTEMPTS = 3

State = Literal["idle", "running"]
Action = Literal["started", "adopted", "coalesced", "idle", "ignored"]


@dataclass(frozen=True)
class Record:
    """The coordination state of one data source.

    Attributes
    ----------
    state:
        ``running`` while a job is (or is being) started and followed.
    job_id:
        The running job; ``None`` while a claim has not recorded its job yet.
    pending:
        A trigger arrived that the running job may not cover: one follow-up job is owed.
        On an ``idle`` record it means a job is owed that could not start (the sweep starts it).
    version:
        Incremented by every write; writes are conditional on it (0: no record yet).
    updated_at:
        Epoch seconds of the owner's last write (the lease).
    claim:
        The token of the claim that has yet to record its job.
    """

    state: State = "idle"
    job_id: str | None = None
    pending: bool = False
    version: int = 0
    updated_at: float = 0.0
    claim: str | None = None


@dataclass(frozen=True)
class Outcome:
    """What one call did: ``started``/``adopted`` a job, ``coalesced`` into the running one,
    went ``idle``, or ``ignored`` a stale notice."""

    action: Action
    job_id: str | None = None


class Store(Protocol):
    """Compare-and-set storage of one record per key."""

    def read(self, key: str) -> Record:
        """The current record (strongly consistent); ``Record()`` when there is none."""
        ...

    def put(self, key: str, record: Record, expected_version: int) -> bool:
        """Write ``record`` only if the stored version is ``expected_version`` (0: absent).

        Returns ``False`` when another writer changed the record first.
        """
        ...


class Jobs(Protocol):
    """The ingestion jobs of a data source (Bedrock's StartIngestionJob and friends)."""

    def start(self, source: IngestionSource) -> str:
        """Start a job; its id. Raises :class:`JobBusy` when one already runs."""
        ...

    def status(self, source: IngestionSource, job_id: str) -> str:
        """The job's status (``IngestionJobStatus``)."""
        ...

    def running(self, source: IngestionSource) -> str | None:
        """The id of a job of the data source that is still running, if any."""
        ...


class Followers(Protocol):
    """Starts the watcher that reports a job's end (the Step Functions follower)."""

    def follow(self, source: IngestionSource, job_id: str, attempt: int) -> None:
        """Follow ``job_id``; ``attempt`` distinguishes a restarted follower of the same job."""
        ...


class JobBusy(Exception):
    """The service refused to start a job because one is running (Conflict / quota)."""


class Contention(RuntimeError):
    """Too many concurrent writers in a row: retried later by the caller's redelivery."""


def record_key(source: IngestionSource) -> str:
    """The store key of a data source's record."""
    return f"{source.knowledge_base_id}/{source.data_source_id}"


class Coordinator:
    """Coalesces triggers into at most one follow-up job per data source.

    Parameters
    ----------
    store, jobs, followers:
        The ports (DynamoDB, bedrock-agent and Step Functions in Lambda).
    lease_seconds:
        A ``running`` record older than this is checked against the service: its claimer or
        follower may have died.
    clock:
        Epoch seconds (tests pass their own).
    """

    def __init__(
        self,
        store: Store,
        jobs: Jobs,
        followers: Followers,
        *,
        lease_seconds: float,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.store = store
        self.jobs = jobs
        self.followers = followers
        self.lease_seconds = lease_seconds
        self.clock = clock

    # --- the three notices -------------------------------------------------------------------

    def trigger(self, source: IngestionSource) -> Outcome:
        """A document changed: start a job, or make sure one follows the running job."""
        key = record_key(source)
        for _ in range(MAX_WRITE_ATTEMPTS):
            record = self.store.read(key)
            now = self.clock()
            if record.state == "idle":
                outcome = self._claim(source, record, now)
            elif self._stale(record, now):
                outcome = self._recover(source, record, now, owed=True)
            elif record.pending:
                return Outcome("coalesced", record.job_id)  # a follow-up is already owed
            else:
                # The lease stays as it is: it measures the owner's liveness, not ours.
                flagged = replace(record, pending=True, version=record.version + 1)
                outcome = (
                    Outcome("coalesced", record.job_id) if self._put(key, flagged, record) else None
                )
            if outcome is not None:
                return outcome
        raise Contention(f"{key}: {MAX_WRITE_ATTEMPTS} conflicting writes in a row")

    def job_ended(self, source: IngestionSource, job_id: str) -> Outcome:
        """The followed job reached a final status: start the owed follow-up, else go idle.

        Idempotent: a notice about a job that is no longer the recorded one is ignored, so a
        retried or duplicated follower never ends another job's record.
        """
        key = record_key(source)
        for _ in range(MAX_WRITE_ATTEMPTS):
            record = self.store.read(key)
            if record.state != "running" or record.job_id != job_id:
                return Outcome("ignored", record.job_id)
            now = self.clock()
            if record.pending:
                outcome = self._claim(source, record, now)
            else:
                idle = Record(version=record.version + 1, updated_at=now)
                outcome = Outcome("idle") if self._put(key, idle, record) else None
            if outcome is not None:
                return outcome
        raise Contention(f"{key}: {MAX_WRITE_ATTEMPTS} conflicting writes in a row")

    def release(self, source: IngestionSource, job_id: str) -> Outcome:
        """Following ``job_id`` failed: free the record and owe a job (its outcome is unknown).

        The next trigger or sweep then starts a job, or adopts the running one if the service
        answers that one is still running.
        """
        key = record_key(source)
        for _ in range(MAX_WRITE_ATTEMPTS):
            record = self.store.read(key)
            if record.state != "running" or record.job_id != job_id:
                return Outcome("ignored", record.job_id)
            owed = Record(pending=True, version=record.version + 1, updated_at=self.clock())
            if self._put(key, owed, record):
                return Outcome("idle")
        raise Contention(f"{key}: {MAX_WRITE_ATTEMPTS} conflicting writes in a row")

    def reconcile(self, source: IngestionSource) -> Outcome:
        """The scheduled sweep: start an owed job, repair a record whose owner died."""
        key = record_key(source)
        for _ in range(MAX_WRITE_ATTEMPTS):
            record = self.store.read(key)
            now = self.clock()
            if record.state == "idle":
                if not record.pending:
                    return Outcome("idle")
                outcome = self._claim(source, record, now)
            elif self._stale(record, now):
                outcome = self._recover(source, record, now, owed=False)
            else:
                return Outcome("ignored", record.job_id)
            if outcome is not None:
                return outcome
        raise Contention(f"{key}: {MAX_WRITE_ATTEMPTS} conflicting writes in a row")

    # --- steps -------------------------------------------------------------------------------

    def _stale(self, record: Record, now: float) -> bool:
        return now - record.updated_at >= self.lease_seconds

    def _put(self, key: str, record: Record, read: Record) -> bool:
        return self.store.put(key, record, read.version)

    def _claim(self, source: IngestionSource, before: Record, now: float) -> Outcome | None:
        """Take the record for a new job (``None``: another writer won; read again)."""
        claimed = Record(
            state="running", version=before.version + 1, updated_at=now, claim=uuid.uuid4().hex
        )
        if not self._put(record_key(source), claimed, before):
            return None
        return self._start(source, claimed, before)

    def _start(self, source: IngestionSource, claimed: Record, before: Record) -> Outcome:
        """Start a job for a claimed record, record it and follow it.

        A job the service reports as already running (started from the console, by
        ``make ingest``, or by a claimer that died before recording it) is adopted, and a
        follow-up is owed: it may have started before the change that triggered us.
        """
        adopted = False
        job_id: str | None = None
        try:
            for _ in range(START_ATTEMPTS):
                try:
                    job_id = self.jobs.start(source)
                    break
                except JobBusy:
                    job_id = self.jobs.running(source)
                    if job_id is not None:
                        adopted = True
                        break
                    # It ended between the two calls: start again.
            if job_id is None:
                raise JobBusy(f"{record_key(source)}: the service stays busy with no job listed")
        except Exception:
            self._undo(source, claimed, before)
            raise
        recorded = self._record_job(source, claimed, job_id, owed=adopted)
        if recorded is None:
            return Outcome("ignored", job_id)  # the claim was taken over after its lease
        self.followers.follow(source, job_id, recorded.version)
        return Outcome("adopted" if adopted else "started", job_id)

    def _record_job(
        self, source: IngestionSource, claimed: Record, job_id: str, *, owed: bool
    ) -> Record | None:
        key = record_key(source)
        for _ in range(MAX_WRITE_ATTEMPTS):
            current = self.store.read(key)
            if current.claim != claimed.claim:
                return None
            # A trigger may have set pending since the claim: keep it (it may predate the job).
            recorded = replace(
                current,
                job_id=job_id,
                pending=current.pending or owed,
                claim=None,
                version=current.version + 1,
                updated_at=self.clock(),
            )
            if self._put(key, recorded, current):
                return recorded
        raise Contention(f"{key}: {MAX_WRITE_ATTEMPTS} conflicting writes in a row")

    def _undo(self, source: IngestionSource, claimed: Record, before: Record) -> None:
        """Give a claim back after the job could not start, keeping every owed job owed."""
        key = record_key(source)
        for _ in range(MAX_WRITE_ATTEMPTS):
            current = self.store.read(key)
            if current.claim != claimed.claim:
                return
            restored = replace(
                before,
                pending=before.pending or current.pending,
                claim=None,
                version=current.version + 1,
                updated_at=self.clock(),
            )
            if self._put(key, restored, current):
                return

    def _recover(
        self, source: IngestionSource, record: Record, now: float, *, owed: bool
    ) -> Outcome | None:
        """A ``running`` record past its lease: its claimer or its follower may be gone.

        A job still running gets a new follower (a second one is harmless: job ends are
        idempotent per job id); a job that ended (or never started) is replaced by a new one
        when one is owed, else the record goes idle.
        """
        key = record_key(source)
        job_id = record.job_id or self.jobs.running(source)
        if job_id is not None and self.jobs.status(source, job_id) in ACTIVE:
            renewed = replace(
                record,
                job_id=job_id,
                # A job found by listing may have started before the claimer's trigger.
                pending=record.pending or owed or record.job_id is None,
                claim=None,
                version=record.version + 1,
                updated_at=now,
            )
            if not self._put(key, renewed, record):
                return None
            self.followers.follow(source, job_id, renewed.version)
            return Outcome("adopted", job_id)
        if owed or record.pending or record.job_id is None:
            return self._claim(source, record, now)
        idle = Record(version=record.version + 1, updated_at=now)
        return Outcome("idle") if self._put(key, idle, record) else None


# --- Mapping events to data sources --------------------------------------------------------


def sources_for_object(
    sources: Iterable[IngestionSource], bucket: str, key: str
) -> list[IngestionSource]:
    """The data sources an object belongs to (its bucket, under their prefix)."""
    return [s for s in sources if s.bucket_name == bucket and key.startswith(s.prefix)]


def changed_object(event: Mapping[str, Any]) -> tuple[str, str] | None:
    """``(bucket, key)`` of an EventBridge S3 ``Object Created``/``Object Deleted`` event."""
    if event.get("source") != "aws.s3":
        return None
    detail = event.get("detail") or {}
    bucket = (detail.get("bucket") or {}).get("name")
    key = (detail.get("object") or {}).get("key")
    if not isinstance(bucket, str) or not isinstance(key, str):
        return None
    return bucket, key


# --- Reporting a job -----------------------------------------------------------------------

STATISTICS = {
    "scanned": "numberOfDocumentsScanned",
    "new_indexed": "numberOfNewDocumentsIndexed",
    "modified_indexed": "numberOfModifiedDocumentsIndexed",
    "deleted": "numberOfDocumentsDeleted",
    "failed": "numberOfDocumentsFailed",
    "skipped": "numberOfDocumentsSkipped",
    "metadata_scanned": "numberOfMetadataDocumentsScanned",
    "metadata_modified": "numberOfMetadataDocumentsModified",
}


@dataclass(frozen=True)
class JobReport:
    """One finished job, as a log entry and metrics."""

    source: str
    job_id: str
    status: str
    statistics: dict[str, int]
    failure_reasons: list[str]
    failure_reasons_clipped: int
    duration_seconds: float | None

    @property
    def failed(self) -> bool:
        return self.status != "COMPLETE" or self.statistics.get("failed", 0) > 0

    def log_entry(self) -> dict[str, Any]:
        """The structured log entry (no document content: reasons name files, not text)."""
        return {
            "knowledge_base": self.source,
            "ingestion_job_id": self.job_id,
            "status": self.status,
            "statistics": self.statistics,
            "failure_reasons": self.failure_reasons,
            "failure_reasons_clipped": self.failure_reasons_clipped,
            "duration_seconds": self.duration_seconds,
        }

    def metrics(self) -> dict[str, float]:
        """Metric name -> value (namespace and dimensions are the handler's)."""
        values: dict[str, float] = {
            "IngestionJobsFailed": 0.0 if self.status == "COMPLETE" else 1.0,
            "DocumentsFailed": float(self.statistics.get("failed", 0)),
            "DocumentsIndexed": float(
                self.statistics.get("new_indexed", 0) + self.statistics.get("modified_indexed", 0)
            ),
            "DocumentsDeleted": float(self.statistics.get("deleted", 0)),
        }
        if self.duration_seconds is not None:
            values["JobDurationSeconds"] = self.duration_seconds
        return values


def job_report(source: str, job: Mapping[str, Any], *, reasons_shown: int) -> JobReport:
    """Build a report from GetIngestionJob's ``ingestionJob`` (SDK or Step Functions casing).

    The Step Functions SDK integration answers with PascalCase keys (``Status``,
    ``Statistics.NumberOfDocumentsFailed``); boto3 with camelCase. Both are read.
    """
    job = _camel(job)
    stats_raw = job.get("statistics") or {}
    statistics = {name: int(stats_raw.get(field) or 0) for name, field in STATISTICS.items()}
    reasons = [str(r) for r in job.get("failureReasons") or []]
    return JobReport(
        source=source,
        job_id=str(job.get("ingestionJobId", "")),
        status=str(job.get("status", "UNKNOWN")),
        statistics=statistics,
        failure_reasons=reasons[:reasons_shown],
        failure_reasons_clipped=max(0, len(reasons) - reasons_shown),
        duration_seconds=_duration(job.get("startedAt"), job.get("updatedAt")),
    )


def _camel(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {(k[:1].lower() + k[1:]): _camel(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_camel(v) for v in value]
    return value


def _duration(started: Any, ended: Any) -> float | None:
    from datetime import datetime

    def parse(v: Any) -> datetime | None:
        if isinstance(v, datetime):
            return v
        if isinstance(v, str) and v:
            try:
                return datetime.fromisoformat(v.replace("Z", "+00:00"))
            except ValueError:
                return None
        return None

    a, b = parse(started), parse(ended)
    if a is None or b is None:
        return None
    return max(0.0, (b - a).total_seconds())


# --- Adapters: the ports over boto3 clients --------------------------------------------------

# StartIngestionJob declares both (botocore bedrock-agent 2023-06-05, checked 2026-12-01); which
# one the service answers while a job runs is undocumented
# (docs/research/knowledge-bases-aws-facts.md section 2): either means busy.
BUSY_ERRORS = frozenset({"ConflictException", "ServiceQuotaExceededException"})
TABLE_KEY = "pk"


class DynamoStore:
    """:class:`Store` over a DynamoDB table (partition key ``pk``), low-level client.

    ``put`` is one conditional ``PutItem``: ``attribute_not_exists(pk)`` for a first write,
    else ``version = :expected``; ``ConditionalCheckFailedException`` means another writer won.
    """

    def __init__(self, client: Any, table_name: str) -> None:
        self.client = client
        self.table_name = table_name

    def read(self, key: str) -> Record:
        item = self.client.get_item(
            TableName=self.table_name, Key={TABLE_KEY: {"S": key}}, ConsistentRead=True
        ).get("Item")
        if not item:
            return Record()
        return Record(
            state="running" if item["state"]["S"] == "running" else "idle",
            job_id=item["job_id"]["S"] if "job_id" in item else None,
            pending=item["pending"]["BOOL"],
            version=int(item["version"]["N"]),
            updated_at=float(item["updated_at"]["N"]),
            claim=item["claim"]["S"] if "claim" in item else None,
        )

    def put(self, key: str, record: Record, expected_version: int) -> bool:
        from botocore.exceptions import ClientError

        item: dict[str, Any] = {
            TABLE_KEY: {"S": key},
            "state": {"S": record.state},
            "pending": {"BOOL": record.pending},
            "version": {"N": str(record.version)},
            "updated_at": {"N": repr(float(record.updated_at))},
        }
        if record.job_id is not None:
            item["job_id"] = {"S": record.job_id}
        if record.claim is not None:
            item["claim"] = {"S": record.claim}
        condition: dict[str, Any]
        if expected_version == 0:
            condition = {"ConditionExpression": f"attribute_not_exists({TABLE_KEY})"}
        else:
            condition = {
                "ConditionExpression": "#version = :expected",
                "ExpressionAttributeNames": {"#version": "version"},
                "ExpressionAttributeValues": {":expected": {"N": str(expected_version)}},
            }
        try:
            self.client.put_item(TableName=self.table_name, Item=item, **condition)
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException":
                return False
            raise
        return True


class BedrockJobs:
    """:class:`Jobs` over a ``bedrock-agent`` client."""

    def __init__(self, client: Any, *, description: str = "started by bedrock-cdk-kit") -> None:
        self.client = client
        self.description = description

    def start(self, source: IngestionSource) -> str:
        from botocore.exceptions import ClientError

        try:
            answer = self.client.start_ingestion_job(
                knowledgeBaseId=source.knowledge_base_id,
                dataSourceId=source.data_source_id,
                description=self.description,
            )
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") in BUSY_ERRORS:
                raise JobBusy(str(error)) from error
            raise
        return str(answer["ingestionJob"]["ingestionJobId"])

    def status(self, source: IngestionSource, job_id: str) -> str:
        return str(self.get(source, job_id)["status"])

    def get(self, source: IngestionSource, job_id: str) -> dict[str, Any]:
        """GetIngestionJob's ``ingestionJob``."""
        answer = self.client.get_ingestion_job(
            knowledgeBaseId=source.knowledge_base_id,
            dataSourceId=source.data_source_id,
            ingestionJobId=job_id,
        )
        job: dict[str, Any] = answer["ingestionJob"]
        return job

    def running(self, source: IngestionSource) -> str | None:
        answer = self.client.list_ingestion_jobs(
            knowledgeBaseId=source.knowledge_base_id,
            dataSourceId=source.data_source_id,
            filters=[{"attribute": "STATUS", "operator": "EQ", "values": sorted(ACTIVE)}],
            sortBy={"attribute": "STARTED_AT", "order": "DESCENDING"},
            maxResults=10,
        )
        jobs = answer.get("ingestionJobSummaries") or []
        return str(jobs[0]["ingestionJobId"]) if jobs else None


class StepFunctionsFollowers:
    """:class:`Followers` that start one execution of the follower state machine per job.

    The execution name is ``<data source>-<job>-<attempt>``: a retried start of the same
    follower is refused by Step Functions (``ExecutionAlreadyExists``) and ignored here.
    """

    def __init__(self, client: Any, state_machine_arn: str) -> None:
        self.client = client
        self.state_machine_arn = state_machine_arn

    def follow(self, source: IngestionSource, job_id: str, attempt: int) -> None:
        from botocore.exceptions import ClientError

        from kit_runtime.contracts.ingestion import FollowInput

        document = FollowInput(
            source=source.name,
            knowledgeBaseId=source.knowledge_base_id,
            dataSourceId=source.data_source_id,
            ingestionJobId=job_id,
        )
        try:
            self.client.start_execution(
                stateMachineArn=self.state_machine_arn,
                name=f"{source.data_source_id}-{job_id}-{attempt}"[:80],
                input=document.model_dump_json(),
            )
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") != "ExecutionAlreadyExists":
                raise
