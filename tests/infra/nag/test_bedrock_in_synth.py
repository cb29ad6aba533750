"""The Bedrock pack as the kit runs it: a plugin of synth, whose findings fail the synth."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from aws_cdk import App, Stack, Validations
from aws_cdk import aws_ec2 as ec2

from stacks.core.nag import acknowledge
from stacks.nag_bedrock import BedrockChecks


def _synth(tmp_path: Path, *, acknowledged: bool) -> tuple[str | None, list[str]]:
    app = App(outdir=str(tmp_path))
    stack = Stack(app, "Test")
    endpoint = ec2.CfnVPCEndpoint(
        stack, "Endpoint", vpc_id="vpc-0123456789abcdef0", service_name="com.amazonaws.us-east-1.s3"
    )
    if acknowledged:
        acknowledge(
            endpoint,
            "Bedrock-EndpointWithoutPolicy",
            "Test endpoint: stands for one whose policy is elsewhere.",
        )
    Validations.of(app).add_plugins(BedrockChecks(app))
    error = None
    try:
        app.synth()
    except Exception as exc:
        error = str(exc)
    report = json.loads((tmp_path / "validation-report.json").read_text())
    rules = [v["ruleName"] for p in report["pluginReports"] for v in p.get("violations", [])]
    return error, rules


def test_given_an_unacknowledged_bedrock_finding_then_synth_fails_and_reports_it(
    tmp_path: Path,
) -> None:
    # Given a gateway endpoint with no policy and the pack registered as the kit does
    error, rules = _synth(tmp_path, acknowledged=False)
    # Then synth fails, and the validation report names the rule
    assert error is not None and "ValidationFailed" in error
    assert rules == ["Bedrock-EndpointWithoutPolicy"]


def test_given_the_finding_acknowledged_then_synth_passes(tmp_path: Path) -> None:
    error, rules = _synth(tmp_path, acknowledged=True)
    assert error is None and rules == []


@pytest.mark.parametrize("reason", ["", "because"])
def test_given_an_acknowledgment_without_a_specific_reason_then_it_is_refused(reason: str) -> None:
    with pytest.raises(ValueError, match="specific reason"):
        acknowledge(Stack(App(), "S"), "Bedrock-OpenIngress", reason)
