"""The Bedrock pack's IAM rules, each on a small stack: one case that fails, one that passes."""

from __future__ import annotations

from typing import Any

import pytest
from aws_cdk import Stack
from aws_cdk import aws_iam as iam

from stacks.core.nag import acknowledge
from tests.support.nag import bedrock_findings, guardrail_arn, model_arn

GUARDRAIL = "Bedrock-InvokeWithoutGuardrail"
WILDCARD = "Bedrock-ActionOnWildcard"
OUTSIDE_VPC = "Bedrock-InvokeOutsideVpc"
LOGGING = "Bedrock-NoInvocationLogging"
ENDPOINT_ID = "vpce-0123456789abcdef0"


def _role(stack: Stack, *statements: iam.PolicyStatement, service: str = "lambda") -> iam.Role:
    role = iam.Role(stack, "Caller", assumed_by=iam.ServicePrincipal(f"{service}.amazonaws.com"))
    for statement in statements:
        role.add_to_policy(statement)
    return role


def _invoke(
    actions: tuple[str, ...] = ("bedrock:InvokeModel",), conditions: dict[str, Any] | None = None
) -> iam.PolicyStatement:
    return iam.PolicyStatement(
        actions=list(actions), resources=[model_arn()], conditions=conditions
    )


WITH_GUARDRAIL: dict[str, Any] = {
    "StringEquals": {"bedrock:GuardrailIdentifier": f"{guardrail_arn()}:1"}
}


@pytest.mark.parametrize(
    "actions",
    [
        ("bedrock:InvokeModel",),
        ("bedrock:InvokeModelWithResponseStream",),
        ("bedrock:Converse",),
        ("bedrock:Invoke*",),
    ],
)
def test_given_an_invoke_grant_without_the_guardrail_condition_then_it_is_reported(
    actions: tuple[str, ...],
) -> None:
    # Given a function role allowed to invoke a model with no guardrail condition
    # When the pack runs
    found = bedrock_findings(lambda s: _role(s, _invoke(actions)))
    # Then the policy holding the statement is reported
    assert found[GUARDRAIL] == ["Test/Caller/DefaultPolicy/Resource"]


def test_given_the_guardrail_condition_on_every_invoke_grant_then_nothing_is_reported() -> None:
    # Given the same grant conditioned on the guardrail
    found = bedrock_findings(lambda s: _role(s, _invoke(conditions=WITH_GUARDRAIL)))
    # Then no Bedrock rule reports it
    assert found == {}


def test_given_a_guardrail_condition_that_may_be_absent_then_the_grant_is_reported() -> None:
    # Given StringEqualsIfExists: a request without any guardrail still matches
    conditions = {"StringEqualsIfExists": {"bedrock:GuardrailIdentifier": guardrail_arn()}}
    found = bedrock_findings(lambda s: _role(s, _invoke(conditions=conditions)))
    # Then it does not count as requiring the guardrail
    assert GUARDRAIL in found


def test_given_a_role_only_bedrock_assumes_then_its_invoke_grant_needs_no_guardrail() -> None:
    # Given a knowledge-base service role embedding with a model (Bedrock calls, no caller)
    found = bedrock_findings(lambda s: _role(s, _invoke(), service="bedrock"))
    # Then the guardrail rule skips it
    assert GUARDRAIL not in found


def test_given_an_inline_policy_on_a_role_then_its_statements_are_checked_too() -> None:
    # Given a role whose invoke grant is an inline policy of the role resource itself
    def build(stack: Stack) -> None:
        iam.Role(
            stack,
            "Caller",
            assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
            inline_policies={"invoke": iam.PolicyDocument(statements=[_invoke()])},
        )

    # Then the role resource is reported
    assert bedrock_findings(build)[GUARDRAIL] == ["Test/Caller/Resource"]


def test_given_an_acknowledgment_with_a_reason_then_the_finding_leaves_the_report() -> None:
    # Given the failing grant, acknowledged on its role through the kit's helper
    def build(stack: Stack) -> None:
        role = _role(stack, _invoke())
        acknowledge(role, GUARDRAIL, "Test role: this grant stands for one that cannot be tied.")

    # Then the report no longer lists it
    assert GUARDRAIL not in bedrock_findings(build)


@pytest.mark.parametrize("actions", [("bedrock:GetGuardrail",), ("bedrock:List*",), ("*",)])
def test_given_a_bedrock_action_with_a_resource_type_on_star_then_it_is_reported(
    actions: tuple[str, ...],
) -> None:
    # Given an action that IAM can scope (or a wildcard that may match one) on "*"
    statement = iam.PolicyStatement(actions=list(actions), resources=["*"])
    # Then the policy is reported
    assert WILDCARD in bedrock_findings(lambda s: _role(s, statement))


def test_given_only_actions_without_a_resource_type_on_star_then_nothing_is_reported() -> None:
    # Given the account-level actions on "*" and a scoped action on its exact ARN
    statements = (
        iam.PolicyStatement(
            actions=["bedrock:ListFoundationModels", "bedrock:GetFoundationModelAvailability"],
            resources=["*"],
        ),
        iam.PolicyStatement(actions=["bedrock:GetGuardrail"], resources=[guardrail_arn()]),
    )
    # Then the wildcard rule passes
    assert WILDCARD not in bedrock_findings(lambda s: _role(s, *statements))


