"""The chat functions' settings, from the stage plan: no CDK import, so ``make serve-local``
builds them with the stack's own code in a fraction of a second."""

from __future__ import annotations

from typing import Any

from kit_runtime.contracts.chat import ChatSettings, GuardrailRef, ModelRoute
from stacks.config import StagePlan
from stacks.config.options import runtime_options
from stacks.core.references import GuardrailHandle, GuardrailHandles, ProfileHandles


def guardrail_ref(handle: GuardrailHandle) -> GuardrailRef:
    """One guardrail as the runtime's settings carry it."""
    return GuardrailRef(
        arn=handle.arn, version=handle.version, grounding=handle.contextual_grounding
    )


def guardrail_choices(guardrails: GuardrailHandles) -> dict[str, Any]:
    """The settings fields of :class:`kit_runtime.contracts.chat.GuardrailChoices`: the default
    once (``guardrail``, ``guardrail_name``), every other guardrail by name."""
    return {
        "guardrail": guardrail_ref(guardrails.default_handle),
        "guardrail_name": guardrails.default,
        "guardrails": {
            name: guardrail_ref(handle)
            for name, handle in guardrails.by_name.items()
            if name != guardrails.default
        },
    }


def chat_settings(
    plan: StagePlan, *, profiles: ProfileHandles, guardrails: GuardrailHandles
) -> ChatSettings:
    """The chat function's settings: stage facts only (catalog facts ship in the asset)."""
    config = plan.config
    tier_options, latency_optimized, caching = runtime_options(
        region=plan.region,
        tier_options=config.tier_options,
        caching=config.prompt_caching,
        enabled_ids=[m.id for m in plan.chat_models],
        catalog=plan.catalog,
        profiles={m.id: m.profile for m in plan.chat_models},
    )
    return ChatSettings(
        stage=plan.name,
        models={
            m.id: ModelRoute(invoke_arn=profiles.arns[m.id], profile=m.profile)
            for m in plan.chat_models
        },
        tiers=config.tiers.primaries(),
        fallbacks=config.tiers.fallbacks(),
        allow_fallback_for_named_models=config.runtime.allow_fallback_for_named_models,
        default_tier=config.default_tier,
        default_max_tokens=config.api.default_max_tokens,
        max_tokens_limit=config.api.max_tokens_limit,
        **guardrail_choices(guardrails),
        log_prompts=config.runtime.log_prompts,
        limits=plan.request_limits(),
        budget=plan.time_budget(),
        tier_options=tier_options,
        latency_optimized_models=latency_optimized,
        prompt_caching=caching,
    )
