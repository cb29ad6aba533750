"""The answer's ``guardrail`` field from Converse's guardrail trace, without blocked content.

The trace (``trace.guardrail`` of a Converse answer, of ConverseStream's ``metadata`` event) is
a ``GuardrailTraceAssessment`` (botocore bedrock-runtime 2023-09-30 service model, checked
2026-12-01): ``inputAssessment`` maps a guardrail id to one ``GuardrailAssessment``,
``outputAssessments`` maps it to a list (one per assessed chunk of a stream). Each assessment
holds ``topicPolicy.topics``, ``contentPolicy.filters``, ``wordPolicy.customWords`` /
``managedWordLists``, ``sensitiveInformationPolicy.piiEntities`` / ``regexes`` and
``contextualGroundingPolicy.filters``. Only the names of the policy's own parts are read: the
``match`` fields (the blocked word, PII value or regex match) and ``modelOutput`` never are.
The same ``GuardrailAssessment`` shape comes back from ApplyGuardrail's ``assessments``, so
:func:`findings` serves a verdict without a model call too.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from kit_runtime.contracts.guardrail_verdict import (
    Direction,
    GuardrailVerdict,
    PolicyFinding,
)

INTERVENED_STOP_REASON = "guardrail_intervened"
"""Converse ``StopReason`` when the guardrail blocked (botocore service model, 2026-12-01)."""
_ACTING = ("BLOCKED", "ANONYMIZED")
_ACTIONS = (*_ACTING, "NONE")


def verdict(trace: Mapping[str, Any] | None, stop_reason: str) -> GuardrailVerdict:
    """The verdict of one answer from its ``trace`` (Converse ``ConverseTrace``) and stop reason.

    ``intervened`` when Bedrock stopped for the guardrail or a policy blocked or anonymized;
    ``where`` is the first direction with a blocking or anonymizing finding (input first).
    """
    assessment = (trace or {}).get("guardrail") or {}
    found = [
        *findings(_values(assessment.get("inputAssessment")), "input"),
        *findings(_flat(assessment.get("outputAssessments")), "output"),
    ]
    acting = [f for f in found if f.action in _ACTING]
    intervened = stop_reason == INTERVENED_STOP_REASON or bool(acting)
    where = acting[0].where if acting else None
    return GuardrailVerdict(intervened=intervened, where=where, policies=found)


def findings(assessments: Iterable[Mapping[str, Any]], where: Direction) -> list[PolicyFinding]:
    """Each policy that fired in ``assessments`` (``GuardrailAssessment`` objects), once per
    policy, type and action: a blocking or anonymizing one, or one detected without action."""
    out: list[PolicyFinding] = []
    seen: set[tuple[str, str, str]] = set()
    for assessment in assessments:
        for finding in _assessment_findings(assessment, where):
            key = (finding.policy, finding.type, finding.action)
            if key not in seen:
                seen.add(key)
                out.append(finding)
    return out


def _assessment_findings(assessment: Mapping[str, Any], where: Direction) -> list[PolicyFinding]:
    found: list[PolicyFinding] = []

    def add(policy: str, kind: Any, item: Mapping[str, Any], **scores: Any) -> None:
        action = item.get("action")
        if action not in _ACTIONS or not isinstance(kind, str) or not kind:
            return
        if action == "NONE" and item.get("detected") is not True:
            return
        found.append(
            PolicyFinding(where=where, policy=policy, type=kind, action=action, **scores)  # type: ignore[arg-type]
        )

    for topic in _items(assessment.get("topicPolicy"), "topics"):
        add("topic", topic.get("name"), topic)
    for content in _items(assessment.get("contentPolicy"), "filters"):
        add("content", content.get("type"), content)
    words = assessment.get("wordPolicy")
    for _custom in _items(words, "customWords"):
        add("word", "CUSTOM_WORD", _custom)
    for managed in _items(words, "managedWordLists"):
        add("word", managed.get("type"), managed)
    sensitive = assessment.get("sensitiveInformationPolicy")
    for entity in _items(sensitive, "piiEntities"):
        add("sensitive_information", entity.get("type"), entity)
    for regex in _items(sensitive, "regexes"):
        add("sensitive_information", regex.get("name") or "REGEX", regex)
    for grounding in _items(assessment.get("contextualGroundingPolicy"), "filters"):
        add(
            "contextual_grounding",
            grounding.get("type"),
            grounding,
            score=_number(grounding.get("score")),
            threshold=_number(grounding.get("threshold")),
        )
    return found


def _items(policy: Any, key: str) -> list[Mapping[str, Any]]:
    if not isinstance(policy, Mapping):
        return []
    return [item for item in policy.get(key) or [] if isinstance(item, Mapping)]


def _values(by_guardrail: Any) -> list[Mapping[str, Any]]:
    if not isinstance(by_guardrail, Mapping):
        return []
    return [a for a in by_guardrail.values() if isinstance(a, Mapping)]


def _flat(by_guardrail: Any) -> list[Mapping[str, Any]]:
    if not isinstance(by_guardrail, Mapping):
        return []
    return [
        a
        for listed in by_guardrail.values()
        if isinstance(listed, list)
        for a in listed
        if isinstance(a, Mapping)
    ]


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None