def test_given_a_private_stage_and_an_unconditioned_invoke_then_the_role_is_reported() -> None:
    # Given a private stage and a role that may invoke from anywhere
    found = bedrock_findings(
        lambda s: _role(s, _invoke(conditions=WITH_GUARDRAIL)), private_network=True
    )
    # Then the role is reported (wherever its statements live)
    assert found[OUTSIDE_VPC] == ["Test/Caller/Resource"]


def test_given_a_stage_that_is_not_private_then_the_vpc_rule_does_not_run() -> None:
    found = bedrock_findings(lambda s: _role(s, _invoke(conditions=WITH_GUARDRAIL)))
    assert OUTSIDE_VPC not in found


def test_given_the_allow_conditioned_on_the_endpoint_then_the_role_passes() -> None:
    # Given the invoke grant allowed only through the stage's endpoint
    conditions = {
        "StringEquals": {
            "bedrock:GuardrailIdentifier": f"{guardrail_arn()}:1",
            "aws:SourceVpce": ENDPOINT_ID,
        }
    }
    found = bedrock_findings(
        lambda s: _role(s, _invoke(conditions=conditions)), private_network=True
    )
    assert found == {}


def test_given_a_deny_outside_the_endpoint_in_another_policy_then_the_role_passes() -> None:
    # Given an unconditioned Allow and, in a separate managed policy on the same role, a Deny
    # of every Bedrock action when the request does not come through the endpoint
    def build(stack: Stack) -> None:
        role = _role(stack, _invoke(conditions=WITH_GUARDRAIL))
        iam.ManagedPolicy(
            stack,
            "OnlyThroughEndpoint",
            roles=[role],
            statements=[
                iam.PolicyStatement(
                    effect=iam.Effect.DENY,
                    actions=["bedrock:*"],
                    resources=["*"],
                    conditions={"StringNotEquals": {"aws:SourceVpce": ENDPOINT_ID}},
                )
            ],
        )

    assert OUTSIDE_VPC not in bedrock_findings(build, private_network=True)


def test_given_a_deny_that_misses_an_allowed_runtime_action_then_the_role_is_reported() -> None:
    # Given a Deny outside the endpoint that covers InvokeModel but not Retrieve
    deny = iam.PolicyStatement(
        effect=iam.Effect.DENY,
        actions=["bedrock:InvokeModel"],
        resources=["*"],
        conditions={"StringNotEquals": {"aws:SourceVpc": "vpc-0123"}},
    )
    retrieve = iam.PolicyStatement(
        actions=["bedrock:Retrieve"],
        resources=["arn:aws:bedrock:us-east-1:111111111111:knowledge-base/KB1"],
    )
    found = bedrock_findings(
        lambda s: _role(s, _invoke(conditions=WITH_GUARDRAIL), retrieve, deny), private_network=True
    )
    assert OUTSIDE_VPC in found


def test_given_a_production_app_without_invocation_logging_then_invoke_grants_are_reported() -> (
    None
):
    # Given production with the logging rule turned on and no logging set up
    found = bedrock_findings(
        lambda s: _role(s, _invoke(conditions=WITH_GUARDRAIL)),
        production=True,
        require_invocation_logging=True,
    )
    # Then the invoke grant is reported
    assert found[LOGGING] == ["Test/Caller/DefaultPolicy/Resource"]


def test_given_the_logging_rule_left_off_then_production_reports_no_missing_logging() -> None:
    found = bedrock_findings(
        lambda s: _role(s, _invoke(conditions=WITH_GUARDRAIL)), production=True
    )
    assert LOGGING not in found


def test_given_a_logging_resource_of_a_declared_type_then_the_logging_rule_passes() -> None:
    # Given the custom resource type the app uses for invocation logging, declared to the pack
    def build(stack: Stack) -> None:
        _role(stack, _invoke(conditions=WITH_GUARDRAIL))
        from aws_cdk import CfnResource

        CfnResource(stack, "Logging", type="Custom::InvocationLogging", properties={"A": "b"})

    found = bedrock_findings(
        build,
        production=True,
        require_invocation_logging=True,
        invocation_logging_types=["Custom::InvocationLogging"],
    )
    assert LOGGING not in found


def test_given_an_aws_custom_resource_putting_the_logging_configuration_then_it_counts() -> None:
    # Given an AwsCustomResource that calls PutModelInvocationLoggingConfiguration
    from aws_cdk import custom_resources as cr

    def build(stack: Stack) -> None:
        _role(stack, _invoke(conditions=WITH_GUARDRAIL))
        call = cr.AwsSdkCall(
            service="bedrock",
            action="PutModelInvocationLoggingConfiguration",
            parameters={"loggingConfig": {"textDataDeliveryEnabled": True}},
            physical_resource_id=cr.PhysicalResourceId.of("logging"),
        )
        cr.AwsCustomResource(
            stack,
            "Logging",
            on_create=call,
            policy=cr.AwsCustomResourcePolicy.from_sdk_calls(
                resources=cr.AwsCustomResourcePolicy.ANY_RESOURCE
            ),
        )

    found = bedrock_findings(build, production=True, require_invocation_logging=True)
    assert LOGGING not in found
