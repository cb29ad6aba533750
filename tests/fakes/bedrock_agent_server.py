"""A local stand-in for Bedrock's ingestion jobs: an in-process service and a restJson1 server.

:class:`IngestionService` holds jobs per data source and enforces the service's rule that one
job runs at a time (a start while one runs answers ``ConflictException``). Jobs progress as a
test scripts them: each ``GetIngestionJob`` answers the job's status, then moves it one step
along its script (e.g.
``STARTING -> IN_PROGRESS -> COMPLETE``), or a test ends jobs itself (:meth:`finish`).

:class:`BedrockAgentServer` serves it over HTTP the way botocore's ``bedrock-agent`` client
speaks (restJson1: ``PUT .../ingestionjobs/`` starts, ``GET .../ingestionjobs/<id>`` reads,
``POST .../ingestionjobs/`` lists), so the ``make ingest`` tool runs through real boto3.
:class:`MemoryStore` is the coordinator's store with DynamoDB's conditional-write guarantee.
"""

from __future__ import annotations

import itertools
import json
import random
import re
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler
from typing import Any

from kit_runtime.contracts.ingestion import IngestionSource
from kit_runtime.ingestion import ACTIVE, JobBusy, Record
from tests.support.local_server import LocalServer

_EPOCH = datetime(2026, 12, 1, tzinfo=UTC)


@dataclass
class Job:
    """One ingestion job and the statuses it will pass through."""

    job_id: str
    knowledge_base_id: str
    data_source_id: str
    script: list[str]
    statistics: dict[str, int] = field(default_factory=dict)
    failure_reasons: list[str] = field(default_factory=list)
    started_seq: int = 0
    step: int = 0

    @property
    def status(self) -> str:
        return self.script[min(self.step, len(self.script) - 1)]

    def document(self) -> dict[str, Any]:
        """The ``IngestionJob`` shape (botocore bedrock-agent 2023-06-05)."""
        return {
            "knowledgeBaseId": self.knowledge_base_id,
            "dataSourceId": self.data_source_id,
            "ingestionJobId": self.job_id,
            "status": self.status,
            "statistics": self.statistics,
            "failureReasons": self.failure_reasons,
            "startedAt": _EPOCH.isoformat(),
            "updatedAt": (_EPOCH + timedelta(seconds=30 * (self.step + 1))).isoformat(),
        }


class IngestionService:
    """Jobs per data source, one running at a time, with a global order of events.

    Parameters
    ----------
    script:
        Statuses every new job passes through, one step per GetIngestionJob (the last repeats).
    sequence:
        A shared counter (tests number their triggers with the same one, so "a job started
        after this trigger" is a comparison).
    """

    def __init__(
        self,
        script: Sequence[str] = ("STARTING", "IN_PROGRESS", "COMPLETE"),
        *,
        sequence: Callable[[], int] | None = None,
        statistics: dict[str, int] | None = None,
        failure_reasons: Sequence[str] = (),
    ) -> None:
        self.script = list(script)
        self.statistics = dict(statistics or {})
        self.failure_reasons = list(failure_reasons)
        counter = itertools.count(1)
        self.sequence = sequence or (lambda: next(counter))
        self.jobs: list[Job] = []
        self.conflicts = 0
        self.overlaps = 0
        self.lock = threading.Lock()
        self._ids = itertools.count(1)

    # --- the API -----------------------------------------------------------------------------

    def start_job(self, kb: str, ds: str) -> Job:
        """Start a job; raises :class:`JobBusy` while one runs (the service's Conflict)."""
        with self.lock:
            if self.active(kb, ds) is not None:
                self.conflicts += 1
                raise JobBusy(f"a job is running for {kb}/{ds}")
            job = Job(
                job_id=f"JOB{next(self._ids):07d}",
                knowledge_base_id=kb,
                data_source_id=ds,
                script=list(self.script),
                statistics=dict(self.statistics),
                failure_reasons=list(self.failure_reasons),
                started_seq=self.sequence(),
            )
            self.jobs.append(job)
            return job

    def get_job(self, kb: str, ds: str, job_id: str, *, advance: bool = True) -> Job | None:
        with self.lock:
            job = next((j for j in self.jobs if j.job_id == job_id), None)
            if job is None or (job.knowledge_base_id, job.data_source_id) != (kb, ds):
                return None
            seen = replace(job, script=list(job.script))  # what this call answers
            if advance and job.step < len(job.script) - 1:
                job.step += 1  # the next call sees the next step
            return seen

    def active(self, kb: str, ds: str) -> Job | None:
        running = [
            j
            for j in self.jobs
            if (j.knowledge_base_id, j.data_source_id) == (kb, ds) and j.status in ACTIVE
        ]
        return running[-1] if running else None

    def finish(self, job_id: str, status: str = "COMPLETE") -> None:
        """End a job now (tests that drive job ends themselves)."""
        with self.lock:
            job = next(j for j in self.jobs if j.job_id == job_id)
            job.script = [*job.script[: job.step], status]
            job.step = len(job.script) - 1


