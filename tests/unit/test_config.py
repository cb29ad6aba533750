"""The config loader: every bad value fails with the key path, the value and what is allowed."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from stacks.config import ConfigError, load_stage_config
from tests.conftest import CDK_CONTEXT


def dev(**changes: Any) -> dict[str, Any]:
    """The shipped context with the dev stage changed (dotted keys reach into it)."""
    ctx = copy.deepcopy({"stages": CDK_CONTEXT["stages"], "stage": "dev"})
    for dotted, value in changes.items():
        node = ctx["stages"]["dev"]
        *parents, leaf = dotted.split("__")
        for part in parents:
            node = node[int(part)] if isinstance(node, list) else node.setdefault(part, {})
        if isinstance(node, list):
            node[int(leaf)] = value
        else:
            node[leaf] = value
    return ctx


def problems(ctx: dict[str, Any], env: dict[str, str] | None = None) -> str:
    with pytest.raises(ConfigError) as info:
        load_stage_config(ctx, env or {})
    return str(info.value)


def test_shipped_stages_load() -> None:
    for name in CDK_CONTEXT["stages"]:
        config = load_stage_config({"stages": CDK_CONTEXT["stages"], "stage": name}, {})
        assert config.name == name and config.region


def test_default_stage_is_dev() -> None:
    assert load_stage_config({"stages": CDK_CONTEXT["stages"]}, {}).name == "dev"


def test_unknown_stage_lists_the_defined_ones() -> None:
    msg = problems({"stages": CDK_CONTEXT["stages"], "stage": "qa"})
    assert "stage: 'qa' is not defined" in msg and "dev, prod" in msg


def test_unknown_model_id_names_key_value_and_catalog() -> None:
    msg = problems(dev(models__0={"id": "anthropic.claude-99"}))
    assert "stages.dev.models[0].id: 'anthropic.claude-99' is not in the model catalog" in msg
    assert "amazon.nova-micro-v1:0" in msg  # the allowed ids are listed


def test_model_not_offered_in_region() -> None:
    # Given Nova Micro in-region in a region the catalog does not list for it
    ctx = dev(region="sa-east-1")
    msg = problems(ctx)
    assert "stages.dev.models[0]" in msg and "'sa-east-1'" in msg


def test_profile_prefix_that_does_not_fit_the_region() -> None:
    msg = problems(
        dev(models__1={"id": "anthropic.claude-haiku-4-5-20251001-v1:0", "profile": "eu"})
    )
    assert "stages.dev.models[1].profile: 'eu'" in msg
    assert "does not serve source region 'us-east-1'" in msg
    assert "allowed: 'us'" in msg


def test_profile_prefix_outside_the_known_set() -> None:
    msg = problems(
        dev(models__1={"id": "anthropic.claude-haiku-4-5-20251001-v1:0", "profile": "mars"})
    )
    assert "stages.dev.models[1].profile: 'mars' is not allowed" in msg
    assert "'us'" in msg and "'global'" in msg


def test_in_region_request_for_a_profile_only_model() -> None:
    msg = problems(dev(models__1={"id": "anthropic.claude-haiku-4-5-20251001-v1:0"}))
    assert "stages.dev.models[1].profile: None" in msg
    assert "not offered on demand in-region" in msg and "allowed:" in msg


@pytest.mark.parametrize(
    "key,value,fragment",
    [
        ("api__throttle_rate_limit", 0, "stages.dev.api.throttle_rate_limit: 0 is not allowed"),
        ("api__throttle_burst_limit", 99999, "stages.dev.api.throttle_burst_limit: 99999"),
        ("runtime__memory_mb", 64, "stages.dev.runtime.memory_mb: 64 is not allowed"),
        ("runtime__log_retention_days", 15, "stages.dev.runtime.log_retention_days: 15"),
        ("api__default_max_tokens", 5000, "stages.dev.api.default_max_tokens: 5000 exceeds"),
        ("account", "1234", "stages.dev.account: '1234' is not allowed"),
        ("region", "moon-1", "stages.dev.region: 'moon-1' is not allowed"),
    ],
)
def test_out_of_range_values(key: str, value: Any, fragment: str) -> None:
    assert fragment in problems(dev(**{key: value}))


@pytest.mark.parametrize(
    "key,path",
    [
        ("modles", "stages.dev.modles: unknown key"),
        ("api__throtle_rate_limit", "stages.dev.api.throtle_rate_limit: unknown key"),
        ("guardrail__content_filters__hates", "stages.dev.guardrail.content_filters.hates"),
    ],
)
def test_unknown_keys_are_rejected_with_the_allowed_ones(key: str, path: str) -> None:
    msg = problems(dev(**{key: 1}))
    assert path in msg
    assert "allowed keys here:" in msg


def test_unknown_key_lists_siblings() -> None:
    msg = problems(dev(api__throtle_rate_limit=1))
    assert "throttle_rate_limit" in msg.split("allowed keys here:")[1]


def test_tier_must_name_an_enabled_chat_model() -> None:
    msg = problems(dev(tiers__deep="amazon.nova-pro-v1:0"))
    assert "stages.dev.tiers.deep: 'amazon.nova-pro-v1:0' is not an enabled model" in msg


def test_embedding_model_cannot_be_a_tier() -> None:
    ctx = dev()
    ctx["stages"]["dev"]["models"].append({"id": "amazon.titan-embed-text-v2:0"})
    ctx["stages"]["dev"]["tiers"]["fast"] = "amazon.titan-embed-text-v2:0"
    assert "stages.dev.tiers.fast: 'amazon.titan-embed-text-v2:0' is a embedding" in problems(ctx)


def test_region_falls_back_to_cdk_default_region_and_is_required() -> None:
    ctx = dev()
    del ctx["stages"]["dev"]["region"]
    assert load_stage_config(ctx, {"CDK_DEFAULT_REGION": "us-east-1"}).region == "us-east-1"
    assert "stages.dev.region: not set" in problems(ctx)


def test_account_comes_from_config_or_cdk_default_account() -> None:
    assert (
        load_stage_config(dev(), {"CDK_DEFAULT_ACCOUNT": "210987654321"}).account == "210987654321"
    )
    assert (
        load_stage_config(
            dev(account="111122223333"), {"CDK_DEFAULT_ACCOUNT": "210987654321"}
        ).account
        == "111122223333"
    )


def test_all_problems_are_reported_at_once() -> None:
    err = pytest.raises(
        ConfigError, load_stage_config, dev(api__throttle_rate_limit=0, runtime__memory_mb=1), {}
    )
    assert len(err.value.problems) == 2


def test_pii_type_outside_the_cloudformation_list() -> None:
    msg = problems(dev(guardrail={"pii_entities": [{"type": "SHOE_SIZE"}]}))
    assert "stages.dev.guardrail.pii_entities[0].type: 'SHOE_SIZE' is not allowed" in msg
    assert "'EMAIL'" in msg
