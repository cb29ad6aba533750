"""The stage config and the one loader of context and environment."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from datetime import date
from typing import Annotated, Any

from pydantic import Field, ValidationError

from kit_runtime.contracts.common import Tier
from stacks.catalog import Catalog
from stacks.config.api import ApiConfig, api_problems
from stacks.config.base import ConfigError, Strict, describe, show
from stacks.config.encryption import EncryptionConfig, encryption_problems
from stacks.config.enforcement import (
    GuardrailEnforcement,
    enforcement_conflicts,
    enforcement_problems,
)
from stacks.config.guardrails import (
    DEFAULT_GUARDRAILS,
    MIGRATION,
    GuardrailConfig,
    Guardrails,
    default_guardrail,
    guardrails_problems,
)
from stacks.config.knowledge import KnowledgeBases, knowledge_problems
from stacks.config.model_access import ModelAccess, model_access_problems
from stacks.config.models import ModelRef, Tiers, model_problems, region_problems
from stacks.config.network import NetworkConfig, NoNetwork, network_problems
from stacks.config.options import PromptCachingConfig, TierOptions, options_problems
from stacks.config.project import FALLBACK_STAGE, chosen_stage
from stacks.config.runtime import MOVED_KEYS, RuntimeConfig, runtime_problems

DEFAULT_STAGE = FALLBACK_STAGE  # when neither `-c stage=` nor kit.default_stage names one
STAGE_NAME = r"^[a-z][a-z0-9-]{0,19}$"
# Bedrock's TagKey/TagValue (botocore bedrock 2023-04-20, checked 2026-11-30): ASCII only.
TagValue = Annotated[str, Field(min_length=1, max_length=256, pattern=r"^[a-zA-Z0-9\s._:/=+@-]*$")]
TagKey = Annotated[str, Field(min_length=1, max_length=128, pattern=r"^[a-zA-Z0-9\s._:/=+@-]*$")]

# Context keys the kit reads; everything else must belong to the CDK itself.
KIT_CONTEXT_KEYS = ("stages", "stage", "kit", "pipeline")
_CDK_KEY = re.compile(
    r"^(@aws-cdk/|aws:cdk:|aws-cdk:|cdk-|acknowledged-issue-numbers$|cli-telemetry$"
    r"|[a-z0-9-]+:account=)"
)


# Tag keys the kit sets itself (stacks/core/tags.py) and the prefix AWS reserves.
RESERVED_TAG_KEYS = ("stage", "team", "cost-center")


class Tags(Strict):
    """Cost-allocation tags put on every resource of the stage."""

    team: TagValue
    cost_center: TagValue
    extra: dict[TagKey, TagValue] = {}


def tag_problems(prefix: str, tags: Tags) -> list[str]:
    """``extra`` may not override the kit's own tags nor use the ``aws:`` prefix AWS keeps."""
    return [
        f"{prefix}.tags.extra.{key}: is not allowed: "
        + (
            "keys starting with 'aws:' are reserved by AWS"
            if key.lower().startswith("aws:")
            else f"the kit sets {key!r} itself (tags.team, tags.cost_center, the stage name)"
        )
        for key in tags.extra
        if key.lower().startswith("aws:") or key in RESERVED_TAG_KEYS
    ]


class StageConfig(Strict):
    """Everything one deployment stage needs."""

    name: str = Field(pattern=STAGE_NAME)
    production: bool = False
    """A production stage: the defaults of options marked "production" turn on (standby
    replicas, secret rotation, customer-managed keys)."""
    account: str | None = Field(default=None, pattern=r"^\d{12}$")
    region: str = Field(pattern=r"^[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-\d{1,2}$")
    tags: Tags
    models: tuple[ModelRef, ...] = Field(min_length=1)
    tiers: Tiers
    default_tier: Tier = "balanced"
    tier_options: dict[Tier, TierOptions] = {}
    """Per-tier Converse options (latency, service tier), apart from ``tiers``."""
    prompt_caching: PromptCachingConfig = PromptCachingConfig()
    model_access: ModelAccess = ModelAccess()
    guardrails: Guardrails = DEFAULT_GUARDRAILS
    """Named guardrails (stacks/config/guardrails.py); one is the default every call carries."""

    @property
    def guardrail(self) -> GuardrailConfig:
        """The default guardrail (``default: true``, or the only one)."""
        return default_guardrail(self.guardrails)

    guardrail_enforcement: GuardrailEnforcement | None = None
    """Account-level enforcement of one of ``guardrails`` (stacks/config/enforcement.py):
    account-and-Region wide, on at most one stage per account and Region."""
    knowledge_bases: KnowledgeBases = ()
    api: ApiConfig = ApiConfig()
    runtime: RuntimeConfig = RuntimeConfig()
    encryption: EncryptionConfig = EncryptionConfig()
    network: NetworkConfig = NoNetwork()
    """``mode: none`` (default), ``create`` or ``existing``; any other mode makes the stage
    private (stacks/config/network.py)."""


def check_context_keys(context: Mapping[str, Any]) -> None:
    """Fail on top-level context keys that are neither the kit's nor the CDK's own."""
    unknown = sorted(k for k in context if k not in KIT_CONTEXT_KEYS and not _CDK_KEY.match(k))
    if unknown:
        raise ConfigError(
            [
                f"context.{key}: unknown top-level context key; allowed: "
                f"{', '.join(KIT_CONTEXT_KEYS)} and CDK feature flags (@aws-cdk/...)"
                for key in unknown
            ]
        )


