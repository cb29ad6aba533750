"""A stage with two named guardrails, as the settings carry them, for selection tests."""

from __future__ import annotations

from typing import Any

from tests.support.chat_api import GUARDRAIL_ARN

DEFAULT = "strict"
OTHER = "lenient"
OTHER_ARN = "arn:aws:bedrock:us-east-1:123456789012:guardrail/lenient42"
OTHER_VERSION = "7"


def two_guardrails(default_version: str = "3", *, other_grounding: bool = False) -> dict[str, Any]:
    """Settings fields (``GuardrailChoices``): ``strict`` the default at ``GUARDRAIL_ARN``,
    ``lenient`` the other (with a contextual grounding policy when ``other_grounding``)."""
    return {
        "guardrail": {"arn": GUARDRAIL_ARN, "version": default_version},
        "guardrail_name": DEFAULT,
        "guardrails": {
            OTHER: {"arn": OTHER_ARN, "version": OTHER_VERSION, "grounding": other_grounding}
        },
    }


def sent_guardrails(server: Any, operation: str) -> list[tuple[str, str]]:
    """``(identifier, version)`` of each ``operation`` call's guardrail the server received."""
    found = []
    for request in server.requests:
        if request.operation != operation:
            continue
        if operation == "ApplyGuardrail":
            identifier, version = request.model_id.rsplit(":", 1)
            found.append((identifier, version))
        else:
            config = request.body.get("guardrailConfig") or {}
            found.append((config.get("guardrailIdentifier"), config.get("guardrailVersion")))
    return found
