"""Tier chains in the stage config: one id or a list; each entry enabled, once, and able to take
what the chain's first entry takes; errors name the key, the value and what is allowed."""

from __future__ import annotations

import copy
from itertools import permutations
from typing import Any

import pytest

from stacks.catalog import load_catalog
from stacks.config import ConfigError, load_plan
from stacks.config.models import MAX_CHAIN, serves
from tests.stages import basic_stage

CATALOG = load_catalog()
NAME = "qa"


def plan_of(stage: dict[str, Any]) -> Any:
    return load_plan({"stages": {NAME: stage}, "stage": NAME}, {}, CATALOG)


def problems(stage: dict[str, Any]) -> str:
    with pytest.raises(ConfigError) as info:
        plan_of(stage)
    return str(info.value)


def base() -> dict[str, Any]:
    return copy.deepcopy(basic_stage(CATALOG))


def enabled(stage: dict[str, Any]) -> list[str]:
    return [m["id"] for m in stage["models"]]


def pair(stage: dict[str, Any], *, compatible: bool) -> tuple[str, str]:
    """Two enabled models where the second takes (or lacks) something the first takes."""
    for first, second in permutations(enabled(stage), 2):
        lacks = serves(CATALOG.models[first]) - serves(CATALOG.models[second])
        if bool(lacks) != compatible:
            return first, second
    pytest.skip("the test stage's models offer no such pair")


def test_given_a_single_id_then_it_is_a_chain_of_one() -> None:
    stage = base()
    plan = plan_of(stage)
    assert plan.config.tiers.chain("fast") == (stage["tiers"]["fast"],)
    assert plan.config.tiers.fallbacks() == {}


def test_given_a_list_then_the_order_is_kept_and_the_rest_are_fallbacks() -> None:
    stage = base()
    first, second = pair(stage, compatible=True)
    stage["tiers"]["fast"] = [first, second]
    tiers = plan_of(stage).config.tiers
    assert tiers.chain("fast") == (first, second)
    assert tiers.primaries()["fast"] == first and tiers.fallbacks() == {"fast": [second]}


def test_given_a_fallback_that_lacks_what_the_first_takes_then_synth_fails_naming_it() -> None:
    stage = base()
    first, second = pair(stage, compatible=False)
    stage["tiers"]["deep"] = [first, second]
    msg = problems(stage)
    assert f"stages.{NAME}.tiers.deep[1]: {second!r} cannot take every request {first!r}" in msg
    assert "allowed: enabled chat models that take at least" in msg


def test_given_an_entry_not_enabled_then_the_enabled_ones_are_listed() -> None:
    stage = base()
    stage["tiers"]["fast"] = [stage["tiers"]["fast"], "acme.missing-v1"]
    msg = problems(stage)
    assert f"stages.{NAME}.tiers.fast[1]: 'acme.missing-v1' is not an enabled model" in msg
    assert all(model in msg for model in enabled(stage))


def test_given_an_inference_profile_id_then_the_model_id_is_suggested() -> None:
    stage = base()
    model = enabled(stage)[0]
    stage["tiers"]["fast"] = [model, f"us.{enabled(stage)[1]}"]
    msg = problems(stage)
    assert f"write the model id {enabled(stage)[1]!r}" in msg


def test_given_an_entry_twice_then_synth_fails() -> None:
    stage = base()
    model = enabled(stage)[0]
    stage["tiers"]["fast"] = [model, model]
    assert f"tiers.fast[1]: {model!r} is listed twice in the chain" in problems(stage)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ([], "at least 1 entry"),
        (5, "a model id, or a list of"),
        ({"id": "x"}, "a model id, or a list of"),
    ],
)
def test_given_a_chain_of_the_wrong_shape_then_the_shape_is_explained(
    value: Any, expected: str
) -> None:
    stage = base()
    stage["tiers"]["balanced"] = value
    msg = problems(stage)
    assert f"stages.{NAME}.tiers.balanced:" in msg and expected in msg


def test_given_a_chain_longer_than_allowed_then_the_bound_is_named() -> None:
    stage = base()
    stage["tiers"]["fast"] = [enabled(stage)[0]] * (MAX_CHAIN + 1)
    assert f"at most {MAX_CHAIN} entries" in problems(stage)


def test_given_the_named_model_flag_then_it_must_be_a_boolean() -> None:
    stage = base()
    stage["runtime"]["allow_fallback_for_named_models"] = "yes"
    msg = problems(stage)
    assert f"stages.{NAME}.runtime.allow_fallback_for_named_models: 'yes'" in msg
    stage["runtime"]["allow_fallback_for_named_models"] = True
    assert plan_of(stage).config.runtime.allow_fallback_for_named_models is True
