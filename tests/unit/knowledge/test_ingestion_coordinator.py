"""The coordinator: triggers during a job coalesce into exactly one follow-up; nothing is lost."""

from __future__ import annotations

import itertools
import random
import threading
import time
from dataclasses import dataclass, field

import pytest

from kit_runtime.contracts.ingestion import IngestionSource
from kit_runtime.ingestion import Coordinator, JobBusy, Record, record_key
from tests.fakes.bedrock_agent_server import IngestionService, MemoryStore, ServiceJobs
from tests.support.ingestion import ingestion_source

SOURCE = ingestion_source("docs")
LEASE = 900.0


@dataclass
class Followers:
    """Records each follower started: (job id, attempt)."""

    started: list[tuple[str, int]] = field(default_factory=list)
    fail: bool = False

    def follow(self, source: IngestionSource, job_id: str, attempt: int) -> None:
        if self.fail:
            raise RuntimeError("StartExecution failed")
        self.started.append((job_id, attempt))


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


@dataclass
class World:
    service: IngestionService
    store: MemoryStore
    followers: Followers
    clock: Clock
    coordinator: Coordinator

    def record(self) -> Record:
        return self.store.read(record_key(SOURCE))

    def end_running_job(self, status: str = "COMPLETE") -> str:
        job_id = self.record().job_id
        assert job_id is not None
        self.service.finish(job_id, status)
        return job_id


def world(
    script: tuple[str, ...] = ("STARTING", "IN_PROGRESS", "COMPLETE"), yield_seconds: float = 0.0
) -> World:
    counter = itertools.count(1)
    lock = threading.Lock()

    def sequence() -> int:
        with lock:
            return next(counter)

    service = IngestionService(script, sequence=sequence)
    store = MemoryStore(sequence, yield_seconds=yield_seconds)
    followers = Followers()
    clock = Clock()
    coordinator = Coordinator(
        store, ServiceJobs(service), followers, lease_seconds=LEASE, clock=clock
    )
    return World(service, store, followers, clock, coordinator)


def test_given_an_idle_source_when_triggered_then_a_job_starts_and_is_followed() -> None:
    w = world()

    outcome = w.coordinator.trigger(SOURCE)

    assert outcome.action == "started"
    assert [j.job_id for j in w.service.jobs] == [outcome.job_id]
    assert [job for job, _ in w.followers.started] == [outcome.job_id]
    assert w.record().state == "running" and not w.record().pending


def test_given_a_running_job_when_two_triggers_arrive_then_exactly_one_follow_up_starts() -> None:
    w = world()
    first = w.coordinator.trigger(SOURCE).job_id
    assert first is not None

    second = w.coordinator.trigger(SOURCE)
    third = w.coordinator.trigger(SOURCE)
    w.end_running_job()
    ended = w.coordinator.job_ended(SOURCE, first)

    assert (second.action, third.action) == ("coalesced", "coalesced")
    assert ended.action == "started"
    assert len(w.service.jobs) == 2
    # And when the follow-up ends with nothing new, the source goes idle
    follow_up = w.end_running_job()
    assert w.coordinator.job_ended(SOURCE, follow_up).action == "idle"
    assert len(w.service.jobs) == 2 and w.record().state == "idle"


def test_given_a_job_that_ended_when_triggered_then_a_new_job_starts() -> None:
    w = world()
    first = w.coordinator.trigger(SOURCE).job_id
    assert first is not None
    w.end_running_job()
    assert w.coordinator.job_ended(SOURCE, first).action == "idle"

    outcome = w.coordinator.trigger(SOURCE)

    assert outcome.action == "started" and outcome.job_id != first
    assert w.service.conflicts == 0


