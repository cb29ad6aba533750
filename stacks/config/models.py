"""Which catalog models a stage enables, how each is reached, and the tiers over them."""

from __future__ import annotations

import re
from datetime import date
from typing import Annotated

from pydantic import Field, field_validator
from pydantic_core import PydanticCustomError

from kit_runtime.contracts.common import TIERS, Tier
from stacks.catalog import PROFILE_PREFIXES, Catalog, ModelSpec, ProfilePrefix
from stacks.config.base import Strict, show
from stacks.config.regions import known_region_problem

_PREFIXED_ID = re.compile(rf"^({'|'.join(PROFILE_PREFIXES)})\.(.+)$")


class ModelRef(Strict):
    """One enabled model and how it is reached from the stage's region."""

    id: str = Field(min_length=1, max_length=200)
    profile: ProfilePrefix | None = None
    """Cross-region profile prefix; ``null`` invokes the model in the stage's region."""


MAX_CHAIN = 4
"""Models per tier: each fallback costs at least one more attempt inside the time budget."""

ChainEntry = Annotated[str, Field(min_length=1, max_length=200, strict=True)]
TierChain = Annotated[
    tuple[ChainEntry, ...], Field(min_length=1, max_length=MAX_CHAIN, strict=False)
]
"""An ordered chain of enabled model ids: the first answers, the next ones take over when it
throttles or is unavailable (docs/decisions.md, "Tier fallback chains"). One id is a chain of
one. (Not strict: the validator below hands a list to the tuple; entries stay strict.)"""


_CHAIN_SHAPE = f"a model id, or a list of 1-{MAX_CHAIN} model ids (first choice first)"


class Tiers(Strict):
    """Request tiers mapped to ordered chains of enabled chat models."""

    fast: TierChain
    balanced: TierChain
    deep: TierChain

    @field_validator("fast", "balanced", "deep", mode="before")
    @classmethod
    def _one_or_chain(cls, value: object) -> object:
        if isinstance(value, str):
            return [value]
        if not isinstance(value, list):
            raise PydanticCustomError(
                "tier_chain",
                "not a tier chain",
                {"expected": _CHAIN_SHAPE},
            )
        return value

    def chain(self, tier: Tier) -> tuple[str, ...]:
        """The tier's models, first choice first."""
        chain: tuple[str, ...] = getattr(self, tier)
        return chain

    def items(self) -> list[tuple[Tier, tuple[str, ...]]]:
        """Every tier with its chain."""
        return [(tier, self.chain(tier)) for tier in TIERS]

    def primaries(self) -> dict[Tier, str]:
        """Every tier's first choice."""
        return {tier: chain[0] for tier, chain in self.items() if chain}

    def fallbacks(self) -> dict[Tier, list[str]]:
        """The models after the first, for tiers that have any."""
        return {tier: list(chain[1:]) for tier, chain in self.items() if len(chain) > 1}


def model_problems(
    prefix: str,
    *,
    region: str,
    models: tuple[ModelRef, ...],
    tiers: Tiers,
    catalog: Catalog,
    today: date,
    warnings: list[str],
) -> list[str]:
    """Catalog-aware checks of ``models`` and ``tiers``; legacy models add a warning.

    Parameters
    ----------
    prefix:
        Key path of the stage (``stages.<name>``).
    region:
        The stage's region (already checked to be a known region).
    models, tiers:
        The stage's model list and tier map.
    catalog:
        The model catalog.
    today:
        The day lifecycle dates are judged against.
    warnings:
        Receives one message per legacy model (synth goes on).
    """
    problems: list[str] = []
    seen: set[str] = set()
    reported: set[str] = set()
    for i, ref in enumerate(models):
        key = f"{prefix}.models[{i}]"
        spec = catalog.get(ref.id)
        if spec is None:
            problems.append(_unknown_model(key, ref, catalog))
            reported.add(ref.id)
            continue
        if ref.id in seen:
            problems.append(f"{key}.id: {ref.id!r} is listed twice")
        seen.add(ref.id)
        state = spec.lifecycle_state(today)
        # The first model of the replacement chain that still answers today.
        replacement = catalog.successor(ref.id, today)
        instead = f"; use {replacement!r} instead" if replacement else ""
        if state == "end_of_life":
            problems.append(
                f"{key}.id: {ref.id!r} reached its end of life on "
                f"{spec.lifecycle.end_of_life}{instead}"
            )
            continue
        if state == "legacy":
            ends = spec.lifecycle.end_of_life
            warnings.append(
                f"{key}.id: {ref.id!r} is a legacy model"
                + (f" (end of life {ends})" if ends else "")
                + instead
            )
        if spec.kind == "chat" and not spec.guardrails:
            problems.append(
                f"{key}.id: {ref.id!r} does not support guardrails, and every model call of "
                "the kit carries the stage's guardrail; allowed: chat models the catalog marks "
                "guardrails: true"
            )
            continue
        options = spec.invoke_options(region)
        if not options:
            problems.append(
                f"{key}.id: {ref.id!r} is not offered in region {region!r} "
                f"(neither in-region nor through a cross-region profile); regions that offer "
                f"it: {', '.join(_offered_regions(spec)) or '(none)'}"
            )
        elif (ref.profile or "in-region") not in options:
            what = (
                "is not offered on demand in-region"
                if ref.profile is None
                else f"profile {ref.profile!r} does not serve source region"
            )
            problems.append(
                f"{key}.profile: {show(ref.profile)} for {ref.id!r}: {what} "
                f"{region!r}; allowed: {_options(options)}"
            )
    for tier, chain in tiers.items():
        problems += _chain_problems(
            f"{prefix}.tiers.{tier}", chain, enabled=seen, reported=reported, catalog=catalog
        )
    return problems


