"""Helpers for the per-model options tests: the local server's rules and settings, both taken
from the catalog facts, and models picked generically by what they support."""

from __future__ import annotations

from typing import Any

from kit_runtime.contracts.catalog import ModelFacts, RuntimeCatalog, TierPricing
from kit_runtime.contracts.chat import ChatSettings
from tests.fakes import ModelRules

REGION = "us-east-1"
"""The region the test clients call (tests.support.chat_api)."""


def rules_for(
    settings: ChatSettings, catalog: RuntimeCatalog, region: str = REGION
) -> dict[str, ModelRules]:
    """What Bedrock would accept per invoke target of ``settings``, from the catalog facts."""
    rules: dict[str, ModelRules] = {}
    for model_id, route in settings.models.items():
        facts = catalog.models[model_id]
        caching = facts.prompt_caching
        rules[route.invoke_arn] = ModelRules(
            cache_fields=tuple(caching.fields) if caching else (),
            cache_ttls=tuple(caching.ttls) if caching else (),
            # Bedrock serves it latency-optimized through cross-region profiles only.
            latency_optimized=route.profile is not None
            and region in facts.latency_optimized_regions,
            service_tiers=tuple(facts.service_tiers),
        )
    return rules


def chat_models(catalog: RuntimeCatalog, where: Any) -> list[str]:
    """Chat models of ``catalog`` whose facts satisfy ``where``, sorted."""
    return sorted(
        mid for mid, facts in catalog.models.items() if facts.kind == "chat" and where(facts)
    )


def with_service_tier(
    catalog: RuntimeCatalog, model_id: str, tier: str, pricing: TierPricing
) -> RuntimeCatalog:
    """A test-owned copy of ``catalog`` in which ``model_id`` offers ``tier`` at ``pricing``
    (the shipped catalog lists no tier whose price is verified)."""
    facts: ModelFacts = catalog.models[model_id]
    changed = facts.model_copy(update={"service_tiers": {**facts.service_tiers, tier: pricing}})
    return catalog.model_copy(update={"models": {**catalog.models, model_id: changed}})
