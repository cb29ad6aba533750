"""The pure policy readers behind the Bedrock pack, and the pack's independence from the kit."""

from __future__ import annotations

import ast
from pathlib import Path

from stacks.nag_bedrock.actions import INVOKE_ACTIONS, NO_RESOURCE_TYPE_ACTIONS
from stacks.nag_bedrock.policy import bedrock_patterns, covered, denies_unless, requires

PACKAGE = Path(__file__).resolve().parents[3] / "stacks" / "nag_bedrock"
VPC_KEYS = {"aws:sourcevpce", "aws:sourcevpc"}


def test_given_the_pack_sources_then_they_import_nothing_from_the_kit() -> None:
    # Given every module of the pack (another project vendors the folder as it is)
    imported: set[str] = set()
    for path in PACKAGE.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                imported.add(node.module.split(".")[0])
            elif isinstance(node, ast.Import):
                imported |= {alias.name.split(".")[0] for alias in node.names}
    # Then it imports only the standard library, the CDK, cdk-nag and jsii, and itself relatively
    assert imported <= {
        "__future__",
        "collections",
        "dataclasses",
        "fnmatch",
        "json",
        "re",
        "typing",
        "aws_cdk",
        "cdk_nag",
        "constructs",
        "jsii",
    }, imported


def test_given_wildcards_and_not_action_then_coverage_follows_iam_matching() -> None:
    assert covered({"Action": "bedrock:Invoke*"}, INVOKE_ACTIONS) >= {"bedrock:invokemodel"}
    assert covered({"Action": "BEDROCK:INVOKEMODEL"}, INVOKE_ACTIONS) == {"bedrock:invokemodel"}
    assert covered({"Action": "bedrock:GetGuardrail"}, INVOKE_ACTIONS) == set()
    # A NotAction statement covers all it does not exclude
    assert covered({"NotAction": "s3:*"}, INVOKE_ACTIONS) == INVOKE_ACTIONS
    assert covered({"NotAction": "bedrock:*"}, INVOKE_ACTIONS) == set()


def test_given_condition_operators_then_only_positive_ones_require_a_key() -> None:
    key = {"aws:sourcevpce"}
    assert requires({"Condition": {"StringEquals": {"aws:SourceVpce": "v"}}}, key)
    assert requires({"Condition": {"ForAnyValue:StringLike": {"aws:SourceVpce": "v*"}}}, key)
    assert not requires({"Condition": {"StringEqualsIfExists": {"aws:SourceVpce": "v"}}}, key)
    assert not requires({"Condition": {"StringNotEquals": {"aws:SourceVpce": "v"}}}, key)


def test_given_deny_conditions_then_negated_or_null_checks_deny_outside_the_endpoint() -> None:
    assert denies_unless({"Condition": {"StringNotEquals": {"aws:SourceVpc": "v"}}}, VPC_KEYS)
    assert denies_unless({"Condition": {"Null": {"aws:SourceVpce": "true"}}}, VPC_KEYS)
    assert not denies_unless({"Condition": {"StringEquals": {"aws:SourceVpce": "v"}}}, VPC_KEYS)


def test_given_action_patterns_then_only_those_that_may_be_bedrock_are_kept() -> None:
    statement = {"Action": ["s3:GetObject", "bedrock:ListFoundationModels", "*", "bed*:Get*"]}
    assert bedrock_patterns(statement) == ["bedrock:listfoundationmodels", "*", "bed*:get*"]
    # And the account-level actions the kit grants on "*" are in the no-resource-type list
    assert "bedrock:getfoundationmodelavailability" in NO_RESOURCE_TYPE_ACTIONS
    assert "bedrock:invokemodel" not in NO_RESOURCE_TYPE_ACTIONS
