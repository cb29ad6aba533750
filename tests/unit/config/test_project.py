"""The ``kit`` block: one name for a fork, and the default stage held by the config."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from stacks.catalog import load_catalog
from stacks.config import ConfigError, load_plan
from stacks.config.project import DEFAULT_KIT_NAME, chosen_stage, metrics_namespace
from tests.stages import basic_stage

CATALOG = load_catalog()


def two_stages() -> dict[str, Any]:
    stage = basic_stage(CATALOG)
    return {"alpha": copy.deepcopy(stage), "beta": copy.deepcopy(stage)}


def problems(context: dict[str, Any]) -> str:
    with pytest.raises(ConfigError) as info:
        load_plan(context, {}, CATALOG)
    return str(info.value)


def test_given_no_stage_when_loading_then_kit_default_stage_is_built() -> None:
    # Given two stages and a kit block naming the second as default
    context = {"stages": two_stages(), "kit": {"name": "acme", "default_stage": "beta"}}
    # When no stage is chosen (the Makefile passes no -c stage= without STAGE), or an empty one
    plans = [load_plan(context, {}, CATALOG), load_plan({**context, "stage": ""}, {}, CATALOG)]
    # Then the default stage is built, under the kit's name
    assert [(p.name, p.kit_name) for p in plans] == [("beta", "acme")] * 2


def test_given_a_chosen_stage_then_it_wins_over_the_default() -> None:
    context = {"stages": two_stages(), "kit": {"default_stage": "beta"}, "stage": "alpha"}
    assert chosen_stage(context) == "alpha"


def test_given_no_kit_block_then_the_name_is_the_default() -> None:
    plan = load_plan({"stages": two_stages(), "stage": "alpha"}, {}, CATALOG)
    assert plan.kit_name == DEFAULT_KIT_NAME


@pytest.mark.parametrize("name", ["Acme", "a", "1kit", "acme_chat", "a" * 17, "acme chat"])
def test_given_an_unsafe_name_then_loading_fails_naming_key_value_and_pattern(name: str) -> None:
    msg = problems({"stages": two_stages(), "stage": "alpha", "kit": {"name": name}})
    assert f"kit.name: {name!r}" in msg and "lower-case letter" in msg


def test_given_a_default_stage_that_is_not_defined_then_loading_lists_the_stages() -> None:
    msg = problems({"stages": two_stages(), "kit": {"default_stage": "gamma"}})
    assert "kit.default_stage: 'gamma' is not a defined stage; allowed: alpha, beta" in msg


def test_given_an_unknown_key_in_the_kit_block_then_loading_names_the_allowed_keys() -> None:
    msg = problems({"stages": two_stages(), "stage": "alpha", "kit": {"prefix": "acme"}})
    assert "kit.prefix: unknown key; allowed keys here: default_stage, name" in msg


def test_given_a_kit_block_that_is_not_an_object_then_loading_says_so() -> None:
    msg = problems({"stages": two_stages(), "stage": "alpha", "kit": "acme"})
    assert "kit: expected an object, got str" in msg


@pytest.mark.parametrize(
    ("name", "namespace"),
    [("kit", "BedrockKit"), ("acme", "BedrockAcme"), ("acme-chat-2", "BedrockAcmeChat2")],
)
def test_the_metric_namespace_is_bedrock_and_the_name_in_pascal_case(
    name: str, namespace: str
) -> None:
    assert metrics_namespace(name) == namespace
