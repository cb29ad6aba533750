"""Run the Bedrock rule pack over a small stack built by a test, without synthesizing it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from aws_cdk import App, Stack

from stacks.nag_bedrock import BedrockChecks

ACCOUNT = "111111111111"
REGION = "us-east-1"


def bedrock_findings(build: Callable[[Stack], Any], **options: Any) -> dict[str, list[str]]:
    """Rule id -> construct paths of the resources ``BedrockChecks(**options)`` reports in a
    stack that ``build`` fills (acknowledged findings are left out, as in the report)."""
    app = App()
    stack = Stack(app, "Test", env={"account": ACCOUNT, "region": REGION})
    build(stack)
    report = BedrockChecks(app, **options).validate_scope(app)
    # A rule that raises is reported under its id too: that must not pass for a finding.
    errors = [v.rule_name for v in report.violations if v.description.startswith("Rule threw")]
    assert not errors, f"rules raised instead of deciding: {errors}"
    return {
        v.rule_name: [str(r.construct_path) for r in v.violating_resources]
        for v in report.violations
    }


def model_arn(model: str = "anthropic.example-v1") -> str:
    return f"arn:aws:bedrock:{REGION}::foundation-model/{model}"


def guardrail_arn() -> str:
    return f"arn:aws:bedrock:{REGION}:{ACCOUNT}:guardrail/abc123"
