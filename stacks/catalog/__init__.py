"""The model catalog: which Bedrock models the kit knows, where they run and what they cost.

The data lives in ``models.yaml`` beside this module; this module only gives it a schema.
Adding a model is one entry in that file (see README, "Adding a model").
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


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Prices(_Strict):
    """On-demand prices in USD per million tokens, with the day they were checked."""

    input_per_mtok: float = Field(ge=0)
    output_per_mtok: float = Field(default=0, ge=0)
    cache_read_per_mtok: float | None = Field(default=None, ge=0)
    cache_write_per_mtok: float | None = Field(default=None, ge=0)
    checked: date
    source: str


class PromptCaching(_Strict):
    """Prompt caching support: the minimum tokens a cache checkpoint must cover."""

    min_tokens_per_cache_point: int = Field(gt=0)


class InferenceProfileSpec(_Strict):
    """A system-defined cross-region inference profile of one geography (or ``global``).

    ``sources`` are the regions a caller may invoke the profile from; ``destinations`` the
    regions Bedrock may route to. A ``global`` profile routes to any commercial region, so
    its ``destinations`` stay empty and IAM uses the region-less foundation-model ARN.
    """

    sources: tuple[str, ...] = Field(min_length=1)
    destinations: tuple[str, ...] = ()


class ModelAccessSpec(_Strict):
    """What Bedrock asks before a model can be invoked in an account."""

    use_case_form: bool = False
    marketplace_agreement: bool = False


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
    max_output_tokens: int | None = Field(default=None, gt=0)
    """Per-request output cap of a chat model."""
    embedding_dimensions: tuple[int, ...] = ()
    """Vector sizes an embedding model can return."""
    access: ModelAccessSpec = ModelAccessSpec()
    regions: tuple[str, ...] = ()
    """Regions that serve the model on demand in-region (no inference profile)."""
    inference_profiles: dict[ProfilePrefix, InferenceProfileSpec] = {}
    prices: Prices
    """In-region and geographic-profile prices."""
    global_prices: Prices | None = None
    """Prices through the ``global`` profile, where they differ."""

    @model_validator(mode="after")
    def _check_global(self) -> ModelSpec:
        if self.kind == "chat" and self.max_output_tokens is None:
            raise ValueError("a chat model needs max_output_tokens")
        if self.kind == "embedding" and not self.embedding_dimensions:
            raise ValueError("an embedding model needs embedding_dimensions")
        glob = self.inference_profiles.get("global")
        if glob is not None and glob.destinations:
            raise ValueError("a global profile has no destination list (it routes worldwide)")
        for prefix, spec in self.inference_profiles.items():
            if prefix != "global" and not spec.destinations:
                raise ValueError(f"inference profile {prefix!r} needs its destination regions")
        if not self.regions and not self.inference_profiles:
            raise ValueError("a model needs at least one region or inference profile")
        return self

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
        return self.inference_profiles[prefix].destinations

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
            dupes = sorted({i for i in ids if ids.count(i) > 1})
            if dupes:
                raise ValueError(f"duplicate model ids in catalog: {dupes}")
            return {"models": {e["id"]: e for e in entries}}
        return data

    def get(self, model_id: str) -> ModelSpec | None:
        return self.models.get(model_id)

    def ids(self, kind: str | None = None) -> list[str]:
        return sorted(m.id for m in self.models.values() if kind is None or m.kind == kind)


class CatalogError(ValueError):
    """The catalog file is invalid; ``str()`` names the file, the entry and the field."""


@cache
def load_catalog(path: Path = CATALOG_FILE) -> Catalog:
    """Read and validate the catalog file once per process."""
    try:
        with path.open(encoding="utf-8") as fh:
            return Catalog.model_validate(yaml.safe_load(fh))
    except (OSError, yaml.YAMLError) as exc:
        raise CatalogError(f"{path.name}: cannot be read: {exc}") from None
    except ValidationError as exc:
        problems = "\n".join(
            f"  - {'.'.join(str(p) for p in e['loc'])}: {e['msg']} (got {e.get('input')!r})"
            for e in exc.errors(include_url=False)
        )
        raise CatalogError(f"{path.name} is invalid:\n{problems}") from None