def test_given_a_duplicated_end_notice_then_the_follow_up_is_not_ended_by_it() -> None:
    w = world()
    first = w.coordinator.trigger(SOURCE).job_id
    assert first is not None
    w.coordinator.trigger(SOURCE)
    w.end_running_job()
    follow_up = w.coordinator.job_ended(SOURCE, first).job_id

    again = w.coordinator.job_ended(SOURCE, first)  # a retried follower of the first job

    assert again.action == "ignored"
    assert w.record().job_id == follow_up and w.record().state == "running"


def test_given_a_job_started_elsewhere_when_triggered_then_it_is_adopted_and_a_follow_up_owed() -> (
    None
):
    # Given a job started outside the coordinator (console, make ingest): the table says idle
    w = world()
    outside = w.service.start_job(SOURCE.knowledge_base_id, SOURCE.data_source_id).job_id

    # When a trigger arrives, StartIngestionJob answers Conflict
    outcome = w.coordinator.trigger(SOURCE)

    # Then the running job is followed, and one follow-up is owed (it may predate the change)
    assert outcome.action == "adopted" and outcome.job_id == outside
    assert w.record().pending is True
    w.end_running_job()
    assert w.coordinator.job_ended(SOURCE, outside).action == "started"
    assert len(w.service.jobs) == 2


def test_given_a_start_that_fails_then_the_claim_is_given_back_and_the_error_raised() -> None:
    class Refusing(ServiceJobs):
        def start(self, source: IngestionSource) -> str:
            raise RuntimeError("ThrottlingException")

    w = world()
    w.coordinator.jobs = Refusing(w.service)

    with pytest.raises(RuntimeError, match="Throttling"):
        w.coordinator.trigger(SOURCE)

    # The record is free again, so the redelivered message starts the job
    assert w.record().state == "idle" and w.record().claim is None
    w.coordinator.jobs = ServiceJobs(w.service)
    assert w.coordinator.trigger(SOURCE).action == "started"


def test_given_a_follow_up_that_cannot_start_then_it_stays_owed_for_the_retried_notice() -> None:
    w = world()
    first = w.coordinator.trigger(SOURCE).job_id
    assert first is not None
    w.coordinator.trigger(SOURCE)
    w.end_running_job()
    jobs = w.coordinator.jobs

    class Refusing(ServiceJobs):
        def start(self, source: IngestionSource) -> str:
            raise RuntimeError("ThrottlingException")

    w.coordinator.jobs = Refusing(w.service)
    with pytest.raises(RuntimeError):
        w.coordinator.job_ended(SOURCE, first)
    assert w.record().job_id == first and w.record().pending is True

    # When Step Functions retries the report step
    w.coordinator.jobs = jobs
    assert w.coordinator.job_ended(SOURCE, first).action == "started"


def test_given_a_dead_follower_when_the_lease_passes_then_a_trigger_takes_over() -> None:
    # Given a job whose follower died: the job ended, the record still says running
    w = world()
    first = w.coordinator.trigger(SOURCE).job_id
    assert first is not None
    w.end_running_job()

    # Within the lease a trigger only coalesces
    assert w.coordinator.trigger(SOURCE).action == "coalesced"
    assert len(w.service.jobs) == 1

    # After the lease the trigger checks the job, sees it ended, and starts a new one
    w.clock.now += LEASE
    outcome = w.coordinator.trigger(SOURCE)
    assert outcome.action == "started" and outcome.job_id != first
    assert len(w.service.jobs) == 2 and w.service.conflicts == 0


def test_given_a_dead_follower_of_a_running_job_when_swept_then_a_new_follower_starts() -> None:
    w = world()
    first = w.coordinator.trigger(SOURCE).job_id
    w.clock.now += LEASE

    outcome = w.coordinator.reconcile(SOURCE)

    assert outcome.action == "adopted" and outcome.job_id == first
    attempts = [a for job, a in w.followers.started if job == first]
    assert len(attempts) == 2 and len(set(attempts)) == 2  # distinct execution names
    assert len(w.service.jobs) == 1


