"""Settings of the chat function: the stage facts its stack writes into ``KIT_SETTINGS``.

Only stage facts live here (ARNs, tiers, limits, the time budget); catalog facts (prices,
output caps) ship in the asset (``contracts.catalog``). The stack builds this model and the
runtime parses it, so the two can never disagree on a field.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator

from kit_runtime.contracts.common import Contract, Tier

ENV_VAR = "KIT_SETTINGS"


class ModelRoute(Contract):
    """How the stage reaches one enabled chat model."""

    invoke_arn: str = Field(min_length=1)
    """The model's application inference profile ARN (what Converse is called with)."""
    profile: str | None = None
    """The system profile prefix behind it (``us``, ``global``...), ``None`` in-region."""


class GuardrailRef(Contract):
    """The pinned guardrail version every model call carries."""

    arn: str = Field(min_length=1)
    version: str = Field(min_length=1)
    """A numbered version (at synth a token of the pinned ``AWS::Bedrock::GuardrailVersion``);
    ``DRAFT`` is refused: the working copy changes under the runtime without a deploy."""

    @field_validator("version")
    @classmethod
    def _never_draft(cls, version: str) -> str:
        if version.strip().upper() == "DRAFT":
            raise ValueError(
                "guardrail version 'DRAFT' is not allowed at run time; "
                "use the stage's pinned numbered version"
            )
        return version

    grounding: bool = False
    """The guardrail has a contextual grounding policy (``/rag`` then sends its passages and
    question as ``guardContent`` when a request chooses it)."""


class GuardrailChoices(Contract):
    """The stage's guardrails as a function's settings carry them: the default in ``guardrail``
    (named ``guardrail_name``), every other one in ``guardrails`` by config name. A request
    names one (``guardrail``) or gets the default (:mod:`kit_runtime.guardrail_select`)."""

    guardrail: GuardrailRef
    """The default guardrail, at its pinned version."""
    guardrail_name: str | None = None
    """The default's config name (``None``: a stage that names none; requests cannot choose)."""
    guardrails: dict[str, GuardrailRef] = Field(default_factory=dict)
    """The stage's other guardrails by config name (the default is not repeated: the settings
    stay within Lambda's 4 KB environment)."""


class RequestLimits(Contract):
    """Bounds on one request body, enforced by the handler whatever the Content-Type."""

    max_body_bytes: int = Field(gt=0)
    max_messages: int = Field(gt=0)
    max_content_blocks: int = Field(gt=0)
    """Content blocks per message."""
    max_text_chars: int = Field(gt=0)
    """Characters per text block (and of the system prompt)."""
    max_stop_sequences: int = Field(ge=0)
    max_stop_sequence_chars: int = Field(gt=0)
    max_images: int = Field(ge=0)
    """Images per request."""
    max_image_bytes: int = Field(gt=0)
    """Decoded bytes per image."""


class TimeBudget(Contract):
    """One request's time, derived at synth from ``api.integration_timeout_seconds``.

    The runtime answers with its own JSON error ``safety_margin_ms`` before the gateway would
    cut the connection, and never starts an attempt that cannot finish in the time left.
    """

    integration_timeout_ms: int = Field(gt=0)
    safety_margin_ms: int = Field(ge=0)
    connect_timeout_seconds: float = Field(gt=0)
    read_timeout_seconds: float = Field(gt=0)
    max_attempts: int = Field(ge=1)
    backoff_base_ms: int = Field(ge=0)
    backoff_max_ms: int = Field(ge=0)


Latency = Literal["standard", "optimized"]
"""Converse ``PerformanceConfigLatency`` (botocore bedrock-runtime 2023-09-30, 2026-12-01)."""
ServiceTier = Literal["default", "priority", "flex"]
"""Converse ``ServiceTierType`` values the kit offers (``reserved`` needs an AWS reservation)."""


class CallOptions(Contract):
    """Per-tier Converse options, checked at synth against the tier's model."""

    latency: Latency = "standard"
    service_tier: ServiceTier = "default"


class CachingSettings(Contract):
    """Prompt caching: cache points after the system prompt and tools where the model caches
    and the prefix reaches its minimum; ``ttl`` ``None`` sends Bedrock's default lifetime."""

    enabled: bool = True
    ttl: str | None = None


class ChatSettings(GuardrailChoices):
    """Everything the chat runtime knows about its stage."""

    stage: str
    models: dict[str, ModelRoute] = Field(min_length=1)
    tiers: dict[Tier, str]
    """Each tier's first choice."""
    fallbacks: dict[Tier, list[str]] = Field(default_factory=dict)
    """The models each tier falls back to, in order, after its first choice (tiers with a
    chain of one are absent: the settings stay small)."""
    allow_fallback_for_named_models: bool = False
    """A request naming a model may fall back along the first tier chain that lists it."""
    default_tier: Tier
    default_max_tokens: int = Field(gt=0)
    max_tokens_limit: int = Field(gt=0)
    log_prompts: bool = False
    limits: RequestLimits
    budget: TimeBudget
    tier_options: dict[Tier, CallOptions] = {}
    latency_optimized_models: tuple[str, ...] = ()
    """Enabled models served latency-optimized from the stage's region (catalog + region)."""
    prompt_caching: CachingSettings = CachingSettings()
