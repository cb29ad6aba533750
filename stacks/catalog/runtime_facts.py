"""The catalog facts the runtime needs, as the contract shipped inside the Lambda asset."""

from __future__ import annotations

from kit_runtime.contracts.catalog import (
    CachingFacts,
    ModelFacts,
    RuntimeCatalog,
    TierPricing,
    TokenPrices,
)
from stacks.catalog import Catalog, ModelSpec, Prices


def _prices(prices: Prices) -> TokenPrices:
    return TokenPrices(
        input_per_mtok=prices.input_per_mtok,
        output_per_mtok=prices.output_per_mtok,
        cache_read_per_mtok=prices.cache_read_per_mtok,
        cache_write_per_mtok=prices.cache_write_per_mtok,
    )


def _caching(spec: ModelSpec) -> CachingFacts | None:
    caching = spec.prompt_caching
    if caching is None:
        return None
    return CachingFacts(
        min_tokens_per_cache_point=caching.min_tokens_per_cache_point,
        fields=tuple(caching.fields),
        ttls=tuple(caching.ttls),
    )


def runtime_catalog(catalog: Catalog) -> RuntimeCatalog:
    """Every catalog model's runtime facts (prices, output cap, features)."""
    return RuntimeCatalog(
        models={
            spec.id: ModelFacts(
                name=spec.name,
                kind=spec.kind,
                max_output_tokens=spec.max_output_tokens,
                streaming=spec.streaming,
                tool_use=spec.tool_use,
                input_modalities=tuple(spec.input_modalities),
                prices=_prices(spec.prices),
                global_prices=_prices(spec.global_prices) if spec.global_prices else None,
                prompt_caching=_caching(spec),
                latency_optimized_regions=tuple(spec.latency_optimized_regions),
                service_tiers={
                    name: TierPricing(
                        input_multiplier=tier.input_multiplier,
                        output_multiplier=tier.output_multiplier,
                    )
                    for name, tier in spec.service_tiers.items()
                },
            )
            for spec in catalog.models.values()
        }
    )
