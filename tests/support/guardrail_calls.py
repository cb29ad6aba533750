"""What the local Bedrock server saw of the guardrail on each model call."""

from __future__ import annotations

from typing import Any

from kit_runtime.contracts.chat import GuardrailRef
from tests.fakes import FakeBedrock

MODEL_CALLS = ("Converse", "ConverseStream")


def model_calls(server: FakeBedrock) -> list[Any]:
    """Every Converse and ConverseStream request the server received, in order."""
    return [r for r in server.requests if r.operation in MODEL_CALLS]


def unguarded(server: FakeBedrock, guardrail: GuardrailRef) -> list[tuple[str, Any]]:
    """Each model call whose ``guardrailConfig`` is not the stage's pinned version with its trace
    on, as ``(operation, what it sent)``; empty when every call carried it."""
    wanted = {
        "guardrailIdentifier": guardrail.arn,
        "guardrailVersion": guardrail.version,
        "trace": "enabled",
    }
    found = []
    for request in model_calls(server):
        sent = request.body.get("guardrailConfig")
        if (
            not isinstance(sent, dict)
            or {k: sent.get(k) for k in wanted} != wanted
            or str(sent.get("guardrailVersion")).upper() == "DRAFT"
        ):
            found.append((request.operation, sent))
    return found
