"""What an answer says about the guardrail: whether it intervened, where, and which policies.

Built from Converse's ``trace.guardrail`` (``GuardrailTraceAssessment``: ``inputAssessment``, a
map of guardrail id to ``GuardrailAssessment``, and ``outputAssessments``, a map of guardrail id
to a list of them; botocore bedrock-runtime 2023-09-30 service model, checked 2026-12-01) by
:mod:`kit_runtime.guardrail_verdict`. It never carries what was blocked: no ``match`` of a word,
regex or PII entity, no model output, no filtered text; only names from the guardrail's own
policy (filter types, topic names, entity types, regex names).
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

Direction = Literal["input", "output"]
Policy = Literal["content", "topic", "word", "sensitive_information", "contextual_grounding"]
Action = Literal["BLOCKED", "ANONYMIZED", "NONE"]
"""The assessment's action (``GuardrailContentPolicyAction`` and friends: BLOCKED or NONE;
``GuardrailSensitiveInformationPolicyAction`` adds ANONYMIZED). ``NONE`` is reported only for a
finding the guardrail ``detected`` without acting on it (a detect-only policy)."""


class PolicyFinding(BaseModel):
    """One policy of the guardrail that fired."""

    where: Direction
    """``input``: the request (the model was not called when it blocked); ``output``: the
    model's answer."""
    policy: Policy
    type: str
    """Which part of the policy: a content filter type (``PROMPT_ATTACK``, ``VIOLENCE``...), a
    denied topic's name, ``PROFANITY`` or ``CUSTOM_WORD``, a PII entity type (``EMAIL``...) or
    a regex's name, ``GROUNDING`` or ``RELEVANCE``."""
    action: Action
    score: float | None = None
    """Contextual grounding only: the answer's score (0 to 1)."""
    threshold: float | None = None
    """Contextual grounding only: the guardrail's threshold the score fell below."""


class GuardrailVerdict(BaseModel):
    """``guardrail`` in the chat, streaming and RAG answers."""

    intervened: bool = False
    """The guardrail blocked or changed (anonymized) the request or the answer."""
    where: Direction | None = None
    """Where it intervened (``input`` first when both); ``None`` when it did not."""
    policies: list[PolicyFinding] = Field(default_factory=list)
    """Each policy that fired, once per direction, policy, type and action."""
    name: str | None = None
    """The config name of the stage guardrail the call went through (``None`` when the stage
    names none)."""
