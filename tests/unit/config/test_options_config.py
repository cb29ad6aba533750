"""The per-model options config: tier options checked against the tier's model at synth."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from stacks.catalog import ModelSpec, load_catalog
from stacks.config import ConfigError, load_plan
from stacks.config.options import runtime_options
from tests.stages import basic_stage

CATALOG = load_catalog()
NAME = "qa"


def _is(model_id: str, spec: ModelSpec) -> bool:
    return spec.id == model_id


def context(stage: dict[str, Any]) -> dict[str, Any]:
    return {"stages": {NAME: stage}, "stage": NAME}


def problems(stage: dict[str, Any]) -> str:
    with pytest.raises(ConfigError) as info:
        load_plan(context(stage), {}, CATALOG)
    return str(info.value)


def base() -> dict[str, Any]:
    return copy.deepcopy(basic_stage(CATALOG))


def test_latency_optimized_on_a_tier_whose_model_lacks_it_fails_synth() -> None:
    # Given a stage whose fast tier maps to a model not latency-optimized in its region
    stage = base()
    fast = CATALOG.models[stage["tiers"]["fast"]]
    if stage["region"] in fast.latency_optimized_regions:
        pytest.skip("the picked model is latency-optimized here")
    stage["tier_options"] = {"fast": {"latency": "optimized"}}
    # When synth loads it, Then the error names the key, the model and what is allowed
    msg = problems(stage)
    assert f"stages.{NAME}.tier_options.fast.latency: 'optimized' is not offered for" in msg
    assert repr(fast.id) in msg and "allowed: 'standard'" in msg


def test_a_service_tier_without_a_catalog_price_fails_synth() -> None:
    stage = base()
    model = CATALOG.models[stage["tiers"]["deep"]]
    if "priority" in model.service_tiers:
        pytest.skip("the picked model offers priority")
    stage["tier_options"] = {"deep": {"service_tier": "priority"}}
    msg = problems(stage)
    assert f"stages.{NAME}.tier_options.deep.service_tier: 'priority' is not offered" in msg
    assert "allowed: 'default'" in msg


def test_unknown_option_values_and_keys_name_what_is_allowed() -> None:
    stage = base()
    stage["tier_options"] = {"fast": {"latency": "turbo"}, "huge": {}}
    stage["prompt_caching"] = {"ttl": "2h"}
    msg = problems(stage)
    assert f"stages.{NAME}.tier_options.fast.latency" in msg and "'optimized'" in msg
    assert f"stages.{NAME}.tier_options.huge" in msg
    assert f"stages.{NAME}.prompt_caching.ttl" in msg


def test_a_cache_ttl_no_enabled_model_accepts_fails_synth() -> None:
    stage = base()
    enabled = [CATALOG.models[m["id"]] for m in stage["models"]]
    if any(s.prompt_caching and "1h" in s.prompt_caching.ttls for s in enabled):
        pytest.skip("an enabled model accepts 1h")
    stage["prompt_caching"] = {"ttl": "1h"}
    assert f"stages.{NAME}.prompt_caching.ttl: '1h' is offered by no enabled model" in problems(
        stage
    )


def test_latency_optimized_where_offered_reaches_the_function_settings() -> None:
    # Given a region where some catalog chat model is latency-optimized, and that model enabled
    candidates = sorted(
        (region, spec.id)
        for spec in CATALOG.models.values()
        if spec.kind == "chat"
        for region in spec.latency_optimized_regions
    )
    for region, model_id in candidates:
        spec = CATALOG.models[model_id]
        profiles = [p for p, ip in sorted(spec.inference_profiles.items()) if region in ip.sources]
        if profiles:
            picked = [{"id": model_id, "profile": profiles[0]}]
            break
    else:
        pytest.skip("no latency-optimized chat model reachable through a profile")
    stage = base()
    stage.update(
        region=region,
        models=picked,
        tiers=dict.fromkeys(("fast", "balanced", "deep"), model_id),
        tier_options={"fast": {"latency": "optimized"}},
    )
    plan = load_plan(context(stage), {}, CATALOG)
    # When the chat settings are built
    tiers, optimized, caching = runtime_options(
        region=plan.region,
        tier_options=plan.config.tier_options,
        caching=plan.config.prompt_caching,
        enabled_ids=[m.id for m in plan.chat_models],
        catalog=CATALOG,
        profiles={m.id: m.profile for m in plan.chat_models},
    )
    # Then the model is listed as latency-optimized and the fast tier asks for it
    assert optimized == (model_id,)
    assert tiers["fast"].latency == "optimized" and "balanced" not in tiers
    assert caching.enabled is True


def test_latency_optimized_on_a_model_enabled_in_region_fails_synth_saying_why() -> None:
    # Given a latency-optimized model enabled in-region (Bedrock offers it through profiles only)
    found = [
        (region, spec.id)
        for spec in sorted(CATALOG.models.values(), key=lambda s: s.id)
        if spec.kind == "chat"
        for region in spec.latency_optimized_regions
        if region in spec.regions
    ]
    if not found:
        pytest.skip("no latency-optimized chat model is also served in-region")
    region, model_id = found[0]
    stage = base()
    stage.update(
        region=region,
        models=[{"id": model_id}],
        tiers=dict.fromkeys(("fast", "balanced", "deep"), model_id),
        tier_options={"fast": {"latency": "optimized"}},
    )
    # Then synth refuses it, naming the key and the cross-region requirement
    msg = problems(stage)
    assert f"stages.{NAME}.tier_options.fast.latency: 'optimized' is not offered" in msg
    assert "cross-region profile only" in msg
