"""Gates over every stage, test-owned and shipped: cdk-nag, cfn-lint and the Bedrock IAM walk."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tests.support.guardrail_iam import guardrail_condition_problem, pinned_version_arns
from tests.support.synth import Synthesized
from tests.support.templates import as_list, render, statements

# One cfn-lint run per distinct template content (stages share many identical templates).
_LINTED: dict[str, list[str]] = {}


def _lint(path: Path, region: str) -> list[str]:
    from cfnlint.api import ManualArgs, lint_file

    key = hashlib.sha256(path.read_bytes() + region.encode()).hexdigest()
    if key not in _LINTED:
        # W3005 (redundant DependsOn) is what CDK emits on every template; all else counts.
        args = ManualArgs(ignore_checks=["W3005"], regions=[region])
        _LINTED[key] = [str(m) for m in lint_file(path, config=args)]
    return _LINTED[key]


def test_stage_synthesizes_and_cdk_nag_reports_no_unacknowledged_finding(
    any_stage: Synthesized,
) -> None:
    # Given the AwsSolutions and Serverless packs attached in app_builder
    # Then synth passed validation and left no violation (errors or warnings) unacknowledged
    assert any_stage.synth_error is None, any_stage.synth_error
    assert any_stage.nag_findings == []
    knowledge = {"Knowledge", "Ingestion"} if any_stage.config.knowledge_bases else set()
    network = {"Network"} if any_stage.config.network.mode != "none" else set()
    assert set(any_stage.templates) == {"Platform", "Guardrails", "Api"} | knowledge | network


def test_synth_needs_no_lookup_even_with_a_pinned_account(any_stage: Synthesized) -> None:
    # A construct that reads context (zones, VPCs, AMIs) makes synth an AWS call once the stage
    # pins an account: the CLI would then fail without the lookup role, offline or in CI.
    assert any_stage.outdir is not None
    for manifest in any_stage.outdir.rglob("manifest.json"):
        missing = json.loads(manifest.read_text()).get("missing", [])
        assert not missing, [m["key"] for m in missing]


def test_cfn_lint_finds_nothing(any_stage: Synthesized) -> None:
    findings = {
        stack: _lint(path, any_stage.plan.region)
        for stack, path in any_stage.template_files.items()
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
INVOKE_ACTIONS = {"bedrock:invokemodel", "bedrock:invokemodelwithresponsestream"}


def test_no_bedrock_wildcards_anywhere(any_stage: Synthesized) -> None:
    # Given every IAM statement of every template in the stage
    checked = 0
    for stack, template in any_stage.templates.items():
        for lid, st in statements(template):
            if st.get("Effect", "Allow") != "Allow":
                continue  # a Deny takes away only (a private stage's Deny outside its endpoints)
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
                assert region == any_stage.plan.region, (lid, st)
            # And every other resource is an exact ARN: no wildcard anywhere in it
            for arn in resources:
                assert arn == "*" or "*" not in arn, (lid, arn)
    assert checked > 0, "expected Bedrock statements to check"


def _bedrock_service_roles(template: dict[str, Any]) -> set[str]:
    """Roles that only Bedrock itself assumes (knowledge-base roles: embedding and parsing)."""
    found = set()
    for lid, res in template.get("Resources", {}).items():
        if res["Type"] != "AWS::IAM::Role":
            continue
        trust = res["Properties"]["AssumeRolePolicyDocument"]["Statement"]
        if all(st.get("Principal") == {"Service": "bedrock.amazonaws.com"} for st in trust):
            found.add(lid)
    return found


def test_no_principal_may_invoke_without_the_stage_guardrail(any_stage: Synthesized) -> None:
    # Given every Allow statement that grants a Bedrock invoke action, and the pinned versions
    # of the stage's guardrails (from its Guardrails template)
    pinned = pinned_version_arns(any_stage)
    assert pinned
    found = 0
    for _, template in any_stage.templates.items():
        service_roles = _bedrock_service_roles(template)
        for lid, st in statements(template):
            actions = {a.lower() for a in as_list(st.get("Action", []))}
            if st.get("Effect") != "Allow" or not (
                actions & INVOKE_ACTIONS or "bedrock:invoke*" in actions
            ):
                continue
            found += 1
            if lid in service_roles:
                # A knowledge-base role is Bedrock embedding and parsing documents: no caller,
                # no guardrail; it may reach models only, by exact ARN (no application profile)
                resources = [render(r) for r in as_list(st["Resource"])]
                assert all(
                    ":foundation-model/" in r or ":inference-profile/" in r for r in resources
                ), (lid, st)
                assert not any("*" in r for r in resources), (lid, st)
                continue
            # Then it names exact resources and requires the pinned guardrail version
            assert "*" not in [render(r) for r in as_list(st["Resource"])], (lid, st)
            # exactly the stage's pinned guardrail versions (none missing, nothing else)
            problem = guardrail_condition_problem(st, pinned, any_stage)
            assert problem is None, (lid, problem, st)
    assert found >= 1


def test_pipeline_bootstrap_passes_the_iam_walk() -> None:
    # Given the pipeline bootstrap of a test-owned config (make pipeline-bootstrap)
    from tests.support.pipeline import pipeline_context, synth_pipeline

    template = synth_pipeline(pipeline_context()).template
    walked = 0
    for lid, st in statements(template):
        walked += 1
        actions = [a.lower() for a in as_list(st.get("Action", []))]
        # Then no statement grants a wildcard action or names a wildcard resource
        assert not any("*" in a for a in actions) and "NotAction" not in st, (lid, st)
        assert all("*" not in render(r) for r in as_list(st.get("Resource", []))), (lid, st)
    # And every trust policy is web identity bound to an exact audience and subject
    for lid, res in template["Resources"].items():
        if res["Type"] != "AWS::IAM::Role":
            continue
        for st in res["Properties"]["AssumeRolePolicyDocument"]["Statement"]:
            claims = st["Condition"]["StringEquals"]
            assert {k.rsplit(":", 1)[1] for k in claims} == {"aud", "sub"}, (lid, st)
    assert walked > 0


def test_production_stages_are_checked_with_nist_and_the_bedrock_production_rules(
    synth: Callable[[str], Synthesized],
) -> None:
    # Given the production test stage and a stage that is not production
    from aws_cdk import App
    from cdk_nag import NIST80053R5Checks

    from stacks.app_builder import nag_packs
    from stacks.nag_bedrock import BedrockChecks

    full, basic = synth("full"), synth("basic")
    assert full.plan.production and not basic.plan.production
    # When the packs each is checked with are chosen
    production_packs = nag_packs(App(), full.plan)
    other_packs = nag_packs(App(), basic.plan)
    # Then production adds NIST 800-53 R5, and the Bedrock pack runs on both
    assert any(isinstance(p, NIST80053R5Checks) for p in production_packs)
    assert not any(isinstance(p, NIST80053R5Checks) for p in other_packs)
    assert all(
        any(isinstance(p, BedrockChecks) for p in packs)
        for packs in (production_packs, other_packs)
    )
    # And the production stage synthesized under them with no unacknowledged finding
    assert full.synth_error is None and full.nag_findings == []
