"""``POST /guardrail/check``: Bedrock's ApplyGuardrail on one text, as a verdict.

For applications that want the stage's guardrail to judge a text without a model call. The
verdict says whether the guardrail intervened and which policies acted, never the matched
text; a blocked text is not echoed and only an anonymized one comes back, masked.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Literal

from kit_runtime import errors
from kit_runtime.bedrock import invoke
from kit_runtime.budget import Deadline
from kit_runtime.contracts.guardrail_check import (
    CheckPolicy,
    FiredPolicy,
    GuardrailCheckRequest,
    GuardrailCheckResponse,
    GuardrailCheckSettings,
)
from kit_runtime.guardrail_select import choose_guardrail

_ACTIONS: dict[str, Literal["blocked", "anonymized"]] = {
    "BLOCKED": "blocked",
    "ANONYMIZED": "anonymized",
}


def fired_policies(response: Mapping[str, Any]) -> list[FiredPolicy]:
    """Every policy that blocked or anonymized, from an ``ApplyGuardrail`` response."""
    found: list[FiredPolicy] = []

    def add(policy: CheckPolicy, items: Any, name: Callable[[Mapping[str, Any]], str]) -> None:
        for item in items or []:
            action = _ACTIONS.get(str(item.get("action")))
            if action is not None:
                found.append(FiredPolicy(policy=policy, name=name(item), action=action))

    for assessment in response.get("assessments") or []:
        add("content_filter", (assessment.get("contentPolicy") or {}).get("filters"), _type)
        add("denied_topic", (assessment.get("topicPolicy") or {}).get("topics"), _name)
        words = assessment.get("wordPolicy") or {}
        add("word", words.get("customWords"), lambda _: "custom")
        add("profanity", words.get("managedWordLists"), _type)
        info = assessment.get("sensitiveInformationPolicy") or {}
        add("pii", info.get("piiEntities"), _type)
        add("regex", info.get("regexes"), _name)
        grounding = assessment.get("contextualGroundingPolicy") or {}
        add("grounding", grounding.get("filters"), _type)
    return found


def _type(item: Mapping[str, Any]) -> str:
    return str(item.get("type", ""))


def _name(item: Mapping[str, Any]) -> str:
    return str(item.get("name", ""))


class GuardrailCheckService:
    """Judges texts with the stage's guardrail (``client``: a ``bedrock-runtime`` client)."""

    def __init__(self, settings: GuardrailCheckSettings, client: Any) -> None:
        self.settings = settings
        self.client = client

    def check(
        self, request: GuardrailCheckRequest, *, deadline: Deadline, request_id: str | None
    ) -> GuardrailCheckResponse:
        """The verdict on ``request.text``.

        Raises
        ------
        errors.LimitExceeded
            The text is longer than the stage's ``api.limits.max_text_chars``.
        errors.KitError
            Bedrock's failure, mapped (throttled, unavailable, timeout...).
        """
        limit = self.settings.max_text_chars
        if len(request.text) > limit:
            raise errors.LimitExceeded(
                f"text has {len(request.text)} characters; this stage allows at most {limit}"
            )
        chosen = choose_guardrail(self.settings, request.guardrail, stage=self.settings.stage)
        guardrail = chosen.ref
        answer = invoke(
            self.client.apply_guardrail,
            {
                "guardrailIdentifier": guardrail.arn,
                "guardrailVersion": guardrail.version,
                "source": request.source.upper(),
                "content": [{"text": {"text": request.text}}],
            },
            deadline=deadline,
            budget=self.settings.budget,
        )
        policies = fired_policies(answer)
        intervened = answer.get("action") == "GUARDRAIL_INTERVENED"
        verdict: Literal["passed", "blocked", "anonymized"] = "passed"
        if intervened:
            blocked = any(p.action == "blocked" for p in policies) or not policies
            verdict = "blocked" if blocked else "anonymized"
        output = None
        if verdict == "anonymized":
            output = "".join(str(o.get("text", "")) for o in answer.get("outputs") or [])
        return GuardrailCheckResponse(
            verdict=verdict,
            intervened=intervened,
            policies=policies,
            output=output,
            guardrail_version=guardrail.version,
            guardrail=chosen.name,
            request_id=request_id,
        )
