"""The model catalog: which Bedrock models the kit knows, where they run, what they cost and
when they retire.

The data lives in ``models.yaml`` beside this module; this module only gives it a schema.
Adding a model is one entry in that file; retiring one is two dates and a replacement on that
entry (see README, "Adding a model").
"""

from __future__ import annotations

from datetime import date
from functools import cache
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

CATALOG_FILE = Path(__file__).with_name("models.yaml")

ProfilePrefix = Literal["us", "eu", "apac", "jp", "au", "global"]
PROFILE_PREFIXES: tuple[str, ...] = ("us", "eu", "apac", "jp", "au", "global")

Modality = Literal["text", "image", "document", "video", "audio", "embedding"]
LifecycleState = Literal["active", "legacy", "end_of_life"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _not_in_future(value: date, field: str) -> None:
    # A future "checked" date is a typo; it would also make the freshness of a fact unreadable.
    if value > date.today():
        raise ValueError(f"{field}: {value.isoformat()} is in the future")


class Source(_Strict):
    """Where one group of an entry's facts was read, and when."""

    what: str = Field(min_length=1)
    """The facts this source backs, e.g. ``"regions, profiles"`` or ``"prices"``."""
    url: str = Field(pattern=r"^https://\S+$")
    checked: date

    @model_validator(mode="after")
    def _check_date(self) -> Source:
        _not_in_future(self.checked, "checked")
        return self


class Prices(_Strict):
    """On-demand prices in USD per million tokens, with the day they were checked."""

    input_per_mtok: float = Field(ge=0)
    output_per_mtok: float = Field(default=0, ge=0)
    cache_read_per_mtok: float | None = Field(default=None, ge=0)
    cache_write_per_mtok: float | None = Field(default=None, ge=0)
    checked: date
    source: str = Field(min_length=1)

    @model_validator(mode="after")
    def _check_date(self) -> Prices:
        _not_in_future(self.checked, "checked")
        return self


CacheField = Literal["system", "messages", "tools"]
CacheTtl = Literal["5m", "1h"]
"""Converse ``CacheTTL`` values (botocore bedrock-runtime 2023-09-30, ``CachePointBlock.ttl``,
checked 2026-12-01)."""
ServiceTierName = Literal["priority", "flex"]
"""The on-demand Converse ``ServiceTierType`` values besides ``default`` that a model may offer
(``reserved`` needs a reservation through an AWS account team, so the kit does not offer it)."""


class PromptCaching(_Strict):
    """Prompt caching support: the minimum tokens a cache checkpoint must cover, the request
    fields a checkpoint may follow, and the cache lifetimes offered."""

    min_tokens_per_cache_point: int = Field(gt=0)
    fields: tuple[CacheField, ...] = ("system", "messages")
    """Where a ``cachePoint`` may go (Nova: system and messages; Claude: tools too)."""
    ttls: tuple[CacheTtl, ...] = ("5m",)
    """Cache lifetimes the model accepts; the first is Bedrock's default (no ``ttl`` sent)."""

    @model_validator(mode="after")
    def _check(self) -> PromptCaching:
        if not self.fields:
            raise ValueError("fields: list at least one of system, messages, tools")
        if not self.ttls or self.ttls[0] != "5m":
            raise ValueError("ttls: start with '5m' (Bedrock's default lifetime)")
        return self


class ServiceTierSpec(_Strict):
    """A service tier a model offers, priced as multipliers of its standard prices."""

    input_multiplier: float = Field(gt=0)
    output_multiplier: float = Field(gt=0)
    checked: date
    source: str = Field(pattern=r"^https://\S+$")

    @model_validator(mode="after")
    def _check_date(self) -> ServiceTierSpec:
        _not_in_future(self.checked, "checked")
        return self


class InferenceProfileSpec(_Strict):
    """A system-defined cross-region inference profile of one geography (or ``global``).

    ``sources`` are the regions a caller may invoke the profile from; ``destinations`` the
    regions Bedrock may route to. A ``global`` profile routes to any commercial region, so
    its ``destinations`` stay empty and IAM uses the region-less foundation-model ARN.
    """

    sources: tuple[str, ...] = Field(min_length=1)
    destinations: tuple[str, ...] = ()


# AWS Marketplace product ids: ``prod-...`` for most models; a few older listings (Cohere Embed v3,
# Claude 2) use a UUID (model-access-product-ids.html), so both shapes are accepted.
MARKETPLACE_PRODUCT_ID_PATTERN = (
    r"^(prod-[a-z0-9]+|[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})$"
)


class ModelAccessSpec(_Strict):
    """What Bedrock asks before a model can be invoked in an account."""

    use_case_form: bool = False
    marketplace_agreement: bool = False
    marketplace_product_id: str | None = Field(default=None, pattern=MARKETPLACE_PRODUCT_ID_PATTERN)
    """The AWS Marketplace product id, for an ``aws-marketplace:ProductId`` IAM condition."""

    @model_validator(mode="after")
    def _check_product_id(self) -> ModelAccessSpec:
        if self.marketplace_product_id is not None and not self.marketplace_agreement:
            raise ValueError(
                "marketplace_product_id: only a model with marketplace_agreement: true has one"
            )
        return self


class Lifecycle(_Strict):
    """Bedrock's lifecycle dates of a model, and the catalog model to move to.

    Bedrock's states are Active, Legacy and End-of-Life (model-lifecycle.html). A model with
    an announced ``end_of_life`` but no known ``legacy_since`` counts as legacy until that day.
    """

    legacy_since: date | None = None
    end_of_life: date | None = None
    replacement: str | None = None
    """A catalog model id to move to; checked against the catalog when it loads."""

    @model_validator(mode="after")
    def _check_order(self) -> Lifecycle:
        if (
            self.legacy_since is not None
            and self.end_of_life is not None
            and self.end_of_life < self.legacy_since
        ):
            raise ValueError(
                f"end_of_life ({self.end_of_life.isoformat()}) is before legacy_since "
                f"({self.legacy_since.isoformat()})"
            )
        if self.replacement is not None and self.legacy_since is None and self.end_of_life is None:
            raise ValueError("replacement: set legacy_since or end_of_life for a retiring model")
        return self

    def state(self, on: date) -> LifecycleState:
        """The lifecycle state on day ``on``."""
        if self.end_of_life is not None and on >= self.end_of_life:
            return "end_of_life"
        if self.legacy_since is not None:
            return "legacy" if on >= self.legacy_since else "active"
        # An announced end of life without a known legacy date: legacy until that day.
        return "legacy" if self.end_of_life is not None else "active"


class ModelSpec(_Strict):
    """One catalog entry."""

    id: str = Field(pattern=r"^[a-z0-9-]+\.[a-z0-9.:-]+$")
    name: str
    provider: str
    kind: Literal["chat", "embedding"]
    input_modalities: tuple[Modality, ...] = Field(min_length=1)
    output_modalities: tuple[Modality, ...] = Field(min_length=1)
    converse: bool
    tool_use: bool
    streaming: bool
    guardrails: bool
    prompt_caching: PromptCaching | None = None
    latency_optimized_regions: tuple[str, ...] = ()
    """Source regions from which ``performanceConfig.latency = optimized`` is served."""
    service_tiers: dict[ServiceTierName, ServiceTierSpec] = {}
    """Service tiers offered besides the standard one, with their price multipliers; only
    tiers whose price is known are listed (the kit never sends an unpriced tier)."""
    max_output_tokens: int | None = Field(default=None, gt=0)
    """Per-request output cap of a chat model."""
    embedding_dimensions: tuple[int, ...] = ()
    """Vector sizes an embedding model can return."""
    max_input_tokens: int | None = Field(default=None, gt=0)
    """Tokens an embedding model accepts per input (its context window), where known: a
    knowledge base's chunks must fit in it."""
    access: ModelAccessSpec = ModelAccessSpec()
    regions: tuple[str, ...] = ()
    """Regions that serve the model on demand in-region (no inference profile)."""
    inference_profiles: dict[ProfilePrefix, InferenceProfileSpec] = {}
    prices: Prices
    """In-region and geographic-profile prices."""
    global_prices: Prices | None = None
    """Prices through the ``global`` profile, where they differ."""
    lifecycle: Lifecycle = Lifecycle()
    sources: tuple[Source, ...] = Field(min_length=1)
    """Where the entry's facts were read (model card, profiles table, pricing, lifecycle)."""
    unverified: tuple[str, ...] = ()
    """Facts of this entry no source confirmed (free text), so a reader knows what to re-check."""

    @model_validator(mode="after")
    def _check_entry(self) -> ModelSpec:
        if self.kind == "chat" and self.max_output_tokens is None:
            raise ValueError("max_output_tokens: a chat model needs its output cap")
        if self.kind == "embedding":
            if not self.embedding_dimensions:
                raise ValueError("embedding_dimensions: an embedding model needs its vector sizes")
            if self.prices.output_per_mtok != 0:
                raise ValueError("prices.output_per_mtok: an embedding model bills input only")
        if any(d <= 0 for d in self.embedding_dimensions):
            raise ValueError("embedding_dimensions: every size must be positive")
        glob = self.inference_profiles.get("global")
        if glob is not None and glob.destinations:
            raise ValueError(
                "inference_profiles.global.destinations: a global profile has no destination "
                "list (it routes worldwide)"
            )
        for prefix, spec in self.inference_profiles.items():
            if prefix != "global" and not spec.destinations:
                raise ValueError(
                    f"inference_profiles.{prefix}.destinations: a geographic profile needs its "
                    "destination regions"
                )
        if not self.regions and not self.inference_profiles:
            raise ValueError("regions: a model needs at least one region or inference profile")
        if self.global_prices is not None and "global" not in self.inference_profiles:
            raise ValueError("global_prices: only a model with a global profile has them")
        for field, prices in (("prices", self.prices), ("global_prices", self.global_prices)):
            if prices is None:
                continue
            cached = prices.cache_read_per_mtok is not None
            if cached != (self.prompt_caching is not None):
                raise ValueError(
                    f"{field}.cache_read_per_mtok: set it exactly when prompt_caching is set"
                )
            if prices.cache_write_per_mtok is not None and self.prompt_caching is None:
                raise ValueError(f"{field}.cache_write_per_mtok: the model has no prompt_caching")
        if (
            self.access.marketplace_agreement
            and self.access.marketplace_product_id is None
            and not any("product id" in note.lower() for note in self.unverified)
        ):
            # A missing id must be a known gap, not an oversight: IAM cannot scope Subscribe to it.
            raise ValueError(
                "access.marketplace_product_id: a marketplace model needs its product id, or an "
                "'unverified' note saying the product id was not found"
            )
        if self.lifecycle.replacement == self.id:
            raise ValueError("lifecycle.replacement: a model cannot replace itself")
        return self

    def lifecycle_state(self, on: date) -> LifecycleState:
        """The model's lifecycle state on day ``on``.

        Parameters
        ----------
        on:
            The day to judge (synth passes today).

        Returns
        -------
        ``"end_of_life"`` from ``lifecycle.end_of_life`` on, ``"legacy"`` from
        ``lifecycle.legacy_since`` (or whenever an end of life is announced) until then, else
        ``"active"``.
        """
        return self.lifecycle.state(on)

    def invoke_options(self, region: str) -> list[str]:
        """How this model can be reached from ``region``: ``in-region`` and/or profile prefixes."""
        options = ["in-region"] if region in self.regions else []
        options += [p for p, spec in self.inference_profiles.items() if region in spec.sources]
        return options

    def profile_id(self, prefix: str) -> str:
        """The system inference profile id, e.g. ``us.anthropic.claude-...``."""
        return f"{prefix}.{self.id}"

    def destination_regions(self, prefix: str | None, source_region: str) -> tuple[str, ...]:
        """Regions a request from ``source_region`` may be served in (empty for ``global``)."""
        if prefix is None:
            return (source_region,)
        for key, spec in self.inference_profiles.items():
            if key == prefix:
                return spec.destinations
        raise KeyError(prefix)

    def prices_for(self, prefix: str | None) -> Prices:
        """The price list that applies when invoking through ``prefix``."""
        if prefix == "global" and self.global_prices is not None:
            return self.global_prices
        return self.prices


class Catalog(_Strict):
    """All known models, keyed by model id."""

    models: dict[str, ModelSpec]

    @model_validator(mode="before")
    @classmethod
    def _index(cls, data: object) -> object:
        if isinstance(data, dict) and isinstance(data.get("models"), list):
            entries = data["models"]
            ids = [e.get("id") for e in entries if isinstance(e, dict)]
            dupes = sorted({str(i) for i in ids if ids.count(i) > 1})
            if dupes:
                raise ValueError(f"duplicate model ids in catalog: {dupes}")
            return {"models": {str(e.get("id")): e for e in entries if isinstance(e, dict)}}
        return data

    @model_validator(mode="after")
    def _check_replacements(self) -> Catalog:
        problems = []
        for spec in self.models.values():
            rid = spec.lifecycle.replacement
            if rid is None:
                continue
            field = f"models.{spec.id}.lifecycle.replacement"
            target = self.models.get(rid)
            if target is None:
                problems.append(f"{field}: {rid!r} is not a catalog model id")
                continue
            # Judged against the retiring model's own dates, not today, so the file stays valid
            # as time passes: the replacement must outlive the model it replaces.
            retires = spec.lifecycle.end_of_life or spec.lifecycle.legacy_since
            target_eol = target.lifecycle.end_of_life
            if target_eol is not None and retires is not None and target_eol <= retires:
                problems.append(
                    f"{field}: {rid!r} reaches its end of life ({target_eol.isoformat()}) "
                    f"no later than {spec.id!r} ({retires.isoformat()})"
                )
        if problems:
            raise ValueError("; ".join(problems))
        return self

    def get(self, model_id: str) -> ModelSpec | None:
        return self.models.get(model_id)

    def ids(self, kind: str | None = None) -> list[str]:
        return sorted(m.id for m in self.models.values() if kind is None or m.kind == kind)

    def successor(self, model_id: str, on: date) -> str | None:
        """The first model in ``model_id``'s replacement chain that is not past end of life on
        ``on`` (``None`` when the chain ends without one)."""
        seen = {model_id}
        current = self.models[model_id].lifecycle.replacement
        while current is not None and current not in seen:
            spec = self.models[current]
            if spec.lifecycle_state(on) != "end_of_life":
                return current
            seen.add(current)
            current = spec.lifecycle.replacement
        return None


class CatalogError(ValueError):
    """The catalog file is invalid; ``str()`` names the file, the entry and the field."""


def _location(loc: tuple[int | str, ...]) -> str:
    return ".".join(str(p) for p in loc)


@cache
def load_catalog(path: Path = CATALOG_FILE) -> Catalog:
    """Read and validate the catalog file once per process.

    Raises
    ------
    CatalogError
        The file cannot be read or is invalid; the message lists every problem with its
        ``models.<id>.<field>`` path.
    """
    try:
        with path.open(encoding="utf-8") as fh:
            return Catalog.model_validate(yaml.safe_load(fh))
    except (OSError, yaml.YAMLError) as exc:
        hint = ""
        if "duplicate anchor" in str(exc):
            hint = (
                "\n(an anchor such as &name may be defined once: in a copied entry, refer to "
                "the existing one as *name, or rename the copy's anchor)"
            )
        raise CatalogError(f"{path.name}: cannot be read: {exc}{hint}") from None
    except ValidationError as exc:
        problems = "\n".join(
            f"  - {_location(e['loc']) + ': ' if e['loc'] else ''}{e['msg']}"
            + (f" (got {e['input']!r})" if e["type"] != "value_error" else "")
            for e in exc.errors(include_url=False)
        )
        raise CatalogError(f"{path.name} is invalid:\n{problems}") from None
