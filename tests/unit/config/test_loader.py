"""The config loader: every bad value fails with the key path, the value and what is allowed."""

from __future__ import annotations

import copy
from datetime import date
from typing import Any

import pytest

from stacks.catalog import load_catalog
from stacks.config import ConfigError, load_plan
from tests.stages import basic_stage, best_region, full_stage, options

CATALOG = load_catalog()
NAME = "qa"


def context(stage: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {"stages": {NAME: stage}, "stage": NAME, **extra}


def problems(stage: dict[str, Any], **extra: Any) -> str:
    with pytest.raises(ConfigError) as info:
        load_plan(context(stage, **extra), {}, CATALOG)
    return str(info.value)


def base() -> dict[str, Any]:
    return copy.deepcopy(basic_stage(CATALOG))


def test_test_owned_stages_load() -> None:
    for builder in (basic_stage, full_stage):
        plan = load_plan(context(builder(CATALOG)), {}, CATALOG)
        assert plan.name == NAME and plan.chat_models


def test_unknown_stage_lists_the_defined_ones() -> None:
    msg = str(_raises(lambda: load_plan({"stages": {NAME: base()}, "stage": "nope"}, {})))
    assert "stage: 'nope' is not defined; allowed: qa" in msg


def _raises(call: Any) -> ConfigError:
    with pytest.raises(ConfigError) as info:
        call()
    return info.value


def test_unknown_model_id_names_key_value_and_catalog() -> None:
    stage = base()
    stage["models"][0] = {"id": "acme.model-x"}
    msg = problems(stage)
    assert f"stages.{NAME}.models[0].id: 'acme.model-x' is not in the model catalog" in msg
    assert CATALOG.ids()[0] in msg


def test_a_pasted_profile_id_says_how_to_split_it() -> None:
    # Given a model reached through a profile, written as the profile id
    stage = base()
    model = next(m for m in stage["models"] if m["profile"])
    model["id"] = f"{model['profile']}.{model['id']}"
    model.pop("profile")
    msg = problems(stage)
    # Then the message names the id and the profile to write instead
    assert "is an inference profile id; split it into" in msg
    assert f"\"profile\": '{model['id'].split('.')[0]}'" in msg


def test_unknown_region_is_called_unknown() -> None:
    stage = base()
    stage["region"] = "xx-nowhere-9"
    msg = problems(stage)
    assert f"stages.{NAME}.region: 'xx-nowhere-9' is an unknown region" in msg
    assert "not offered" not in msg


def test_model_not_offered_in_a_real_region_names_where_it_is() -> None:
    # Given a real region from which the first model is not reachable at all
    stage = base()
    spec = CATALOG.models[stage["models"][0]["id"]]
    from stacks.config.regions import aws_regions

    region = next(r for r in sorted(aws_regions()) if not spec.invoke_options(r))
    stage["region"] = region
    msg = problems(stage)
    assert f"stages.{NAME}.models[0].id" in msg and f"not offered in region '{region}'" in msg


def test_profile_that_does_not_serve_the_region_lists_the_options() -> None:
    stage = base()
    region = stage["region"]
    for i, model in enumerate(stage["models"]):
        spec = CATALOG.models[model["id"]]
        wrong = [p for p in spec.inference_profiles if p not in options(spec, region)]
        if wrong:
            model["profile"] = wrong[0]
            msg = problems(stage)
            assert f"stages.{NAME}.models[{i}].profile: '{wrong[0]}'" in msg
            assert "allowed:" in msg
            return
    pytest.skip("every profile of these models serves the region")


def test_missing_region_is_an_error_not_a_silent_default() -> None:
    stage = base()
    stage.pop("region")
    msg = str(
        _raises(lambda: load_plan(context(stage), {"CDK_DEFAULT_REGION": "us-east-1"}, CATALOG))
    )
    assert f"stages.{NAME}.region: required key is missing" in msg


def test_unknown_top_level_context_key_is_an_error() -> None:
    msg = problems(base(), stagess={})
    assert "context.stagess: unknown top-level context key" in msg


def test_cdk_feature_flags_and_cli_keys_are_allowed() -> None:
    ctx = context(base(), **{"@aws-cdk/core:newStyleStackSynthesis": True})
    ctx["aws:cdk:bundling-stacks"] = []
    assert load_plan(ctx, {}, CATALOG).name == NAME


def test_strict_types_refuse_true_for_a_number() -> None:
    stage = base()
    stage["api"] = {"throttle_rate_limit": True}
    msg = problems(stage)
    assert f"stages.{NAME}.api.throttle_rate_limit: true is not allowed" in msg
    assert "allowed: >= 1, <= 10000" in msg


def test_unknown_key_lists_the_allowed_ones() -> None:
    stage = base()
    stage["runtime"] = {"memroy_mb": 512}
    msg = problems(stage)
    assert f"stages.{NAME}.runtime.memroy_mb: unknown key" in msg and "memory_mb" in msg


def test_moved_key_says_what_replaced_it() -> None:
    stage = base()
    stage["runtime"] = {"timeout_seconds": 29}
    msg = problems(stage)
    assert "runtime.timeout_seconds: removed" in msg and "integration_timeout_seconds" in msg


def test_tier_must_name_an_enabled_chat_model() -> None:
    stage = base()
    stage["tiers"]["deep"] = "acme.other"
    msg = problems(stage)
    assert f"stages.{NAME}.tiers.deep: 'acme.other' is not an enabled model" in msg


def test_integration_timeout_over_29_s_needs_the_raised_quota() -> None:
    stage = base()
    stage["api"] = {"integration_timeout_seconds": 60}
    msg = problems(stage)
    assert "api.integration_timeout_seconds: 60 exceeds API Gateway's default of 29 s" in msg
    stage["api"]["integration_timeout_quota_raised"] = True
    plan = load_plan(context(stage), {}, CATALOG)
    assert plan.function_timeout_seconds == 61


def test_margin_that_leaves_no_time_for_the_model_fails() -> None:
    stage = base()
    stage["api"] = {"integration_timeout_seconds": 3}
    stage["runtime"] = {"deadline_margin_ms": 2500}
    assert "runtime.deadline_margin_ms: 2500 leaves 500 ms" in problems(stage)


def test_all_problems_reported_at_once() -> None:
    stage = base()
    stage["api"] = {"default_max_tokens": 9000, "max_tokens_limit": 100}
    stage["runtime"] = {"log_retention_days": 13}
    msg = problems(stage)
    assert "api.default_max_tokens: 9000 exceeds" in msg
    assert "runtime.log_retention_days: 13 is not a CloudWatch retention" in msg


def test_long_values_are_cut_short_in_messages() -> None:
    stage = base()
    stage["models"][0] = {"id": "x" * 500}
    msg = problems(stage)
    assert "x" * 100 not in msg and "..." in msg


def test_best_region_is_a_known_region() -> None:
    from stacks.config.regions import aws_regions

    assert best_region(CATALOG) in aws_regions()


def test_today_is_used_by_default() -> None:
    assert load_plan(context(base()), {}, CATALOG, today=date.today()).name == NAME


@pytest.mark.parametrize("where", ["team", "extra-key", "extra-value"])
def test_tags_must_be_ascii_as_bedrock_requires(where: str) -> None:
    stage = base()
    if where == "team":
        stage["tags"]["team"] = "Équipe"
    elif where == "extra-key":
        stage["tags"]["extra"] = {"チーム": "x"}
    else:
        stage["tags"]["extra"] = {"owner": "チーム"}
    assert f"stages.{NAME}.tags." in problems(stage)


@pytest.mark.parametrize("key", ["stage", "cost-center", "aws:owner"])
def test_extra_tags_cannot_override_the_kits_own_or_use_aws_prefix(key: str) -> None:
    stage = base()
    stage["tags"]["extra"] = {key: "x"}
    assert f"stages.{NAME}.tags.extra.{key}: is not allowed" in problems(stage)