def load_stage_config(
    context: Mapping[str, Any],
    env: Mapping[str, str],
    catalog: Catalog,
    *,
    today: date | None = None,
    warnings: list[str] | None = None,
) -> StageConfig:
    """Validate the chosen stage of ``context`` and resolve its account.

    Parameters
    ----------
    context:
        The CDK context: ``stages`` (name -> stage config), ``stage`` (the chosen name; empty
        or absent: ``kit.default_stage``), ``kit`` (stacks.config.project) and CDK feature
        flags; any other top-level key is an error.
    env:
        Environment variables; only ``CDK_DEFAULT_ACCOUNT`` is read (the region is never
        taken from the environment: the CLI would silently default it to us-east-1).
    catalog:
        The model catalog.
    today:
        The day model lifecycle dates are judged against (default: today).
    warnings:
        Receives non-fatal findings (legacy models).
    """
    check_context_keys(context)
    stages = context.get("stages")
    if not isinstance(stages, Mapping) or not stages:
        raise ConfigError(
            ["stages: missing from cdk.json context; expected an object of stage name -> config"]
        )
    name = chosen_stage(context)
    if name not in stages:
        how = "" if context.get("stage") else " (no STAGE given: set kit.default_stage)"
        raise ConfigError(
            [f"stage: {show(name)} is not defined{how}; allowed: {', '.join(sorted(stages))}"]
        )
    raw = stages[name]
    prefix = f"stages.{name}"
    if not isinstance(raw, Mapping):
        raise ConfigError([f"{prefix}: expected an object, got {type(raw).__name__}"])
    data = dict(raw)
    if data.get("name", name) != name:
        raise ConfigError([f"{prefix}.name: {show(data['name'])} must equal the stage key"])
    data["name"] = name
    data.setdefault("account", env.get("CDK_DEFAULT_ACCOUNT") or None)
    moved = _moved_keys(prefix, data)
    try:
        # JSON mode: arrays fill tuples while strict types still refuse `true` for a number.
        stage = StageConfig.model_validate_json(json.dumps(data))
    except ValidationError as exc:
        problems = [_explain(describe(prefix, StageConfig, e), prefix) for e in exc.errors()]
        raise ConfigError(moved + [p for p in problems if not _is_moved(p, moved)]) from None
    problems = semantic_problems(
        prefix, stage, catalog, today=today or date.today(), warnings=warnings
    )
    problems += enforcement_conflicts(name, stages)
    if problems:
        raise ConfigError(problems)
    return stage


def semantic_problems(
    prefix: str,
    stage: StageConfig,
    catalog: Catalog,
    *,
    today: date,
    warnings: list[str] | None = None,
) -> list[str]:
    """Checks across keys and against the catalog, each module checking its own block."""
    problems = region_problems(prefix, stage.region)
    if problems:
        return problems
    problems += model_problems(
        prefix,
        region=stage.region,
        models=stage.models,
        tiers=stage.tiers,
        catalog=catalog,
        today=today,
        warnings=warnings if warnings is not None else [],
    )
    problems += options_problems(
        prefix,
        region=stage.region,
        tiers=dict(stage.tiers.items()),
        tier_options=stage.tier_options,
        caching=stage.prompt_caching,
        enabled_ids=[ref.id for ref in stage.models],
        catalog=catalog,
        profiles={ref.id: ref.profile for ref in stage.models},
    )
    problems += api_problems(prefix, stage.api)
    problems += runtime_problems(prefix, stage.runtime, stage.api.integration_timeout_seconds)
    problems += guardrails_problems(prefix, stage.guardrails, region=stage.region)
    problems += enforcement_problems(
        prefix, stage.guardrail_enforcement, [g.name for g in stage.guardrails]
    )
    problems += knowledge_problems(
        prefix, stage.knowledge_bases, models=stage.models, catalog=catalog
    )
    problems += tag_problems(prefix, stage.tags)
    problems += network_problems(
        prefix, stage.network, production=stage.production, region=stage.region
    )
    problems += encryption_problems(prefix, stage.encryption, production=stage.production)
    specs = [spec for ref in stage.models if (spec := catalog.get(ref.id)) is not None]
    problems += model_access_problems(prefix, stage.model_access, specs)
    return problems


def _explain(problem: str, prefix: str) -> str:
    if problem == f"{prefix}.region: required key is missing":
        return (
            f'{problem}; set the stage\'s region, e.g. "region": "us-east-1" (it is never '
            "guessed from the environment)"
        )
    return problem


def _moved_keys(prefix: str, data: Mapping[str, Any]) -> list[str]:
    found = [f"{prefix}.guardrail: {MIGRATION}"] if "guardrail" in data else []
    for path, advice in MOVED_KEYS.items():
        block, _, key = path.partition(".")
        if isinstance(data.get(block), Mapping) and key in data[block]:
            found.append(f"{prefix}.{path}: {advice}")
    return found


def _is_moved(problem: str, moved: list[str]) -> bool:
    return any(problem.split(":", 1)[0] == m.split(":", 1)[0] for m in moved)


__all__ = [
    "DEFAULT_STAGE",
    "StageConfig",
    "Tags",
    "check_context_keys",
    "load_stage_config",
]
