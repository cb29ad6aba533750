"""Tier fallback through real boto3 against the local server: retries on a model, then the
next model of the tier's chain; never after a call that may have run; never past the budget."""

from __future__ import annotations

import json
import time

import pytest

from tests.fakes import Reply
from tests.support.chat_api import Api
from tests.support.routing import arn, chained_settings, fast_chain

FAST = {"tier": "fast", "messages": [{"role": "user", "content": "hello"}]}


def emf_documents(out: str) -> list[dict]:
    return [json.loads(line) for line in out.splitlines() if '"_aws"' in line]


def test_given_the_first_model_always_throttles_when_asked_then_the_second_answers(
    chat_api: Api, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given a fast tier of three models whose first choice throttles every call
    settings = chained_settings(3)
    chat_api.use(settings)
    first, second, _ = fast_chain(settings)
    chat_api.server.enqueue_for(arn(settings, first), Reply.throttle(times=50))
    # When a client asks the tier
    got = chat_api.chat(FAST)
    # Then the second model answered, after every attempt the first was allowed
    attempts = settings.budget.max_attempts
    assert got.status == 200, got.body
    assert got.body["model"] == second and got.body["tier"] == "fast"
    assert got.body["attempts"] == attempts + 1 and got.body["fallbacks"] == 1
    sent = [r.model_id for r in chat_api.server.requests]
    assert sent == [arn(settings, first)] * attempts + [arn(settings, second)]
    # And one Fallbacks metric counts it under the tier
    fallbacks = [d for d in emf_documents(capsys.readouterr().out) if "Fallbacks" in d]
    assert len(fallbacks) == 1
    (directive,) = fallbacks[0]["_aws"]["CloudWatchMetrics"]
    assert "tier" in directive["Dimensions"][0] and "model" not in directive["Dimensions"][0]
    assert fallbacks[0]["tier"] == "fast" and fallbacks[0]["Fallbacks"] in (1, [1], [1.0])


def test_given_an_answer_from_the_first_model_then_no_fallback_is_counted(
    chat_api: Api, capsys: pytest.CaptureFixture[str]
) -> None:
    chat_api.use(chained_settings(3))
    got = chat_api.chat(FAST)
    assert got.status == 200
    assert got.body["attempts"] == 1 and got.body["fallbacks"] == 0
    assert not [d for d in emf_documents(capsys.readouterr().out) if "Fallbacks" in d]


def test_given_every_model_of_the_chain_throttles_then_429_after_all_of_them(chat_api: Api) -> None:
    settings = chained_settings(2)
    chat_api.use(settings)
    chat_api.server.enqueue(Reply.throttle(times=50))
    got = chat_api.chat(FAST)
    assert got.status == 429 and got.body["error"]["code"] == "throttled"
    assert "Retry-After" in got.headers
    per_model = settings.budget.max_attempts
    assert len(chat_api.server.requests) == 2 * per_model


def test_given_a_named_model_that_throttles_then_no_other_model_answers(chat_api: Api) -> None:
    # Given a stage that keeps named models to themselves (the default)
    settings = chained_settings(3)
    assert not settings.allow_fallback_for_named_models
    chat_api.use(settings)
    first = fast_chain(settings)[0]
    chat_api.server.enqueue_for(arn(settings, first), Reply.throttle(times=50))
    # When a client names the first model of a chain
    got = chat_api.chat({"model": first, "messages": FAST["messages"]})
    # Then only that model was called, and the caller hears it throttles
    assert got.status == 429
    assert {r.model_id for r in chat_api.server.requests} == {arn(settings, first)}
    assert len(chat_api.server.requests) == settings.budget.max_attempts


def test_given_the_stage_allows_it_then_a_named_model_falls_back_along_its_chain(
    chat_api: Api,
) -> None:
    settings = chained_settings(3, allow_fallback_for_named_models=True)
    chat_api.use(settings)
    first, second, _ = fast_chain(settings)
    chat_api.server.enqueue_for(arn(settings, first), Reply.throttle(times=50))
    got = chat_api.chat({"model": first, "messages": FAST["messages"]})
    assert got.status == 200, got.body
    assert got.body["model"] == second and got.body["tier"] is None
    assert got.body["fallbacks"] == 1


@pytest.mark.parametrize("code", ["ServiceUnavailableException", "ModelNotReadyException"])
def test_given_the_first_model_is_unavailable_then_the_next_answers(
    chat_api: Api, code: str
) -> None:
    settings = chained_settings(2)
    chat_api.use(settings)
    first, second = fast_chain(settings)
    chat_api.server.enqueue_for(arn(settings, first), Reply.service_error(code, times=50))
    got = chat_api.chat(FAST)
    assert got.status == 200 and got.body["model"] == second


def test_given_a_validation_error_then_it_is_neither_retried_nor_fallen_back(
    chat_api: Api,
) -> None:
    settings = chained_settings(3)
    chat_api.use(settings)
    first = fast_chain(settings)[0]
    chat_api.server.enqueue_for(
        arn(settings, first), Reply.service_error("ValidationException", "bad value")
    )
    got = chat_api.chat(FAST)
    assert got.status == 400 and got.body["error"]["code"] == "bedrock_validation"
    assert len(chat_api.server.requests) == 1


@pytest.mark.parametrize("code", ["InternalServerException", "ModelErrorException"])
def test_given_a_failure_after_the_model_may_have_run_then_no_fallback(
    chat_api: Api, code: str
) -> None:
    settings = chained_settings(3)
    chat_api.use(settings)
    chat_api.server.enqueue_for(arn(settings, fast_chain(settings)[0]), Reply.service_error(code))
    got = chat_api.chat(FAST)
    assert got.status >= 500
    assert len(chat_api.server.requests) == 1


def test_given_a_read_timeout_after_the_request_was_sent_then_nothing_more_is_called(
    chat_api: Api,
) -> None:
    # Given a short read timeout and a first model slower than it (it may have run and billed)
    settings = chained_settings(3, budget={"read_timeout_seconds": 0.3})
    chat_api.use(settings)
    first = fast_chain(settings)[0]
    chat_api.server.enqueue_for(arn(settings, first), Reply.text("too late", delay_s=0.6))
    # When a client asks
    got = chat_api.chat(FAST)
    # Then 504, and neither the first model again nor another model was called
    assert got.status == 504
    assert len(chat_api.server.requests) == 1


def test_given_slow_refusals_then_the_time_budget_stops_retries_and_fallbacks(
    chat_api: Api,
) -> None:
    # Given a 1.3 s budget and three models that each take 0.25 s to refuse every call
    settings = chained_settings(
        3,
        budget={
            "integration_timeout_ms": 1_300,
            "safety_margin_ms": 100,
            "connect_timeout_seconds": 0.1,
            "read_timeout_seconds": 0.5,
            "max_attempts": 3,
        },
    )
    chat_api.use(settings)
    chat_api.server.enqueue(Reply.throttle(times=50, delay_s=0.25))
    # When a client asks
    started = time.monotonic()
    got = chat_api.chat(FAST)
    elapsed = time.monotonic() - started
    # Then the kit answers before its budget ends, having tried fewer calls than the chain
    # and attempts would allow
    assert got.status == 429
    assert elapsed < 1.3 - 0.1 + 0.15  # the deadline, with scheduling slack
    assert 1 <= len(chat_api.server.requests) < 3 * 3
