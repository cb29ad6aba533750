"""One time budget: retries within it, no attempt that cannot finish, the kit's own 504/429.

The local server delays and throttles; the test budget uses millisecond backoff and a few
seconds of integration timeout, so every test here ends in well under a second or two.
"""

from __future__ import annotations

import time

from tests.fakes import Reply
from tests.support.chat_api import Api, LambdaContext, make_settings

HELLO = {"messages": [{"role": "user", "content": "hello"}]}


def test_a_throttle_within_the_budget_is_retried_and_absorbed(chat_api: Api) -> None:
    # Given Bedrock throttles once, then answers
    chat_api.server.enqueue(Reply.throttle(times=1), Reply.text("ok after retry"))
    # When a client asks
    got = chat_api.chat(HELLO)
    # Then the runtime retried once and the caller never saw the throttle
    assert got.status == 200 and got.body["text"] == "ok after retry"
    assert len(chat_api.server.requests) == 2


def test_service_unavailable_and_model_not_ready_are_retried(chat_api: Api) -> None:
    chat_api.server.enqueue(
        Reply.service_error("ServiceUnavailableException"),
        Reply.service_error("ModelNotReadyException"),
        Reply.text("ready now"),
    )
    got = chat_api.chat(HELLO)
    assert got.status == 200 and got.body["text"] == "ready now"
    assert len(chat_api.server.requests) == 3


def test_throttling_on_every_attempt_is_429_with_retry_after(chat_api: Api) -> None:
    # Given Bedrock throttles every attempt the budget allows
    attempts = chat_api.settings.budget.max_attempts
    chat_api.server.enqueue(Reply.throttle(times=attempts + 5))
    # When a client asks
    got = chat_api.chat(HELLO)
    # Then exactly max_attempts calls were made (botocore adds none) and the caller gets 429
    assert len(chat_api.server.requests) == attempts
    assert got.status == 429
    assert got.body["error"]["code"] == "throttled"
    assert int(got.headers["Retry-After"]) >= 1


def test_a_failure_that_may_have_run_the_model_is_never_retried(chat_api: Api) -> None:
    # Given errors raised after Bedrock may have processed (and billed) the request
    for code in ("InternalServerException", "ModelErrorException", "ModelTimeoutException"):
        chat_api.server.reset()
        chat_api.server.enqueue(Reply.service_error(code), Reply.text("second attempt"))
        # When a client asks, Then one call only, and the error is reported
        got = chat_api.chat(HELLO)
        assert got.status >= 500, (code, got.body)
        assert len(chat_api.server.requests) == 1, code


def test_a_read_timeout_is_504_and_never_retried(chat_api: Api) -> None:
    # Given a budget whose read timeout is short, and a model slower than it
    chat_api.use(make_settings(budget={"read_timeout_seconds": 0.3}))
    chat_api.server.enqueue(Reply.text("too late", delay_s=0.6), Reply.text("second attempt"))
    # When a client asks
    got = chat_api.chat(HELLO)
    # Then 504, and the request (which the model may have answered) was sent once
    assert got.status == 504
    assert got.body["error"]["code"] == "model_timeout"
    assert len(chat_api.server.requests) == 1


def test_a_slow_model_gets_the_kits_504_before_the_gateway_would_cut(chat_api: Api) -> None:
    # Given a read timeout longer than the gateway allows, and a model slower than both
    settings = make_settings(
        budget={
            "integration_timeout_ms": 1_300,
            "safety_margin_ms": 100,
            "connect_timeout_seconds": 0.1,
            "read_timeout_seconds": 5,
        }
    )
    chat_api.use(settings)
    chat_api.server.enqueue(Reply.text("far too late", delay_s=1.5))
    # When a client asks
    started = time.monotonic()
    got = chat_api.chat(HELLO)
    elapsed_ms = (time.monotonic() - started) * 1000
    # Then the kit answers 504 itself, before the integration timeout
    assert got.status == 504
    assert got.body["error"]["code"] == "deadline_exceeded"
    assert elapsed_ms < settings.budget.integration_timeout_ms
    assert len(chat_api.server.requests) == 1


def test_a_request_whose_budget_is_spent_is_504_without_calling_bedrock(chat_api: Api) -> None:
    # Given the gateway received the request longer ago than its integration timeout
    budget_ms = chat_api.settings.budget.integration_timeout_ms
    received = int(time.time() * 1000) - budget_ms
    # When the function gets it
    got = chat_api.chat(HELLO, request_time_epoch_ms=received)
    # Then 504 at once, and no attempt was started
    assert got.status == 504 and got.body["error"]["code"] == "deadline_exceeded"
    assert chat_api.server.requests == []


def test_the_function_deadline_bounds_the_budget_too(chat_api: Api) -> None:
    # Given a function with less time left than the gateway would allow
    margin_ms = chat_api.settings.budget.safety_margin_ms
    context = LambdaContext(remaining_ms=margin_ms + 50)
    # When a request arrives, Then no attempt is started and the kit answers 504
    got = chat_api.chat(HELLO, context=context)
    assert got.status == 504
    assert chat_api.server.requests == []


def test_no_retry_starts_when_it_could_not_finish_in_time(chat_api: Api) -> None:
    # Given slow throttles: each takes most of the budget before refusing
    settings = make_settings(
        budget={
            "integration_timeout_ms": 1_500,
            "safety_margin_ms": 100,
            "connect_timeout_seconds": 0.2,
            "read_timeout_seconds": 1.0,
            "max_attempts": 5,
        }
    )
    chat_api.use(settings)
    chat_api.server.enqueue(Reply.throttle(times=10, delay_s=0.5))
    # When a client asks
    started = time.monotonic()
    got = chat_api.chat(HELLO)
    elapsed_ms = (time.monotonic() - started) * 1000
    # Then the caller gets 429 before the gateway's cut, after fewer than max_attempts calls
    assert got.status == 429
    assert "Retry-After" in got.headers
    assert elapsed_ms < settings.budget.integration_timeout_ms
    assert 1 <= len(chat_api.server.requests) < settings.budget.max_attempts
