"""Scripted guardrail verdicts for the fake Bedrock Runtime's ``ApplyGuardrail``.

A test says what the guardrail finds in which text; the fake answers in the wire shapes of
botocore's ``bedrock-runtime`` service model (2023-09-30, ``ApplyGuardrailResponse``)::

    server.script_guardrail(
        GuardrailRule("ignore all previous", Finding.content("PROMPT_ATTACK")),
        GuardrailRule(r"\\b\\d{4}-\\d{4}-\\d{4}\\b", Finding.regex("my_number"), regex=True),
        GuardrailRule("taro@example.com", Finding.pii("EMAIL", anonymize=True)),
    )

A text no rule matches passes (``action: NONE``, no outputs). A block answers the guardrail's
blocked message (input or output, by ``source``); anonymizations alone answer the text with each
match replaced by ``{ENTITY}`` (or ``{regex name}``), as Bedrock masks them.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any, Literal

__all__ = [
    "BLOCKED_INPUT",
    "BLOCKED_OUTPUT",
    "Finding",
    "GuardrailRule",
    "evaluate",
    "request_problem",
]

Policy = Literal["content", "topic", "word", "profanity", "pii", "regex", "grounding"]

BLOCKED_INPUT = "Sorry, this request was blocked by the content policy."
BLOCKED_OUTPUT = "Sorry, the answer was blocked by the content policy."
# Text units: 1,000 characters each (Bedrock pricing's unit; usage counts them per policy).
_UNIT = 1000


@dataclass(frozen=True)
class Finding:
    """What one policy finds: ``name`` is the filter type, topic, word, entity type or regex."""

    policy: Policy
    name: str
    action: Literal["BLOCKED", "ANONYMIZED"] = "BLOCKED"

    @classmethod
    def content(cls, filter_type: str) -> Finding:
        """A content filter (HATE, INSULTS, SEXUAL, VIOLENCE, MISCONDUCT, PROMPT_ATTACK)."""
        return cls("content", filter_type)

    @classmethod
    def topic(cls, name: str) -> Finding:
        """A denied topic, by its name."""
        return cls("topic", name)

    @classmethod
    def word(cls, word: str) -> Finding:
        """A custom word of the word filter."""
        return cls("word", word)

    @classmethod
    def profanity(cls) -> Finding:
        """The managed profanity list."""
        return cls("profanity", "PROFANITY")

    @classmethod
    def pii(cls, entity_type: str, *, anonymize: bool = False) -> Finding:
        """A PII entity type, blocked or (``anonymize``) masked."""
        return cls("pii", entity_type, "ANONYMIZED" if anonymize else "BLOCKED")

    @classmethod
    def regex(cls, name: str, *, anonymize: bool = False) -> Finding:
        """A custom regex of the sensitive-information policy, by its name."""
        return cls("regex", name, "ANONYMIZED" if anonymize else "BLOCKED")

    @classmethod
    def grounding(cls, filter_type: str = "GROUNDING") -> Finding:
        """A contextual grounding filter (GROUNDING or RELEVANCE) below its threshold."""
        return cls("grounding", filter_type)


@dataclass(frozen=True)
class GuardrailRule:
    """``finding`` for every text in which ``pattern`` occurs (a case-insensitive substring,
    or with ``regex`` a Python regular expression searched for)."""

    pattern: str
    finding: Finding
    regex: bool = False

    def matches(self, text: str) -> list[str]:
        """The matched pieces of ``text`` (empty: the rule does not apply)."""
        if self.regex:
            return [m.group(0) for m in re.finditer(self.pattern, text)]
        found: list[str] = []
        lowered, needle = text.casefold(), self.pattern.casefold()
        start = lowered.find(needle)
        while needle and start >= 0:
            found.append(text[start : start + len(needle)])
            start = lowered.find(needle, start + len(needle))
        return found


def _entry(finding: Finding, match: str, pattern: str) -> dict[str, Any]:
    policy, action = finding.policy, finding.action
    if policy == "content":
        return {
            "type": finding.name,
            "confidence": "HIGH",
            "filterStrength": "HIGH",
            "action": action,
            "detected": True,
        }
    if policy == "topic":
        return {"name": finding.name, "type": "DENY", "action": action, "detected": True}
    if policy == "word":
        return {"match": match, "action": action, "detected": True}
    if policy == "profanity":
        return {"match": match, "type": "PROFANITY", "action": action, "detected": True}
    if policy == "pii":
        return {"match": match, "type": finding.name, "action": action, "detected": True}
    if policy == "regex":
        return {
            "name": finding.name,
            "match": match,
            "regex": pattern,
            "action": action,
            "detected": True,
        }
    return {
        "type": finding.name,
        "threshold": 0.75,
        "score": 0.1,
        "action": action,
        "detected": True,
    }


def _assessment(hits: list[tuple[Finding, str, str]]) -> dict[str, Any]:
    """One ``GuardrailAssessment``: each policy that found something, in its wire shape."""
    assessment: dict[str, Any] = {}
    for finding, match, pattern in hits:
        entry = _entry(finding, match, pattern)
        if finding.policy == "content":
            assessment.setdefault("contentPolicy", {"filters": []})["filters"].append(entry)
        elif finding.policy == "topic":
            assessment.setdefault("topicPolicy", {"topics": []})["topics"].append(entry)
        elif finding.policy in ("word", "profanity"):
            words = assessment.setdefault("wordPolicy", {"customWords": [], "managedWordLists": []})
            key = "customWords" if finding.policy == "word" else "managedWordLists"
            words[key].append(entry)
        elif finding.policy in ("pii", "regex"):
            info = assessment.setdefault(
                "sensitiveInformationPolicy", {"piiEntities": [], "regexes": []}
            )
            info["piiEntities" if finding.policy == "pii" else "regexes"].append(entry)
        else:
            assessment.setdefault("contextualGroundingPolicy", {"filters": []})["filters"].append(
                entry
            )
    return assessment


def evaluate(rules: list[GuardrailRule], body: dict[str, Any]) -> dict[str, Any]:
    """The ``ApplyGuardrailResponse`` for a (validated) request ``body`` under ``rules``."""
    texts = [
        block["text"]["text"]
        for block in body["content"]
        if isinstance(block.get("text"), dict) and isinstance(block["text"].get("text"), str)
    ]
    hits: list[tuple[Finding, str, str]] = []
    masked: list[str] = []
    for text in texts:
        out = text
        for rule in rules:
            for match in rule.matches(text):
                hits.append((rule.finding, match, rule.pattern))
                if rule.finding.action == "ANONYMIZED":
                    out = out.replace(match, "{" + rule.finding.name + "}")
        masked.append(out)
    blocked = any(f.action == "BLOCKED" for f, _, _ in hits)
    characters = sum(len(t) for t in texts)
    units = math.ceil(characters / _UNIT) if characters else 0
    response: dict[str, Any] = {
        "usage": {
            "topicPolicyUnits": units,
            "contentPolicyUnits": units,
            "wordPolicyUnits": units,
            "sensitiveInformationPolicyUnits": units,
            "sensitiveInformationPolicyFreeUnits": 0,
            "contextualGroundingPolicyUnits": 0,
        },
        "action": "GUARDRAIL_INTERVENED" if hits else "NONE",
        "outputs": [],
        "assessments": [_assessment(hits)] if hits else [{}],
        "guardrailCoverage": {"textCharacters": {"guarded": characters, "total": characters}},
    }
    if blocked:
        message = BLOCKED_INPUT if body.get("source") == "INPUT" else BLOCKED_OUTPUT
        response["outputs"] = [{"text": message}]
        response["actionReason"] = "Guardrail blocked."
    elif hits:
        response["outputs"] = [{"text": text} for text in masked]
        response["actionReason"] = "Guardrail masked."
    return response


def request_problem(body: Any) -> str | None:
    """Bedrock's ValidationException text for a malformed ApplyGuardrail body (or None)."""
    if not isinstance(body, dict):
        return "The request body must be a JSON object."
    if body.get("source") not in ("INPUT", "OUTPUT"):
        return "source: must be one of INPUT, OUTPUT."
    content = body.get("content")
    if not isinstance(content, list) or not content:
        return "content: must contain at least one block."
    scope = body.get("outputScope")
    if scope is not None and scope not in ("INTERVENTIONS", "FULL"):
        return "outputScope: must be one of INTERVENTIONS, FULL."
    return None
