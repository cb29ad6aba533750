"""Per-model Converse options of a stage: latency, service tier per tier, and prompt caching.

``tier_options`` is its own stage key (not inside ``tiers``) so a tier's model mapping and its
options change independently. Each option is checked against the catalog entry of the model the
tier maps to: an option that model does not support in the stage's region fails synth, because
Bedrock would refuse every call carrying it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, Literal

from kit_runtime.contracts.chat import CachingSettings, CallOptions
from kit_runtime.contracts.common import Tier
from stacks.catalog import Catalog, ModelSpec
from stacks.config.base import Strict


class TierOptions(Strict):
    """Converse options of one tier's calls (a request may override them)."""

    latency: Literal["standard", "optimized"] = "standard"
    """``optimized``: latency-optimized inference (``performanceConfig``)."""
    service_tier: Literal["default", "priority", "flex"] = "default"
    """Converse ``serviceTier``; priced at the catalog's multipliers for the tier."""


class PromptCachingConfig(Strict):
    """Prompt caching: a cache point after the system prompt (and tools) where the model caches
    them and they reach its minimum tokens."""

    enabled: bool = True
    ttl: Literal["5m", "1h"] | None = None
    """Cache lifetime; ``null`` is Bedrock's default (5 minutes). Only for models whose catalog
    entry lists it in ``prompt_caching.ttls``."""


def tier_model_ids(target: Any) -> list[str]:
    """The model ids a tier maps to: one id, or an ordered chain of them."""
    if isinstance(target, str):
        return [target]
    if isinstance(target, Iterable):
        return [str(getattr(entry, "id", entry)) for entry in target]
    return []


def latency_optimized(spec: ModelSpec, region: str, profile: str | None = "any") -> bool:
    """Whether ``spec``, reached through ``profile`` from ``region``, is served latency-optimized.

    Bedrock offers it through cross-region inference only ("Regions supporting inference
    profile", latency-optimized-inference.html, checked 2026-12-01): a model enabled in-region
    (``profile`` ``None``) is not. ``"any"``: the model reached through some profile.
    """
    return profile is not None and region in spec.latency_optimized_regions


def options_problems(
    prefix: str,
    *,
    region: str,
    tiers: Mapping[str, Any],
    tier_options: Mapping[Tier, TierOptions],
    caching: PromptCachingConfig,
    enabled_ids: Iterable[str],
    catalog: Catalog,
    profiles: Mapping[str, str | None] | None = None,
) -> list[str]:
    """Each tier option must be supported by the tier's (first) model, and a cache ``ttl`` by
    at least one enabled model that caches.

    Parameters
    ----------
    prefix:
        Key path of the stage (``stages.<name>``).
    region:
        The stage's region.
    tiers:
        Tier name -> model id (or chain of model ids).
    tier_options, caching:
        The stage's ``tier_options`` and ``prompt_caching`` blocks.
    enabled_ids:
        The stage's enabled model ids.
    catalog:
        The model catalog.
    """
    problems: list[str] = []
    for tier, opts in tier_options.items():
        ids = tier_model_ids(tiers.get(tier))
        spec = catalog.get(ids[0]) if ids else None
        if spec is None:
            continue  # the tier's model is reported by the models checks
        key = f"{prefix}.tier_options.{tier}"
        profile = (profiles or {}).get(spec.id, "any")
        if opts.latency == "optimized" and not latency_optimized(spec, region, profile):
            offering = sorted(m.id for m in catalog.models.values() if latency_optimized(m, region))
            how = " (enabled in-region: it is offered through a cross-region profile only)"
            problems.append(
                f"{key}.latency: 'optimized' is not offered for {spec.id!r} (tier {tier}) in "
                f"region {region!r}{how if profile is None else ''}; allowed: 'standard', or map "
                "the tier to a model that offers it here, through its profile: "
                f"{', '.join(offering) or '(none in this region)'}"
            )
        if opts.service_tier != "default" and opts.service_tier not in spec.service_tiers:
            offered = ["default", *sorted(spec.service_tiers)]
            problems.append(
                f"{key}.service_tier: {opts.service_tier!r} is not offered (with a known price) "
                f"for {spec.id!r} (tier {tier}); allowed: {', '.join(repr(t) for t in offered)}"
            )
    if caching.enabled and caching.ttl not in (None, "5m"):
        specs = [s for mid in enabled_ids if (s := catalog.get(mid)) is not None]
        caching_specs = [s for s in specs if s.prompt_caching is not None]
        if not any(caching.ttl in s.prompt_caching.ttls for s in caching_specs if s.prompt_caching):
            problems.append(
                f"{prefix}.prompt_caching.ttl: {caching.ttl!r} is offered by no enabled model; "
                "allowed: null or '5m' (the catalog's prompt_caching.ttls lists what each model "
                "accepts)"
            )
    return problems


def runtime_options(
    *,
    region: str,
    tier_options: Mapping[Tier, TierOptions],
    caching: PromptCachingConfig,
    enabled_ids: Iterable[str],
    catalog: Catalog,
    profiles: Mapping[str, str | None] | None = None,
) -> tuple[dict[Tier, CallOptions], tuple[str, ...], CachingSettings]:
    """The chat function's option settings: per-tier options, the enabled models served
    latency-optimized from ``region``, and the caching switch."""
    optimized = tuple(
        sorted(
            mid
            for mid in enabled_ids
            if (spec := catalog.get(mid)) is not None
            and latency_optimized(spec, region, (profiles or {}).get(mid, "any"))
        )
    )
    per_tier = {
        tier: CallOptions(latency=opts.latency, service_tier=opts.service_tier)
        for tier, opts in tier_options.items()
        if opts != TierOptions()
    }
    return per_tier, optimized, CachingSettings(enabled=caching.enabled, ttl=caching.ttl)
