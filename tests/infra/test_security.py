"""Security gates over every shipped stage: cdk-nag, cfn-lint, Bedrock IAM scoping."""

from __future__ import annotations

from tests.conftest import Synthesized
from tests.infra.helpers import as_list, render, statements


def test_cdk_nag_reports_no_unacknowledged_finding(stage: Synthesized) -> None:
    # Given the AwsSolutions and Serverless packs attached in app_builder
    # Then synth passed validation and left no violation (errors or warnings) unacknowledged
    assert stage.synth_error is None, stage.synth_error
    assert stage.nag_findings == []


def test_cfn_lint_finds_no_error(stage: Synthesized) -> None:
    # W3005 (redundant DependsOn) is what CDK emits on every template; everything else counts.
    from cfnlint.api import ManualArgs, lint_file

    args = ManualArgs(ignore_checks=["W3005"], regions=[stage.config.region])
    findings = {
        stack: [str(m) for m in lint_file(path, config=args)]
        for stack, path in stage.template_files.items()
    }
    assert findings and all(v == [] for v in findings.values()), findings


# Account-level control-plane actions the Service Authorization Reference lists with no
# resource type: IAM matches them only with Resource "*". The model access check needs them;
# each must sit in its own statement pinned to the stage's region (docs/decisions.md).
ACCOUNT_LEVEL_ACTIONS = {
    "bedrock:getfoundationmodelavailability",
    "bedrock:putusecaseformodelaccess",
    "bedrock:listfoundationmodelagreementoffers",
    "bedrock:createfoundationmodelagreement",
}


def test_no_bedrock_wildcards_anywhere(stage: Synthesized) -> None:
    # Given every IAM statement of every template in the stage
    checked = 0
    for stack, template in stage.templates.items():
        for lid, st in statements(template):
            actions = [a.lower() for a in as_list(st.get("Action", []))]
            resources = [render(r) for r in as_list(st.get("Resource", []))]
            # Then no statement grants bedrock:* or *
            assert "bedrock:*" not in actions and "*" not in actions, (stack, lid, st)
            assert not any(a.startswith("bedrock:") and "*" in a for a in actions), st
            bedrock = [a for a in actions if a.startswith("bedrock:")]
            if not bedrock:
                continue
            checked += 1
            if "*" in resources:
                # And "*" appears only for account-level actions, alone, pinned to the region
                assert set(bedrock) <= ACCOUNT_LEVEL_ACTIONS and len(actions) == 1, (lid, st)
                region = st["Condition"]["StringEquals"]["aws:RequestedRegion"]
                assert region == stage.config.region, (lid, st)
            # And every other resource is a specific ARN (no wildcard region or account)
            for arn in resources:
                assert arn == "*" or not arn.startswith("arn:aws:bedrock:*"), (lid, arn)
    assert checked > 0, "expected Bedrock statements to check"


def test_invoking_principals_hold_no_wildcard_bedrock_resource(stage: Synthesized) -> None:
    for lid, st in statements(stage.templates["Api"]):
        if any(a.lower().startswith("bedrock:") for a in as_list(st.get("Action", []))):
            assert "*" not in [render(r) for r in as_list(st["Resource"])], (lid, st)


def test_every_invoke_statement_requires_the_stage_guardrail(stage: Synthesized) -> None:
    invoke = {"bedrock:invokemodel", "bedrock:invokemodelwithresponsestream"}
    found = 0
    for _, template in stage.templates.items():
        for lid, st in statements(template):
            actions = {a.lower() for a in as_list(st.get("Action", []))}
            if actions & invoke and st.get("Effect") == "Allow":
                found += 1
                condition = st.get("Condition", {}).get("StringEquals", {})
                value = render(condition.get("bedrock:GuardrailIdentifier", ""))
                assert "Guardrail" in value and value.count(":") >= 1, (lid, st)
    assert found >= 1
