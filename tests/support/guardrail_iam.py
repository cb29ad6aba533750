"""The IAM walk's guardrail check: which pinned guardrail versions a stage has, and whether an
invoke statement allows exactly those (derived from the templates, never from literals)."""

from __future__ import annotations

from typing import Any

from tests.support.synth import Synthesized
from tests.support.templates import as_list, render

GUARDRAIL_KEY = "bedrock:GuardrailIdentifier"


def resolve_outputs(value: Any, stage: Synthesized) -> Any:
    """``value`` with each ``Fn::GetStackOutput`` replaced by the producing stack's output
    value, so a consumer's reference renders as the producer's own ``Fn::GetAtt``."""
    by_stack_name = {name: sid for sid, name in stage.stack_names.items()}
    if isinstance(value, list):
        return [resolve_outputs(v, stage) for v in value]
    if isinstance(value, dict):
        ref = value.get("Fn::GetStackOutput")
        if ref is not None and ref.get("StackName") in by_stack_name:
            producer = stage.templates[by_stack_name[ref["StackName"]]]
            return resolve_outputs(producer["Outputs"][ref["OutputName"]]["Value"], stage)
        return {k: resolve_outputs(v, stage) for k, v in value.items()}
    return value


def pinned_version_arns(stage: Synthesized) -> set[str]:
    """Every ``<guardrail arn>:<version>`` the stage pins, rendered, from its Guardrails stack:
    one per ``AWS::Bedrock::GuardrailVersion``."""
    template = stage.templates["Guardrails"]
    found = set()
    for lid, res in template["Resources"].items():
        if res["Type"] != "AWS::Bedrock::GuardrailVersion":
            continue
        guardrail = res["Properties"]["GuardrailIdentifier"]["Fn::GetAtt"][0]
        found.add(f"${{{guardrail}.GuardrailArn}}:${{{lid}.Version}}")
    return found


def guardrail_condition_problem(
    statement: dict[str, Any], pinned: set[str], stage: Synthesized
) -> str | None:
    """Why ``statement`` (an invoke Allow) does not require one of exactly ``pinned``, or
    ``None`` when it does: the key only under ``StringEquals``, every value pinned, every
    pinned version allowed."""
    conditions = statement.get("Condition", {})
    operators = [op for op, keys in conditions.items() if GUARDRAIL_KEY in keys]
    if operators != ["StringEquals"]:
        return f"{GUARDRAIL_KEY} must be under StringEquals only, found {operators}"
    values = {
        render(resolve_outputs(v, stage))
        for v in as_list(conditions["StringEquals"][GUARDRAIL_KEY])
    }
    if values - pinned:
        return f"names what the stage does not pin: {sorted(values - pinned)}"
    if values != pinned:
        return f"misses pinned versions: {sorted(pinned - values)}"
    return None
