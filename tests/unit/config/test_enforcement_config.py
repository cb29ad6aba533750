"""`guardrail_enforcement`: one of the stage's guardrails, values in the service's sets, and at
most one stage per account and Region. Stages are the test-owned basic stage with two small
guardrails."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from stacks.catalog import load_catalog
from stacks.config import ConfigError, load_stage_config
from tests.stages import basic_stage

CATALOG = load_catalog()
BASE = basic_stage(CATALOG)
KEY = "guardrail_enforcement"
OTHER_ACCOUNT = "210987654321"


def stage(enforcement: dict[str, Any] | None = None, **changes: Any) -> dict[str, Any]:
    out = copy.deepcopy(BASE)
    out["guardrails"] = [{"name": "base", "default": True}, {"name": "account-wide"}]
    if enforcement is not None:
        out[KEY] = enforcement
    out.update(changes)
    return out


def load(stages: dict[str, Any], chosen: str = "qa", env: dict[str, str] | None = None) -> Any:
    return load_stage_config({"stages": stages, "stage": chosen}, env or {}, CATALOG)


def problems(stages: dict[str, Any], chosen: str = "qa", env: dict[str, str] | None = None) -> str:
    with pytest.raises(ConfigError) as info:
        load(stages, chosen, env)
    return str(info.value)


# --- one stage --------------------------------------------------------------------------------


def test_a_stage_without_the_key_enforces_nothing() -> None:
    # Given the basic stage / When it loads / Then there is no enforcement
    assert load({"qa": stage()}).guardrail_enforcement is None


def test_every_option_the_service_offers_loads() -> None:
    # Given enforcement of the second guardrail with every option
    enforcement = {
        "guardrail": "account-wide",
        "system_prompts": "COMPREHENSIVE",
        "messages": "SELECTIVE",
        "include_models": ["ALL"],
        "exclude_models": ["amazon.titan-embed-text-v2:0"],
    }
    # When it loads
    loaded = load({"qa": stage(enforcement)}).guardrail_enforcement
    # Then each value is kept as written
    assert loaded.model_dump() == {**enforcement, "include_models": ("ALL",)} | {
        "exclude_models": ("amazon.titan-embed-text-v2:0",)
    }


def test_an_enforced_guardrail_that_is_not_the_stages_is_refused_naming_the_allowed() -> None:
    # Given enforcement of a name the stage does not define / When it loads
    message = problems({"qa": stage({"guardrail": "elsewhere"})})
    # Then the key, the value and the stage's guardrails are named
    assert f"stages.qa.{KEY}.guardrail: 'elsewhere'" in message
    assert "allowed: base, account-wide" in message


def test_a_guarding_mode_outside_the_service_set_is_refused() -> None:
    # Given a selective-guarding mode the service does not know / When it loads
    message = problems({"qa": stage({"guardrail": "base", "messages": "PARTIAL"})})
    # Then the key and the allowed modes are named
    assert f"stages.qa.{KEY}.messages" in message
    assert "SELECTIVE" in message and "COMPREHENSIVE" in message


def test_a_model_id_outside_the_service_pattern_is_refused() -> None:
    # Given an included model that is no model id / When it loads
    message = problems({"qa": stage({"guardrail": "base", "include_models": ["Claude 3"]})})
    # Then the key path names the entry
    assert f"stages.qa.{KEY}.include_models[0]: 'Claude 3'" in message
    assert "must match ^(ALL|" in message


def test_all_is_not_an_excluded_model() -> None:
    # Given ALL in the excluded list (the service allows it only in the included one)
    message = problems({"qa": stage({"guardrail": "base", "exclude_models": ["ALL"]})})
    # Then it is refused
    assert f"stages.qa.{KEY}.exclude_models[0]: 'ALL'" in message


def test_excluding_models_alone_includes_all_the_others() -> None:
    # Given only an excluded list (the service wants a non-empty included list beside it)
    enforcement = load({"qa": stage({"guardrail": "base", "exclude_models": ["a.b"]})})
    # When the kit renders the model enforcement / Then it includes ALL
    assert enforcement.guardrail_enforcement.model_enforcement() == (("ALL",), ("a.b",))


def test_no_model_lists_send_no_model_enforcement() -> None:
    # Given neither list / Then nothing narrows the enforcement (every model)
    loaded = load({"qa": stage({"guardrail": "base"})}).guardrail_enforcement
    assert loaded.model_enforcement() is None


def test_an_unknown_key_in_the_block_is_refused() -> None:
    # Given a typo in the block / When it loads / Then the key is named
    assert f"stages.qa.{KEY}.guardrails" in problems(
        {"qa": stage({"guardrail": "base", "guardrails": "base"})}
    )


# --- across the stages of cdk.json ------------------------------------------------------------


def test_two_stages_enforcing_in_one_account_and_region_are_refused_naming_both() -> None:
    # Given two stages in the same account and Region, each enforcing its own guardrail
    stages = {
        "qa": stage({"guardrail": "base"}, account=OTHER_ACCOUNT),
        "staging": stage({"guardrail": "account-wide"}, account=OTHER_ACCOUNT),
    }
    # When either loads / Then both stages and the key are named
    for chosen in stages:
        message = problems(stages, chosen)
        assert f"stages.{chosen}.{KEY}" in message
        assert "'qa' and 'staging'" in message or "'staging' and 'qa'" in message
        assert OTHER_ACCOUNT in message and BASE["region"] in message


def test_identical_enforcement_in_two_stages_is_still_refused() -> None:
    # Given the same block in two stages (each would point at its own guardrail)
    same = {"guardrail": "base"}
    stages = {"qa": stage(same, account=OTHER_ACCOUNT), "other": stage(same, account=OTHER_ACCOUNT)}
    # When one loads / Then it is refused
    assert "'qa' and 'other'" in problems(stages)


def test_two_account_less_stages_in_one_region_may_collide_and_are_refused() -> None:
    # Given two stages without account (both land where the credentials point)
    stages = {"qa": stage({"guardrail": "base"}), "sandbox": stage({"guardrail": "base"})}
    # When one loads, even with credentials for an account / Then it is refused
    message = problems(stages, env={"CDK_DEFAULT_ACCOUNT": OTHER_ACCOUNT})
    assert "'qa' and 'sandbox'" in message and "no account" in message


def test_one_enforcing_stage_beside_a_stage_that_does_not_enforce_loads() -> None:
    # Given one stage enforcing and another in the same account and Region that does not
    stages = {
        "qa": stage({"guardrail": "base"}, account=OTHER_ACCOUNT),
        "staging": stage(account=OTHER_ACCOUNT),
    }
    # When each loads / Then both are accepted (the enforcing stage alone owns the setting)
    assert load(stages, "qa").guardrail_enforcement is not None
    assert load(stages, "staging").guardrail_enforcement is None


def test_enforcing_stages_in_different_accounts_or_regions_load() -> None:
    # Given enforcing stages apart by account, by Region, and one with and one without account
    other_region = "eu-west-1" if BASE["region"] != "eu-west-1" else "us-west-2"
    for other in (
        stage({"guardrail": "base"}, account="111111111111"),
        stage({"guardrail": "base"}, account=OTHER_ACCOUNT, region=other_region),
        stage({"guardrail": "base"}),
    ):
        stages = {"qa": stage({"guardrail": "base"}, account=OTHER_ACCOUNT), "other": other}
        # When the chosen stage loads / Then it is accepted
        assert load(stages).guardrail_enforcement is not None
