"""The pipeline bootstrap's roles: who may assume them (OIDC claims) and what they may do."""

from __future__ import annotations

import importlib.util
import json
import re
from pathlib import Path
from typing import Any

import pytest

from stacks.pipeline import role_variable
from tests.support.pipeline import (
    ACCOUNT,
    REPOSITORY,
    PipelineSynth,
    pipeline_context,
    synth_pipeline,
)
from tests.support.synth import ROOT
from tests.support.templates import as_list, render, statements

ISSUER = "token.actions.githubusercontent.com"
BOOTSTRAP_KINDS = {
    "deploy": {"deploy", "file-publishing", "image-publishing", "lookup"},
    "diff": {"lookup"},
}
_BOOTSTRAP_ARN = re.compile(
    r"^arn:(?:aws|\$\{AWS::Partition\}):iam::(?P<account>\d{12}):role/cdk-hnb659fds-"
    r"(?P<kind>[a-z-]+)-role-(?P=account)-(?P<region>[a-z0-9-]+)$"
)


@pytest.fixture(scope="module")
def created() -> PipelineSynth:
    return synth_pipeline(pipeline_context(environments={"beta-1": "production"}))


def _roles(template: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {lid: r for lid, r in template["Resources"].items() if r["Type"] == "AWS::IAM::Role"}


def _role_of(description: str) -> tuple[str, str]:
    kind, stage = re.match(r"GitHub Actions (\w+) of stage (\S+) ", description).groups()  # type: ignore[union-attr]
    return kind, stage


def test_given_two_stages_in_the_account_then_each_gets_a_deploy_and_a_diff_role(
    created: PipelineSynth,
) -> None:
    found = {_role_of(r["Properties"]["Description"]) for r in _roles(created.template).values()}
    expected = {(k, s.name) for s in created.plan.stages for k in ("deploy", "diff")}
    assert found == expected
    # And the stage of the other account got nothing here, with a synth warning saying so
    assert all(stage != "gamma" for _, stage in found)
    assert any("gamma" in w for w in created.warnings), created.warnings


def test_trust_accepts_only_the_audience_and_the_exact_subject(created: PipelineSynth) -> None:
    environments = {s.name: s.environment for s in created.plan.stages}
    provider = next(
        lid
        for lid, r in created.template["Resources"].items()
        if r["Type"] == "AWS::IAM::OIDCProvider"
    )
    for role in _roles(created.template).values():
        kind, stage = _role_of(role["Properties"]["Description"])
        [trust] = role["Properties"]["AssumeRolePolicyDocument"]["Statement"]
        # Then only web identity from the created provider, with exact (StringEquals) claims
        assert trust["Action"] == "sts:AssumeRoleWithWebIdentity"
        assert render(trust["Principal"]["Federated"]) == "${" + provider + ".Arn}"
        assert set(trust["Condition"]) == {"StringEquals"}, trust
        claims = trust["Condition"]["StringEquals"]
        assert claims[f"{ISSUER}:aud"] == "sts.amazonaws.com"
        expected = (
            f"repo:{REPOSITORY}:environment:{environments[stage]}"
            if kind == "deploy"
            else f"repo:{REPOSITORY}:pull_request"
        )
        assert claims[f"{ISSUER}:sub"] == expected
        assert set(claims) == {f"{ISSUER}:aud", f"{ISSUER}:sub"}
        assert "*" not in expected and "?" not in expected


def test_the_overridden_environment_is_trusted_instead_of_the_stage_name(
    created: PipelineSynth,
) -> None:
    subjects = {
        role["Properties"]["AssumeRolePolicyDocument"]["Statement"][0]["Condition"]["StringEquals"][
            f"{ISSUER}:sub"
        ]
        for role in _roles(created.template).values()
    }
    assert f"repo:{REPOSITORY}:environment:production" in subjects
    assert f"repo:{REPOSITORY}:environment:beta-1" not in subjects


def test_permissions_are_only_assume_role_on_the_stage_bootstrap_roles(
    created: PipelineSynth,
) -> None:
    stages = {s.name: s for s in created.plan.stages}
    roles = _roles(created.template)
    granted: dict[str, set[str]] = {lid: set() for lid in roles}
    for _, st in statements(created.template):
        assert st["Effect"] == "Allow" and as_list(st["Action"]) == ["sts:AssumeRole"], st
        assert "Condition" not in st and "NotResource" not in st
        policy = next(
            r
            for r in created.template["Resources"].values()
            if r["Type"] == "AWS::IAM::Policy"
            and r["Properties"]["PolicyDocument"]["Statement"][0] == st
        )
        for ref in policy["Properties"]["Roles"]:
            granted[ref["Ref"]] |= {render(r) for r in as_list(st["Resource"])}
    for lid, role in roles.items():
        kind, stage = _role_of(role["Properties"]["Description"])
        assert not role["Properties"].get("Policies") and not role["Properties"].get(
            "ManagedPolicyArns"
        )
        kinds = set()
        for arn in granted[lid]:
            match = _BOOTSTRAP_ARN.match(arn)
            assert match, arn
            # Then each ARN is exactly a bootstrap role of the stage's own account and region
            assert match["account"] == stages[stage].account == ACCOUNT
            assert match["region"] == stages[stage].region
            kinds.add(match["kind"])
        assert kinds == BOOTSTRAP_KINDS[kind] and len(granted[lid]) == len(kinds), (lid, granted)


def test_sessions_last_at_most_an_hour(created: PipelineSynth) -> None:
    for role in _roles(created.template).values():
        assert role["Properties"]["MaxSessionDuration"] <= 3600


def test_outputs_name_the_variables_the_workflows_read(
    created: PipelineSynth, tmp_path: Path
) -> None:
    # Given the workflows' own stage matrix for the same stages
    spec = importlib.util.spec_from_file_location("stages", ROOT / ".github/scripts/stages.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    cdk_json = tmp_path / "cdk.json"
    cdk_json.write_text(json.dumps({"context": pipeline_context()}))
    matrix = {row["stage"]: row for row in module.stage_matrix(cdk_json)}
    # Then each role's output names the variable the workflow reads its ARN from
    outputs = list(created.template["Outputs"].values())
    for stage in created.plan.stages:
        for kind, column in (("deploy", "deploy_role_var"), ("diff", "diff_role_var")):
            assert role_variable(kind, stage.name) == matrix[stage.name][column]
            [output] = [o for o in outputs if f" {matrix[stage.name][column]} " in o["Description"]]
            assert render(output["Value"]).startswith("${" + kind.title() + "Role")


def test_github_provider_is_created_for_sts(created: PipelineSynth) -> None:
    providers = [
        r for r in created.template["Resources"].values() if r["Type"] == "AWS::IAM::OIDCProvider"
    ]
    assert len(providers) == 1
    assert providers[0]["Properties"]["Url"] == f"https://{ISSUER}"
    assert providers[0]["Properties"]["ClientIdList"] == ["sts.amazonaws.com"]


def test_given_an_existing_provider_then_it_is_trusted_and_none_is_created() -> None:
    arn = f"arn:aws:iam::{ACCOUNT}:oidc-provider/{ISSUER}"
    imported = synth_pipeline(pipeline_context(oidc_provider_arn=arn))
    types = {r["Type"] for r in imported.template["Resources"].values()}
    assert "AWS::IAM::OIDCProvider" not in types
    for role in _roles(imported.template).values():
        assert role["Properties"]["AssumeRolePolicyDocument"]["Statement"][0]["Principal"] == {
            "Federated": arn
        }


def test_cdk_nag_reports_nothing_and_cfn_lint_finds_nothing(created: PipelineSynth) -> None:
    from cfnlint.api import ManualArgs, lint_file

    assert created.nag_findings == []
    args = ManualArgs(ignore_checks=["W3005"], regions=[created.plan.region])
    assert [str(m) for m in lint_file(created.template_file, config=args)] == []
