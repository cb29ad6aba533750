"""The stage facts the runtime needs, from the ``KIT_SETTINGS`` variable the stack writes."""

from __future__ import annotations

import os
from functools import cache
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

Tier = Literal["fast", "balanced", "deep"]


class ModelSettings(BaseModel):
    """One enabled chat model: the ARN to invoke (its application profile) and its prices."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    invoke_arn: str = Field(min_length=1)
    input_per_mtok: float = Field(ge=0)
    output_per_mtok: float = Field(ge=0)
    max_output_tokens: int = Field(gt=0)
    streaming: bool


class Settings(BaseModel):
    """Everything the chat runtime knows about its stage."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    stage: str
    models: dict[str, ModelSettings] = Field(min_length=1)
    tiers: dict[Tier, str]
    default_tier: Tier
    default_max_tokens: int = Field(gt=0)
    max_tokens_limit: int = Field(gt=0)
    guardrail_arn: str = Field(min_length=1)
    guardrail_version: str = Field(min_length=1)
    log_prompts: bool = False
    max_attempts: int = Field(default=4, ge=1)


@cache
def load_settings() -> Settings:
    """Parse ``KIT_SETTINGS`` once per execution environment."""
    return Settings.model_validate_json(os.environ["KIT_SETTINGS"])
