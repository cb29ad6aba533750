"""``POST /guardrail/check``: its function's settings and its request and response bodies.

The verdict names what fired (policy and type, topic, entity or regex name) and never the text
that matched: a blocked text is not echoed, and only an anonymized text comes back (masked).
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from kit_runtime.contracts.chat import GuardrailChoices, TimeBudget
from kit_runtime.contracts.chat_api import ApiModel
from kit_runtime.contracts.common import Contract

CheckPolicy = Literal[
    "content_filter", "denied_topic", "word", "profanity", "pii", "regex", "grounding"
]


class GuardrailCheckSettings(GuardrailChoices):
    """Everything the guardrail-check runtime knows about its stage (its guardrails: the
    inherited ``guardrail``, ``guardrail_name`` and ``guardrails``)."""

    stage: str
    max_body_bytes: int = Field(gt=0)
    max_text_chars: int = Field(gt=0)
    budget: TimeBudget
    log_prompts: bool = False


class GuardrailCheckRequest(ApiModel):
    """``POST /guardrail/check`` body: a text and whether it is a prompt or an answer."""

    text: str = Field(min_length=1)
    source: Literal["input", "output"] = "input"
    """``input``: judged as a user prompt (prompt attacks included); ``output``: as an answer."""
    guardrail: str | None = Field(default=None, min_length=1)
    """The stage guardrail to judge with, by config name; ``None``: the stage's default."""


class FiredPolicy(Contract):
    """One policy that acted on the text (never the matched text itself)."""

    policy: CheckPolicy
    name: str
    """Filter type (``PROMPT_ATTACK``...), topic name, PII entity type, regex name; for custom
    words ``custom`` and for the managed list ``PROFANITY`` (a word would echo the text)."""
    action: Literal["blocked", "anonymized"]


class GuardrailCheckResponse(Contract):
    """The guardrail's verdict on the text."""

    verdict: Literal["passed", "blocked", "anonymized"]
    intervened: bool
    policies: list[FiredPolicy]
    output: str | None = None
    """The text with each anonymized entity masked (``{EMAIL}``); only for ``anonymized``."""
    guardrail_version: str
    guardrail: str | None = None
    """The config name of the guardrail that judged (``None`` when the stage names none)."""
    request_id: str | None = None
