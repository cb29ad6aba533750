"""Catalog facts the runtime needs, shipped inside the Lambda asset (not in the environment).

The deploy code writes this document as ``kit_runtime/contracts/catalog.json`` into the asset
when it bundles; the runtime reads it once per execution environment.
"""

from __future__ import annotations

from pydantic import Field

from kit_runtime.contracts.common import Contract

FILE_NAME = "catalog.json"


class TokenPrices(Contract):
    """On-demand USD per million tokens."""

    input_per_mtok: float = Field(ge=0)
    output_per_mtok: float = Field(ge=0)
    cache_read_per_mtok: float | None = Field(default=None, ge=0)
    cache_write_per_mtok: float | None = Field(default=None, ge=0)


class CachingFacts(Contract):
    """A model's prompt caching: the minimum tokens per checkpoint, where checkpoints may go,
    and the cache lifetimes it accepts (the first is Bedrock's default)."""

    min_tokens_per_cache_point: int = Field(gt=0)
    fields: tuple[str, ...]
    ttls: tuple[str, ...]


class TierPricing(Contract):
    """A service tier's price as multipliers of the model's standard prices."""

    input_multiplier: float = Field(gt=0)
    output_multiplier: float = Field(gt=0)


class ModelFacts(Contract):
    """What the runtime must know about one catalog model."""

    name: str
    kind: str
    max_output_tokens: int | None = Field(default=None, gt=0)
    streaming: bool
    tool_use: bool
    input_modalities: tuple[str, ...]
    prices: TokenPrices
    """In-region and geographic-profile prices."""
    global_prices: TokenPrices | None = None
    """Prices through the ``global`` profile, where they differ."""
    prompt_caching: CachingFacts | None = None
    """``None``: the model has no prompt caching (a ``cachePoint`` is never sent to it)."""
    latency_optimized_regions: tuple[str, ...] = ()
    """Source regions from which latency-optimized inference is served."""
    service_tiers: dict[str, TierPricing] = {}
    """Service tiers offered besides the standard one (``priority``, ``flex``), with prices."""

    def prices_for(self, profile: str | None) -> TokenPrices:
        """The price list that applies when invoking through ``profile``."""
        if profile == "global" and self.global_prices is not None:
            return self.global_prices
        return self.prices


class RuntimeCatalog(Contract):
    """Every catalog model's runtime facts, keyed by model id."""

    models: dict[str, ModelFacts]
