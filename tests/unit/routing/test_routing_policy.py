"""The routing policy, pure: which chain a request gets, and when a failure moves it along."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError, ReadTimeoutError

from kit_runtime import errors
from kit_runtime.bedrock import Attempts
from kit_runtime.budget import Deadline
from kit_runtime.contracts.chat import TimeBudget
from kit_runtime.routing import Route, falls_back, invoke_routed, select_route
from tests.support.routing import chained_settings, fast_chain


def client_error(code: str) -> ClientError:
    return ClientError({"Error": {"Code": code, "Message": code}}, "Converse")


class Model:
    """An in-process stand-in for Converse: per model id, a list of outcomes in order."""

    def __init__(self, outcomes: dict[str, list[Any]]) -> None:
        self.outcomes = outcomes
        self.calls: list[str] = []

    def __call__(self, **arguments: Any) -> Any:
        model = arguments["model"]
        self.calls.append(model)
        outcome = self.outcomes[model].pop(0) if self.outcomes.get(model) else {"ok": model}
        if isinstance(outcome, BaseException):
            raise outcome
        return outcome


BUDGET = TimeBudget(
    integration_timeout_ms=10_000,
    safety_margin_ms=0,
    connect_timeout_seconds=0.1,
    read_timeout_seconds=1.0,
    max_attempts=3,
    backoff_base_ms=10,
    backoff_max_ms=100,
)


def call(model: Model, chain: tuple[str, ...], clock: list[float] | None = None) -> Any:
    now = clock or [0.0]

    def sleep(seconds: float) -> None:
        now[0] += seconds

    return invoke_routed(
        model,
        Route(chain, "fast"),
        lambda model_id: {"model": model_id},
        deadline=Deadline(10.0, clock=lambda: now[0]),
        budget=BUDGET,
        sleep=sleep,
        rand=lambda: 1.0,
    )


def test_given_a_tier_then_its_chain_in_order() -> None:
    settings = chained_settings(3)
    route = select_route(settings, None, "fast")
    assert route.chain == tuple(fast_chain(settings)) and route.tier == "fast"


def test_given_neither_model_nor_tier_then_the_default_tiers_chain() -> None:
    settings = chained_settings(3, default_tier="fast")
    assert select_route(settings, None, None).chain == tuple(fast_chain(settings))


def test_given_a_named_model_then_it_answers_alone_by_default() -> None:
    settings = chained_settings(3)
    first = fast_chain(settings)[0]
    assert select_route(settings, first, None) == Route((first,), None)


def test_given_the_stage_flag_then_a_named_model_continues_from_its_place_in_a_chain() -> None:
    settings = chained_settings(3, allow_fallback_for_named_models=True)
    chain = fast_chain(settings)
    assert select_route(settings, chain[1], None).chain == tuple(chain[1:])


def test_given_unknown_names_then_the_allowed_ones_are_offered() -> None:
    settings = chained_settings(2)
    with pytest.raises(errors.UnknownModel) as model:
        select_route(settings, "acme.nope", None)
    assert model.value.details["allowed_models"] == sorted(settings.models)
    with pytest.raises(errors.UnknownModel) as tier:
        select_route(settings, None, "turbo")
    assert tier.value.details["allowed_tiers"] == sorted(settings.tiers)


def test_keeping_drops_unusable_fallbacks_but_never_the_first_choice() -> None:
    route = Route(("a", "b", "c"), "fast")
    assert route.keeping(lambda m: m == "c").chain == ("a", "c")
    assert route.keeping(lambda m: False).chain == ("a",)


def test_only_a_failure_that_proves_the_model_never_ran_falls_back() -> None:
    throttled = errors.Throttled("busy")
    assert falls_back(Attempts(made=3, never_ran=True), throttled)
    assert not falls_back(Attempts(made=1, never_ran=False), errors.UpstreamUnavailable("x"))
    assert not falls_back(Attempts(made=2, never_ran=True), errors.DeadlineExceeded("late"))


def test_given_a_throttled_first_model_then_the_second_answers_after_its_retries() -> None:
    model = Model({"a": [client_error("ThrottlingException")] * 3})
    routed = call(model, ("a", "b"))
    assert routed.model == "b" and routed.fallbacks == 1
    assert routed.attempts == 4 and model.calls == ["a", "a", "a", "b"]


def test_given_a_validation_error_then_nothing_else_is_tried() -> None:
    model = Model({"a": [client_error("ValidationException")]})
    with pytest.raises(errors.BedrockRejected):
        call(model, ("a", "b"))
    assert model.calls == ["a"]


def test_given_a_read_timeout_then_nothing_else_is_tried() -> None:
    model = Model({"a": [ReadTimeoutError(endpoint_url="http://x")]})
    with pytest.raises(errors.KitError):
        call(model, ("a", "b"))
    assert model.calls == ["a"]


def test_given_no_time_left_for_another_attempt_then_the_last_refusal_is_answered() -> None:
    # Given a clock that jumps to 9.5 s (of 10) during the first refusal
    clock = [0.0]

    def refuse_late(**arguments: Any) -> Any:
        clock[0] = 9.5
        raise client_error("ThrottlingException")

    with pytest.raises(errors.Throttled):
        invoke_routed(
            refuse_late,
            Route(("a", "b"), "fast"),
            lambda model_id: {"model": model_id},
            deadline=Deadline(10.0, clock=lambda: clock[0]),
            budget=BUDGET,
            sleep=lambda s: None,
            rand=lambda: 1.0,
        )
