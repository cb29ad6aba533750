"""Guardrail traces in Converse's wire shape, for the local server to answer with.

Shapes from botocore's bedrock-runtime 2023-09-30 service model (checked 2026-12-01):
``ConverseTrace.guardrail`` is a ``GuardrailTraceAssessment`` whose ``inputAssessment`` maps a
guardrail id to a ``GuardrailAssessment`` and whose ``outputAssessments`` maps it to a list of
them; the policies' members (``GuardrailTopic``, ``GuardrailContentFilter``,
``GuardrailCustomWord``, ``GuardrailManagedWord``, ``GuardrailPiiEntityFilter``,
``GuardrailRegexFilter``, ``GuardrailContextualGroundingFilter``) carry the fields below. The
``match`` fields hold the very text the guardrail caught: the runtime must never echo them.

Use with :meth:`tests.fakes.bedrock_server.Reply.text`::

    server.enqueue(Reply.text("Sorry.", stop_reason="guardrail_intervened",
                              trace=input_blocked("PROMPT_ATTACK")))
"""

from __future__ import annotations

from typing import Any

GUARDRAIL_ID = "gr-fake123"


def trace(
    *,
    input_assessment: dict[str, Any] | None = None,
    output_assessments: list[dict[str, Any]] | None = None,
    action_reason: str = "Guardrail blocked.",
    model_output: list[str] | None = None,
) -> dict[str, Any]:
    """A ``ConverseTrace`` holding one guardrail's assessments."""
    guardrail: dict[str, Any] = {"actionReason": action_reason}
    if input_assessment is not None:
        guardrail["inputAssessment"] = {GUARDRAIL_ID: input_assessment}
    if output_assessments is not None:
        guardrail["outputAssessments"] = {GUARDRAIL_ID: output_assessments}
    if model_output is not None:
        guardrail["modelOutput"] = model_output
    return {"guardrail": guardrail}


def content_filter(kind: str, action: str = "BLOCKED") -> dict[str, Any]:
    """A ``GuardrailAssessment`` whose content filter ``kind`` fired (e.g. PROMPT_ATTACK)."""
    return {
        "contentPolicy": {
            "filters": [
                {
                    "type": kind,
                    "confidence": "HIGH",
                    "filterStrength": "HIGH",
                    "action": action,
                    "detected": True,
                }
            ]
        }
    }


def denied_topic(name: str, action: str = "BLOCKED") -> dict[str, Any]:
    """A ``GuardrailAssessment`` whose denied topic ``name`` fired."""
    return {
        "topicPolicy": {
            "topics": [{"name": name, "type": "DENY", "action": action, "detected": True}]
        }
    }


def words(*, custom: str | None = None, profanity: str | None = None) -> dict[str, Any]:
    """A ``GuardrailAssessment`` whose word filter caught ``custom`` and/or ``profanity``."""
    return {
        "wordPolicy": {
            "customWords": []
            if custom is None
            else [{"match": custom, "action": "BLOCKED", "detected": True}],
            "managedWordLists": []
            if profanity is None
            else [{"match": profanity, "type": "PROFANITY", "action": "BLOCKED", "detected": True}],
        }
    }


def sensitive(
    *,
    pii: tuple[str, str] | None = None,
    regex: tuple[str, str, str] | None = None,
    action: str = "ANONYMIZED",
) -> dict[str, Any]:
    """A ``GuardrailAssessment`` whose PII entity ``(type, match)`` and/or regex
    ``(name, pattern, match)`` fired with ``action``."""
    return {
        "sensitiveInformationPolicy": {
            "piiEntities": []
            if pii is None
            else [{"type": pii[0], "match": pii[1], "action": action, "detected": True}],
            "regexes": []
            if regex is None
            else [
                {
                    "name": regex[0],
                    "regex": regex[1],
                    "match": regex[2],
                    "action": action,
                    "detected": True,
                }
            ],
        }
    }


def grounding(*, score: float, threshold: float, relevance: float = 0.9) -> dict[str, Any]:
    """A ``GuardrailAssessment`` of the contextual grounding policy: GROUNDING scored ``score``
    against ``threshold`` (blocked below it), RELEVANCE scored ``relevance`` (passing)."""
    return {
        "contextualGroundingPolicy": {
            "filters": [
                {
                    "type": "GROUNDING",
                    "threshold": threshold,
                    "score": score,
                    "action": "BLOCKED" if score < threshold else "NONE",
                    "detected": score < threshold,
                },
                {
                    "type": "RELEVANCE",
                    "threshold": threshold,
                    "score": relevance,
                    "action": "BLOCKED" if relevance < threshold else "NONE",
                    "detected": relevance < threshold,
                },
            ]
        }
    }


def input_blocked(kind: str = "PROMPT_ATTACK") -> dict[str, Any]:
    """The request blocked by content filter ``kind``."""
    return trace(input_assessment=content_filter(kind))


def output_blocked_by_topic(name: str, model_output: str) -> dict[str, Any]:
    """The answer (``model_output``, which the trace repeats) blocked by denied topic ``name``."""
    return trace(
        input_assessment={},
        output_assessments=[denied_topic(name)],
        model_output=[model_output],
    )


def output_anonymized(entity: str, match: str) -> dict[str, Any]:
    """The answer's PII entity ``entity`` (the text ``match``) anonymized."""
    return trace(
        input_assessment={},
        output_assessments=[sensitive(pii=(entity, match))],
        action_reason="Guardrail masked.",
    )


def grounding_below_threshold(score: float = 0.21, threshold: float = 0.7) -> dict[str, Any]:
    """The answer blocked by the contextual grounding check (``score`` below ``threshold``)."""
    return trace(
        input_assessment={}, output_assessments=[grounding(score=score, threshold=threshold)]
    )