def serves(spec: ModelSpec) -> frozenset[str]:
    """What a chat model can be sent: its catalog input modalities, and ``tool_use``."""
    return frozenset(spec.input_modalities) | ({"tool_use"} if spec.tool_use else set())


def _chain_problems(
    key: str,
    chain: tuple[str, ...],
    *,
    enabled: set[str],
    reported: set[str],
    catalog: Catalog,
) -> list[str]:
    """Each entry an enabled Converse chat model, once, able to take what the first takes.

    A request is checked against the first entry only (its content must suit the tier's first
    choice), so a fallback that lacks one of the first entry's input kinds could receive a
    request it must refuse; synth refuses that chain instead.
    """
    problems: list[str] = []
    first: ModelSpec | None = None
    for i, model_id in enumerate(chain):
        at = key if len(chain) == 1 else f"{key}[{i}]"
        spec = catalog.get(model_id)
        if model_id in reported:
            continue  # already reported at its models[] entry
        if model_id in chain[:i]:
            problems.append(f"{at}: {model_id!r} is listed twice in the chain")
            continue
        if model_id not in enabled:
            problems.append(_not_enabled(at, model_id, enabled))
            continue
        if spec is None:
            continue
        if spec.kind != "chat" or not spec.converse:
            problems.append(
                f"{at}: {model_id!r} is a {spec.kind} model without Converse chat; "
                "tiers need chat models"
            )
            continue
        if first is None:
            first = spec
            continue
        missing = serves(first) - serves(spec)
        if missing:
            able = sorted(
                m
                for m in enabled
                if (s := catalog.get(m)) is not None
                and s.kind == "chat"
                and s.converse
                and not serves(first) - serves(s)
                and m != first.id
            )
            problems.append(
                f"{at}: {model_id!r} cannot take every request {first.id!r} takes (it lacks "
                f"{', '.join(sorted(missing))}); allowed: enabled chat models that take at "
                f"least what the chain's first entry takes: {', '.join(able) or '(none)'}"
            )
    return problems


def _not_enabled(key: str, model_id: str, enabled: set[str]) -> str:
    pasted = _PREFIXED_ID.match(model_id)
    if pasted and pasted.group(2) in enabled:
        return (
            f"{key}: {model_id!r} is an inference profile id; write the model id "
            f"{pasted.group(2)!r} (its models[] entry's profile decides how it is reached)"
        )
    return (
        f"{key}: {model_id!r} is not an enabled model; "
        f"allowed: {', '.join(sorted(enabled)) or '(none enabled)'}"
    )


def region_problems(prefix: str, region: str) -> list[str]:
    """The stage's region must be a region AWS has (not merely one the catalog lists)."""
    problem = known_region_problem(region)
    return [f"{prefix}.region: {problem}"] if problem else []


def _unknown_model(key: str, ref: ModelRef, catalog: Catalog) -> str:
    pasted = _PREFIXED_ID.match(ref.id)
    if pasted and catalog.get(pasted.group(2)) is not None:
        return (
            f"{key}.id: {show(ref.id)} is an inference profile id; split it into "
            f'"id": {pasted.group(2)!r} and "profile": {pasted.group(1)!r}'
        )
    return (
        f"{key}.id: {show(ref.id)} is not in the model catalog; allowed: "
        f"{', '.join(catalog.ids())} (add an entry to stacks/catalog/models.yaml for a new model)"
    )


def _offered_regions(spec: ModelSpec) -> list[str]:
    regions = set(spec.regions)
    for profile in spec.inference_profiles.values():
        regions.update(profile.sources)
    return sorted(regions)


def _options(options: list[str]) -> str:
    return ", ".join("null (in-region)" if o == "in-region" else repr(o) for o in options)
