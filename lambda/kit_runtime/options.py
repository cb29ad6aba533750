"""Per-model Converse options: latency-optimized inference, service tier and prompt caching.

Each option is sent only to a model whose catalog facts (and, for latency, the stage's region)
say it is supported, because Bedrock answers ``ValidationException`` to an unsupported field.
A request that asks for an option its model lacks gets a 422 (``invalid_request``) naming the
models that have it; a tier option (checked at synth against the tier's model) is dropped for
a model that lacks it.

Field shapes are those of botocore's ``bedrock-runtime`` 2023-09-30 ``ConverseRequest``
(checked 2026-12-01): ``performanceConfig: {latency: standard|optimized}``,
``serviceTier: {type: priority|default|flex|reserved}``, and ``{cachePoint: {type: default,
ttl?: 5m|1h}}`` as a member of the ``system`` and ``toolConfig.tools`` unions.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from kit_runtime import errors
from kit_runtime.contracts.catalog import CachingFacts, ModelFacts, TierPricing
from kit_runtime.contracts.chat import CachingSettings, ChatSettings

CHARS_PER_TOKEN = 4
"""Token estimate for cache-point placement: ``len(text) // 4``, rounded down.

English prose runs about four characters per token, and code or non-Latin text has more
tokens per character, so this rarely over-counts: a cache point is only placed where the
prefix is very likely at the model's minimum. A cache point below the minimum would cache
nothing (and cost nothing extra), so erring low only forgoes some savings."""


@dataclass(frozen=True)
class Chosen:
    """The options one call uses."""

    latency: str = "standard"
    service_tier: str = "default"


def estimate_tokens(text: str) -> int:
    """A conservative token count of ``text`` (see :data:`CHARS_PER_TOKEN`)."""
    return len(text) // CHARS_PER_TOKEN


def choose(
    settings: ChatSettings,
    facts: ModelFacts,
    model_id: str,
    tier: str | None,
    *,
    latency: str | None,
    service_tier: str | None,
) -> Chosen:
    """The options for one call: the request's, else the tier's, else the defaults.

    Raises
    ------
    errors.InvalidRequest
        The request asks for an option ``model_id`` does not support here; the error lists
        the enabled models that do.
    """
    configured = settings.tier_options.get(tier) if tier is not None else None  # type: ignore[call-overload]
    want_latency = latency or (configured.latency if configured else "standard")
    want_tier = service_tier or (configured.service_tier if configured else "default")
    if want_latency == "optimized" and model_id not in settings.latency_optimized_models:
        if latency == "optimized":
            allowed = sorted(settings.latency_optimized_models)
            raise errors.InvalidRequest(
                f"latency 'optimized' is not offered for model {model_id!r} in stage "
                f"{settings.stage!r}; models that offer it: {', '.join(allowed) or '(none)'}",
                errors=[{"field": "latency", "allowed_models": allowed}],
            )
        want_latency = "standard"
    if want_tier != "default" and want_tier not in facts.service_tiers:
        if service_tier is not None:
            raise errors.InvalidRequest(
                f"service_tier {want_tier!r} is not offered for model {model_id!r}; "
                f"it offers: {', '.join(['default', *sorted(facts.service_tiers)])}",
                errors=[
                    {
                        "field": "service_tier",
                        "allowed": ["default", *sorted(facts.service_tiers)],
                    }
                ],
            )
        want_tier = "default"
    return Chosen(latency=want_latency, service_tier=want_tier)


def apply(
    arguments: dict[str, Any],
    chosen: Chosen,
    *,
    caching: CachingFacts | None,
    config: CachingSettings,
) -> dict[str, Any]:
    """``arguments`` with the chosen options and the cache points added (never a default)."""
    if chosen.latency == "optimized":
        arguments["performanceConfig"] = {"latency": "optimized"}
    if chosen.service_tier != "default":
        arguments["serviceTier"] = {"type": chosen.service_tier}
    add_cache_points(arguments, caching, config)
    return arguments


def add_cache_points(
    arguments: dict[str, Any], caching: CachingFacts | None, config: CachingSettings
) -> int:
    """Add a ``cachePoint`` after the tools and after the system prompt where the model caches
    that field and the segment reaches its minimum tokens; the number of points added.

    Each segment is counted on its own (not with what precedes it), the stricter reading of
    "minimum tokens per cache checkpoint".
    """
    if caching is None or not config.enabled:
        return 0
    point: dict[str, str] = {"type": "default"}
    # The first lifetime is Bedrock's default: send a ttl only for a longer one the model takes.
    if config.ttl is not None and config.ttl in caching.ttls[1:]:
        point["ttl"] = config.ttl
    minimum = caching.min_tokens_per_cache_point
    placed = 0
    tool_config = arguments.get("toolConfig")
    if not isinstance(tool_config, dict):
        tool_config = {}
    tools = tool_config.get("tools")
    tools_text = json.dumps(tools, separators=(",", ":")) if tools else ""
    if tools and "tools" in caching.fields and estimate_tokens(tools_text) >= minimum:
        arguments["toolConfig"] = {**tool_config, "tools": [*tools, {"cachePoint": point}]}
        placed += 1
    system = arguments.get("system")
    if system and "system" in caching.fields:
        text = "".join(str(block.get("text", "")) for block in system)
        if estimate_tokens(text) >= minimum:
            arguments["system"] = [*system, {"cachePoint": dict(point)}]
            placed += 1
    return placed


def sent(arguments: dict[str, Any] | None) -> Chosen:
    """The options a Converse call carried (what the answer is priced at)."""
    if not arguments:
        return Chosen()
    latency = (arguments.get("performanceConfig") or {}).get("latency", "standard")
    service_tier = (arguments.get("serviceTier") or {}).get("type", "default")
    return Chosen(latency=latency, service_tier=service_tier)


def tier_pricing(facts: ModelFacts, service_tier: str) -> TierPricing | None:
    """The price multipliers of ``service_tier`` (``None`` for the standard tier)."""
    if service_tier == "default":
        return None
    return facts.service_tiers.get(service_tier)