class ServiceJobs:
    """The coordinator's :class:`~kit_runtime.ingestion.Jobs` port over the service."""

    def __init__(self, service: IngestionService) -> None:
        self.service = service

    def start(self, source: IngestionSource) -> str:
        return self.service.start_job(source.knowledge_base_id, source.data_source_id).job_id

    def status(self, source: IngestionSource, job_id: str) -> str:
        job = self.service.get_job(
            source.knowledge_base_id, source.data_source_id, job_id, advance=False
        )
        assert job is not None, job_id
        return job.status

    def running(self, source: IngestionSource) -> str | None:
        with self.service.lock:
            job = self.service.active(source.knowledge_base_id, source.data_source_id)
            return job.job_id if job else None


class MemoryStore:
    """The coordinator's store with DynamoDB's guarantee: a conditional write is atomic.

    ``history`` lists every successful write as ``(sequence, key, record)``.
    """

    def __init__(
        self, sequence: Callable[[], int] | None = None, *, yield_seconds: float = 0.0
    ) -> None:
        self.yield_seconds = yield_seconds
        """Sleep after each read (outside the lock), so concurrent writers interleave often."""
        self._items: dict[str, Record] = {}
        self._lock = threading.Lock()
        counter = itertools.count(1)
        self.sequence = sequence or (lambda: next(counter))
        self.history: list[tuple[int, str, Record]] = []
        self.conflicts = 0

    def read(self, key: str) -> Record:
        with self._lock:
            record = self._items.get(key, Record())
        if self.yield_seconds:
            time.sleep(random.random() * self.yield_seconds)
        return record

    def put(self, key: str, record: Record, expected_version: int) -> bool:
        with self._lock:
            current = self._items.get(key)
            if (current.version if current else 0) != expected_version:
                self.conflicts += 1
                return False
            self._items[key] = record
            self.history.append((self.sequence(), key, record))
            return True


# --- The restJson1 server ------------------------------------------------------------------------

_PATH = re.compile(
    r"^/knowledgebases/(?P<kb>[^/]+)/datasources/(?P<ds>[^/]+)/ingestionjobs/(?P<job>[^/]*)$"
)


class BedrockAgentServer(LocalServer):
    """``StartIngestionJob``, ``GetIngestionJob`` and ``ListIngestionJobs`` over HTTP.

    ``calls`` records each operation by name, in order.
    """

    def __init__(self, service: IngestionService) -> None:
        self.service = service
        self.calls: list[str] = []
        super().__init__(_handler_for(self))


def _handler_for(fake: BedrockAgentServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def _route(self) -> None:
            length = int(self.headers.get("content-length") or 0)
            body = json.loads(self.rfile.read(length) or b"{}")
            match = _PATH.match(self.path.split("?")[0])
            if match is None:
                self._error(404, "ResourceNotFoundException", f"no route {self.path}")
                return
            kb, ds, job_id = match["kb"], match["ds"], match["job"]
            service = fake.service
            if self.command == "PUT" and not job_id:
                fake.calls.append("StartIngestionJob")
                try:
                    job = service.start_job(kb, ds)
                except JobBusy as busy:
                    self._error(409, "ConflictException", str(busy))
                    return
                self._send(202, {"ingestionJob": job.document()})
            elif self.command == "GET" and job_id:
                fake.calls.append("GetIngestionJob")
                found = service.get_job(kb, ds, job_id)
                if found is None:
                    self._error(404, "ResourceNotFoundException", f"no job {job_id}")
                    return
                self._send(200, {"ingestionJob": found.document()})
            elif self.command == "POST" and not job_id:
                fake.calls.append("ListIngestionJobs")
                wanted: set[str] = set()
                for f in body.get("filters") or []:
                    if f.get("attribute") == "STATUS":
                        wanted.update(f.get("values") or [])
                with service.lock:
                    jobs = [
                        j
                        for j in reversed(service.jobs)
                        if (j.knowledge_base_id, j.data_source_id) == (kb, ds)
                        and (not wanted or j.status in wanted)
                    ]
                summaries = [
                    {k: v for k, v in j.document().items() if k != "failureReasons"} for j in jobs
                ]
                self._send(200, {"ingestionJobSummaries": summaries})
            else:
                self._error(400, "ValidationException", f"{self.command} {self.path}")

        def _error(self, status: int, code: str, message: str) -> None:
            self._send(status, {"message": message}, code)

        def _send(self, status: int, document: dict[str, Any], error: str | None = None) -> None:
            data = json.dumps(document).encode()
            self.send_response(status)
            self.send_header("content-type", "application/json")
            if error:
                self.send_header("x-amzn-errortype", error)
            self.send_header("content-length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        do_GET = do_POST = do_PUT = _route

        def log_message(self, format: str, *args: object) -> None:  # noqa: A002
            """Silence the per-request log line."""

    return Handler