def test_given_a_claimer_that_died_before_starting_when_swept_then_the_owed_job_starts() -> None:
    # Given a claim written by a function that died before StartIngestionJob
    w = world()
    key = record_key(SOURCE)
    assert w.store.put(
        key, Record(state="running", version=1, updated_at=w.clock.now, claim="x"), 0
    )
    assert w.coordinator.reconcile(SOURCE).action == "ignored"  # within its lease

    w.clock.now += LEASE
    outcome = w.coordinator.reconcile(SOURCE)

    assert outcome.action == "started" and len(w.service.jobs) == 1


def test_given_a_lost_follower_when_released_then_the_sweep_starts_the_owed_job() -> None:
    w = world()
    first = w.coordinator.trigger(SOURCE).job_id
    assert first is not None
    w.end_running_job("FAILED")

    assert w.coordinator.release(SOURCE, first).action == "idle"
    assert w.record().pending is True

    assert w.coordinator.reconcile(SOURCE).action == "started"
    assert len(w.service.jobs) == 2


def test_given_a_busy_service_with_no_job_listed_then_the_trigger_fails_and_frees_the_record() -> (
    None
):
    class Ghost(ServiceJobs):
        def start(self, source: IngestionSource) -> str:
            raise JobBusy("ServiceQuotaExceededException")

        def running(self, source: IngestionSource) -> str | None:
            return None

    w = world()
    w.coordinator.jobs = Ghost(w.service)

    with pytest.raises(JobBusy):
        w.coordinator.trigger(SOURCE)

    assert w.record().state == "idle"


@pytest.mark.parametrize("threads", [8, 16])
def test_given_concurrent_triggers_while_jobs_end_then_every_trigger_is_covered_once(
    threads: int,
) -> None:
    # Given N threads firing triggers while a driver ends jobs and notifies the coordinator
    # (the store yields after each read, so read-then-write races happen often)
    w = world(script=("IN_PROGRESS",), yield_seconds=0.0005)
    sequence = w.store.sequence
    triggers: list[tuple[int, int]] = []  # (sequence at call, sequence at return)
    lock = threading.Lock()
    stop = threading.Event()
    errors: list[BaseException] = []

    def fire(seed: int) -> None:
        rng = random.Random(seed)
        try:
            for _ in range(25):
                before = sequence()
                w.coordinator.trigger(SOURCE)
                after = sequence()
                with lock:
                    triggers.append((before, after))
                time.sleep(rng.random() / 2000)
        except BaseException as error:  # pragma: no cover - reported below
            errors.append(error)

    def drive() -> None:
        while not stop.is_set() or w.record().state == "running":
            job_id = w.record().job_id
            if job_id is not None and w.record().claim is None:
                w.service.finish(job_id)
                w.coordinator.job_ended(SOURCE, job_id)
            time.sleep(0.0005)

    driver = threading.Thread(target=drive)
    driver.start()
    workers = [threading.Thread(target=fire, args=(i,)) for i in range(threads)]
    for t in workers:
        t.start()
    for t in workers:
        t.join()
    stop.set()
    driver.join(timeout=30)

    assert not errors and not driver.is_alive()
    jobs = w.service.jobs
    # Then no two jobs ever ran at once (the service never answered Conflict)
    assert w.service.conflicts == 0
    # And every trigger is covered by a job that started after it was made
    starts = [j.started_seq for j in jobs]
    assert all(any(s > before for s in starts) for before, _ in triggers)
    # And no job is redundant: each after the first had a trigger that returned after the
    # previous job was claimed, and was made before this job started
    claims = [seq for seq, _, rec in w.store.history if rec.claim is not None]
    for previous_claim, job in zip(claims, jobs[1:], strict=False):
        assert any(
            after > previous_claim and before < job.started_seq for before, after in triggers
        ), job.job_id
    # And far fewer jobs ran than triggers were made (they coalesced)
    assert len(jobs) < len(triggers)
    assert w.record().state == "idle" and not w.record().pending
