"""The stage plan: the validated config joined with the catalog, resolved once.

Constructs take the plan (or a part of it) instead of passing config and catalog around.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from kit_runtime.contracts.chat import RequestLimits, TimeBudget
from stacks.catalog import Catalog, ModelSpec, load_catalog
from stacks.config.knowledge import KnowledgeBaseConfig
from stacks.config.models import ModelRef
from stacks.config.project import KitConfig, load_kit_config, metrics_namespace
from stacks.config.stage import StageConfig, load_stage_config


@dataclass(frozen=True)
class ModelPlan:
    """One enabled model with its catalog entry."""

    ref: ModelRef
    spec: ModelSpec

    @property
    def id(self) -> str:
        return self.ref.id

    @property
    def profile(self) -> str | None:
        return self.ref.profile

    @property
    def is_chat(self) -> bool:
        """Served through Converse (gets an application profile and invoke permissions)."""
        return self.spec.kind == "chat" and self.spec.converse


@dataclass(frozen=True)
class StagePlan:
    """Everything a stage's constructs need, decided at synth."""

    config: StageConfig
    catalog: Catalog
    warnings: tuple[str, ...] = field(default=())
    kit: KitConfig = field(default_factory=KitConfig)

    @property
    def name(self) -> str:
        return self.config.name

    @property
    def kit_name(self) -> str:
        """The fork's name (``kit.name``): prefixes every stack and resource name."""
        return self.kit.name

    @property
    def metrics_namespace(self) -> str:
        return metrics_namespace(self.kit.name)

    @property
    def region(self) -> str:
        return self.config.region

    @property
    def account(self) -> str | None:
        return self.config.account

    @property
    def models(self) -> tuple[ModelPlan, ...]:
        return tuple(ModelPlan(ref, self.catalog.models[ref.id]) for ref in self.config.models)

    @property
    def chat_models(self) -> tuple[ModelPlan, ...]:
        return tuple(m for m in self.models if m.is_chat)

    @property
    def knowledge_bases(self) -> tuple[KnowledgeBaseConfig, ...]:
        return self.config.knowledge_bases

    @property
    def production(self) -> bool:
        """Production defaults apply (``production`` in the stage config)."""
        return self.config.production

    @property
    def customer_managed_keys(self) -> bool:
        """Each stack encrypts with its own customer-managed key (``encryption``)."""
        return self.config.encryption.customer_managed(self.config.production)

    @property
    def private(self) -> bool:
        """The stage runs in a VPC (``network.mode`` is not ``none``)."""
        return self.config.network.mode != "none"

    @property
    def function_timeout_seconds(self) -> int:
        """The API function outlives the gateway by a second, never more."""
        return self.config.api.integration_timeout_seconds + 1

    def time_budget(self) -> TimeBudget:
        """The runtime's time budget, every figure derived from the integration timeout."""
        api, rt = self.config.api, self.config.runtime
        integration_ms = api.integration_timeout_seconds * 1000
        read_s = (integration_ms - rt.deadline_margin_ms) / 1000 - rt.connect_timeout_seconds
        return TimeBudget(
            integration_timeout_ms=integration_ms,
            safety_margin_ms=rt.deadline_margin_ms,
            connect_timeout_seconds=rt.connect_timeout_seconds,
            read_timeout_seconds=math.floor(read_s * 10) / 10,
            max_attempts=rt.max_attempts,
            backoff_base_ms=rt.retry_base_delay_ms,
            backoff_max_ms=rt.retry_max_delay_ms,
        )

    def request_limits(self) -> RequestLimits:
        return RequestLimits(**self.config.api.limits.model_dump())


def load_plan(
    context: Mapping[str, Any],
    env: Mapping[str, str],
    catalog: Catalog | None = None,
    *,
    today: date | None = None,
) -> StagePlan:
    """Validate the chosen stage and join it with the catalog (raises ``ConfigError``)."""
    catalog = catalog or load_catalog()
    warnings: list[str] = []
    config = load_stage_config(context, env, catalog, today=today, warnings=warnings)
    kit = load_kit_config(context)
    return StagePlan(config=config, catalog=catalog, warnings=tuple(warnings), kit=kit)
