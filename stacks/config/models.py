"""Which catalog models a stage enables, how each is reached, and the tiers over them."""

from __future__ import annotations

import re
from datetime import date

from pydantic import Field

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


class Tiers(Strict):
    """Request tiers mapped to enabled chat models."""

    fast: str
    balanced: str
    deep: str

    def items(self) -> list[tuple[Tier, str]]:
        return [(tier, getattr(self, tier)) for tier in TIERS]


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
    for tier, model_id in tiers.items():
        spec = catalog.get(model_id)
        if model_id in reported:
            continue  # already reported at its models[] entry
        if model_id not in seen:
            problems.append(
                f"{prefix}.tiers.{tier}: {model_id!r} is not an enabled model; "
                f"allowed: {', '.join(sorted(seen)) or '(none enabled)'}"
            )
        elif spec is not None and (spec.kind != "chat" or not spec.converse):
            problems.append(
                f"{prefix}.tiers.{tier}: {model_id!r} is a {spec.kind} model "
                "without Converse chat; tiers need chat models"
            )
    return problems


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
