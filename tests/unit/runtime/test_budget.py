"""The time budget and the retry loop, with a fake clock and fake operations (no sockets)."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import (
    ClientError,
    ConnectionClosedError,
    ConnectTimeoutError,
    EndpointConnectionError,
    ProxyConnectionError,
    ReadTimeoutError,
    SSLError,
)

from kit_runtime import errors
from kit_runtime.bedrock import (
    RETRYABLE_CODES,
    current_attempt_read_timeout,
    invoke,
    map_error,
)
from kit_runtime.budget import (
    MIN_ATTEMPT_READ_SECONDS,
    Deadline,
    attempt_read_timeout,
    backoff_seconds,
    retry_after_seconds,
)
from kit_runtime.contracts.chat import TimeBudget

BUDGET = TimeBudget(
    integration_timeout_ms=29_000,
    safety_margin_ms=500,
    connect_timeout_seconds=2,
    read_timeout_seconds=20,
    max_attempts=4,
    backoff_base_ms=200,
    backoff_max_ms=2_000,
)
NOW = 1_700_000_000.0


class Clock:
    """Epoch seconds that move only when the code sleeps (or a test advances them)."""

    def __init__(self) -> None:
        self.now = NOW
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def client_error(code: str) -> ClientError:
    return ClientError({"Error": {"Code": code, "Message": "no"}}, "Converse")


class Script:
    """An operation that raises the scripted failures in order, then answers."""

    def __init__(self, clock: Clock, *failures: Exception, takes: float = 0.0) -> None:
        self.clock = clock
        self.failures = list(failures)
        self.calls = 0
        self.takes = takes
        self.attempts: list[tuple[float, float]] = []  # (start, read timeout)

    def __call__(self, **_: Any) -> dict[str, str]:
        self.calls += 1
        read_timeout = current_attempt_read_timeout()
        assert read_timeout is not None
        self.attempts.append((self.clock.now, read_timeout))
        if self.takes > read_timeout:  # what the socket would do
            self.clock.now += read_timeout
            raise ReadTimeoutError(endpoint_url="https://bedrock")
        self.clock.now += self.takes
        if self.failures:
            raise self.failures.pop(0)
        return {"ok": "yes"}


def run(clock: Clock, op: Script, budget: TimeBudget = BUDGET, **deadline: Any) -> Any:
    deadline.setdefault("request_time_epoch_ms", int(NOW * 1000))
    deadline.setdefault("function_remaining_ms", 60_000)
    return invoke(
        op,
        {},
        deadline=Deadline.for_request(budget, clock=clock, **deadline),
        budget=budget,
        sleep=clock.sleep,
        rand=lambda: 1.0,
    )


# ----------------------------------------------------------------------------- deadline


def test_the_deadline_is_the_earlier_cut_less_the_margin() -> None:
    clock = Clock()
    margin = BUDGET.safety_margin_ms / 1000
    # Given the gateway received the request 3 s ago, and the function has plenty of time
    by_gateway = Deadline.for_request(
        BUDGET,
        request_time_epoch_ms=int((NOW - 3) * 1000),
        function_remaining_ms=600_000,
        clock=clock,
    )
    assert by_gateway.remaining() == pytest.approx(
        BUDGET.integration_timeout_ms / 1000 - 3 - margin
    )
    # Given the function has less time left than the gateway allows
    by_function = Deadline.for_request(
        BUDGET, request_time_epoch_ms=int(NOW * 1000), function_remaining_ms=5_000, clock=clock
    )
    assert by_function.remaining() == pytest.approx(5 - margin)


def test_a_gateway_clock_ahead_of_the_function_does_not_extend_the_budget() -> None:
    clock = Clock()
    ahead = Deadline.for_request(
        BUDGET,
        request_time_epoch_ms=int((NOW + 10) * 1000),
        function_remaining_ms=None,
        clock=clock,
    )
    assert ahead.remaining() <= (BUDGET.integration_timeout_ms - BUDGET.safety_margin_ms) / 1000


def test_an_attempt_gets_the_read_timeout_cut_to_the_time_left() -> None:
    clock = Clock()
    deadline = Deadline(NOW + 10, clock)
    # Plenty of time: the configured read timeout; little time: what is left after connecting
    assert attempt_read_timeout(Deadline(NOW + 100, clock), BUDGET) == BUDGET.read_timeout_seconds
    assert attempt_read_timeout(deadline, BUDGET) == pytest.approx(
        10 - BUDGET.connect_timeout_seconds
    )
    # Too little time for a useful wait: the attempt must not start
    short = Deadline(NOW + BUDGET.connect_timeout_seconds + MIN_ATTEMPT_READ_SECONDS / 2, clock)
    assert attempt_read_timeout(short, BUDGET) == 0


def test_backoff_is_capped_exponential_with_full_jitter() -> None:
    caps = [backoff_seconds(BUDGET, retry, rand=lambda: 1.0) for retry in range(1, 8)]
    assert caps == sorted(caps) and caps[-1] == BUDGET.backoff_max_ms / 1000
    assert caps[1] == 2 * caps[0]
    assert backoff_seconds(BUDGET, 3, rand=lambda: 0.0) == 0
    assert retry_after_seconds(BUDGET, 1) >= 1


# ----------------------------------------------------------------------------- invoke


@pytest.mark.parametrize("code", sorted(RETRYABLE_CODES))
def test_refusals_before_processing_are_retried(code: str) -> None:
    clock = Clock()
    op = Script(clock, client_error(code), client_error(code))
    assert run(clock, op) == {"ok": "yes"}
    assert op.calls == 3
    assert len(clock.sleeps) == 2 and clock.sleeps[1] > clock.sleeps[0]


def test_a_connection_that_never_opened_is_retried() -> None:
    clock = Clock()
    op = Script(clock, EndpointConnectionError(endpoint_url="https://bedrock"))
    assert run(clock, op) == {"ok": "yes"} and op.calls == 2


NEVER_SENT_FAILURES = [
    EndpointConnectionError(endpoint_url="https://bedrock"),
    ConnectTimeoutError(endpoint_url="https://bedrock"),
    ProxyConnectionError(proxy_url="http://proxy:3128"),
]


@pytest.mark.parametrize("failure", NEVER_SENT_FAILURES, ids=lambda e: type(e).__name__)
def test_a_connection_failure_before_sending_is_retried(failure: Exception) -> None:
    # Given one failure to connect (nothing reached Bedrock), then an answer
    clock = Clock()
    op = Script(clock, failure)
    # When invoked, Then a second attempt after a backoff gets the answer
    assert run(clock, op) == {"ok": "yes"}
    assert op.calls == 2 and len(clock.sleeps) == 1


def test_connect_timeouts_on_every_attempt_end_in_a_503_with_retry_after() -> None:
    # Given every attempt times out while connecting
    clock = Clock()
    op = Script(clock, *[ConnectTimeoutError(endpoint_url="https://bedrock")] * 10)
    # When invoked
    with pytest.raises(errors.KitError) as info:
        run(clock, op)
    # Then every attempt is made, and the caller gets 503 model_unavailable to retry later
    assert op.calls == BUDGET.max_attempts
    assert (info.value.status, info.value.code) == (503, "model_unavailable")
    assert int(info.value.headers["Retry-After"]) >= 1


def test_connect_timeouts_stop_when_no_attempt_fits_the_deadline() -> None:
    # Given connect timeouts that each take the whole connect timeout, and attempts to spare
    clock = Clock()
    budget = BUDGET.model_copy(update={"max_attempts": 1_000})
    failures = [ConnectTimeoutError(endpoint_url="https://bedrock")] * 1_000
    op = Script(clock, *failures, takes=budget.connect_timeout_seconds)
    # When invoked, Then the loop answers 503 (or 504) before the deadline
    with pytest.raises((errors.UpstreamUnavailable, errors.DeadlineExceeded)):
        run(clock, op, budget=budget)
    deadline_at = NOW + (budget.integration_timeout_ms - budget.safety_margin_ms) / 1000
    assert 1 < op.calls < budget.max_attempts and clock.now <= deadline_at


@pytest.mark.parametrize(
    "failure",
    [
        *NEVER_SENT_FAILURES,
        SSLError(endpoint_url="https://bedrock", error="handshake failed"),
        ConnectionClosedError(endpoint_url="https://bedrock"),
    ],
    ids=lambda e: type(e).__name__,
)
def test_every_transport_failure_maps_to_a_503_also_mid_stream(failure: Exception) -> None:
    # Given a transport failure (as the streaming path sees it, outside the retry loop)
    # When mapped, Then it is a 503 with Retry-After, never an unmapped 500
    mapped = map_error(failure, retry_after_s=3)
    assert mapped is not None and (mapped.status, mapped.code) == (503, "model_unavailable")
    assert mapped.headers == {"Retry-After": "3"}


@pytest.mark.parametrize(
    "failure,status",
    [
        (client_error("InternalServerException"), 503),
        (client_error("ModelErrorException"), 503),
        (client_error("ModelTimeoutException"), 504),
        (client_error("ValidationException"), 400),
        (client_error("AccessDeniedException"), 502),
        (client_error("ServiceQuotaExceededException"), 429),
        (ReadTimeoutError(endpoint_url="https://bedrock"), 504),
        (ConnectionClosedError(endpoint_url="https://bedrock"), 503),
        # TLS can also fail while reading the answer, after the request was sent.
        (SSLError(endpoint_url="https://bedrock", error="bad record mac"), 503),
    ],
)
def test_failures_that_may_have_run_the_model_are_not_retried(
    failure: Exception, status: int
) -> None:
    clock = Clock()
    op = Script(clock, failure)
    with pytest.raises(errors.KitError) as info:
        run(clock, op)
    assert op.calls == 1 and clock.sleeps == []
    assert info.value.status == status


def test_attempts_stop_at_max_attempts_with_a_429() -> None:
    clock = Clock()
    op = Script(clock, *[client_error("ThrottlingException")] * 10)
    with pytest.raises(errors.Throttled) as info:
        run(clock, op)
    assert op.calls == BUDGET.max_attempts
    assert int(info.value.headers["Retry-After"]) >= 1


@pytest.mark.parametrize("takes", [0.5, 3.0, 8.0, 15.0])
def test_every_attempt_ends_by_the_deadline(takes: float) -> None:
    # Given throttles that each take ``takes`` seconds to arrive, and attempts to spare
    clock = Clock()
    budget = BUDGET.model_copy(update={"max_attempts": 50})
    op = Script(clock, *[client_error("ThrottlingException")] * 50, takes=takes)
    # When invoked, Then the loop ends with the kit's own 429 or 504 ...
    with pytest.raises((errors.Throttled, errors.DeadlineExceeded)):
        run(clock, op, budget=budget)
    # ... and no attempt could outlast the deadline (connect + read included)
    deadline_at = NOW + (budget.integration_timeout_ms - budget.safety_margin_ms) / 1000
    assert op.calls < budget.max_attempts
    for start, read_timeout in op.attempts:
        assert start + budget.connect_timeout_seconds + read_timeout <= deadline_at + 1e-9
    assert clock.now <= deadline_at


def test_a_spent_budget_starts_no_attempt() -> None:
    clock = Clock()
    op = Script(clock)
    with pytest.raises(errors.DeadlineExceeded) as info:
        run(clock, op, request_time_epoch_ms=int((NOW - 60) * 1000))
    assert op.calls == 0 and info.value.status == 504
