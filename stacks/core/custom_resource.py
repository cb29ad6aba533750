"""The CDK Provider framework as every kit custom resource uses it.

A custom resource's own function is a ``KitFunction`` with its own policy, which it waits for;
the framework function in front of it gets a retained log group, a role limited to that log
group, and the cdk-nag acknowledgments its aws-cdk-lib-managed settings need.
"""

from __future__ import annotations

from collections.abc import Sequence

from aws_cdk import Stack
from aws_cdk import aws_iam as iam
from aws_cdk import custom_resources as cr
from constructs import Construct

from stacks.config import StagePlan
from stacks.core.function import KitFunction
from stacks.core.logs import retained_log_group
from stacks.core.nag import acknowledge

# The shared decision of issue 9 (docs/decisions.md): the Provider framework functions and the
# Platform's and Guardrails' deploy-time handlers stay outside the VPC.
OUTSIDE_VPC_REASON = (
    "Deploy-time handler, kept outside the VPC by design: {subject} runs once per deploy, "
    "calls only control-plane APIs and handles no tenant data; inside the VPC it would need "
    "extra interface endpoints (bedrock, lambda, states) for nothing at run time."
)


def handler_policy(
    scope: Construct, *, function: KitFunction, statements: Sequence[iam.PolicyStatement]
) -> iam.Policy:
    """The custom resource function's policy (``scope``'s child ``Policy``), attached to its role.

    The function depends on the policy: CloudFormation would otherwise invoke it for the
    resource before it may call what it calls, and the deployment would fail on AccessDenied.
    """
    policy = iam.Policy(scope, "Policy", statements=list(statements))
    policy.attach_to_role(function.role)
    function.function.node.add_dependency(policy)
    return policy


def kit_provider(
    scope: Construct,
    *,
    plan: StagePlan,
    function: KitFunction,
    subject: str,
    role_description: str,
    log_logical_id: str | None = None,
) -> cr.Provider:
    """A Provider relaying CloudFormation events to ``function``.

    Parameters
    ----------
    scope:
        The custom resource's construct; the log group, role and provider are its children
        ``ProviderLogs``, ``ProviderRole`` and ``Provider``.
    plan:
        The stage plan (log retention).
    function:
        The function handling the events.
    subject:
        What the function does, as a noun ("check"), for the acknowledgment reasons.
    role_description:
        The framework role's description.
    log_logical_id:
        Pins the framework's (retained) log group's logical id.
    """
    framework_logs = retained_log_group(
        scope,
        "ProviderLogs",
        plan=plan,
        logical_id=log_logical_id,
    )
    framework_role = iam.Role(
        scope,
        "ProviderRole",
        assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
        description=role_description,
    )
    framework_role.add_to_policy(
        iam.PolicyStatement(
            actions=["logs:CreateLogStream", "logs:PutLogEvents"],
            resources=[framework_logs.log_group_arn],  # the ARN already ends in ":*"
        )
    )
    provider = cr.Provider(
        scope,
        "Provider",
        on_event_handler=function.function,
        log_group=framework_logs,
        framework_on_event_role=framework_role,
    )
    acknowledge(
        framework_role,
        f"AwsSolutions-IAM5[Resource::<{_logical_ref(function.function)}>:*]",
        f"The CDK Provider framework grants lambda:InvokeFunction on the {subject} function and "
        "its versions/aliases (<arn>:*); it is limited to that one function.",
    )
    framework = [
        (
            "AwsSolutions-L1",
            "The Provider framework function's runtime is chosen and "
            "updated by aws-cdk-lib, not by this kit.",
        ),
        (
            "Serverless-LambdaDefaultMemorySize",
            "aws-cdk-lib's Provider exposes no memory "
            "setting for its framework function, which only relays the CloudFormation event "
            f"to the {subject} function (which sets its memory).",
        ),
        (
            "Serverless-LambdaDLQ",
            "CloudFormation waits for the framework's answer; a "
            f"failed {subject} fails the deployment, so there is no event to replay from a DLQ.",
        ),
        (
            "NIST.800.53.R5-LambdaDLQ",
            "CloudFormation waits for the framework's answer; a "
            f"failed {subject} fails the deployment, so there is no event to replay from a DLQ.",
        ),
        (
            "NIST.800.53.R5-LambdaConcurrency",
            "The framework function runs once per "
            "CloudFormation event of this custom resource; reserving concurrency for it would "
            "only take capacity from the account's shared pool.",
        ),
        (
            "NIST.800.53.R5-LambdaInsideVPC",
            OUTSIDE_VPC_REASON.format(subject=f"the {subject}'s provider framework"),
        ),
        (
            "Serverless-LambdaTracing",
            "aws-cdk-lib's Provider exposes no tracing setting "
            f"for its framework function; the {subject} function itself is traced with X-Ray.",
        ),
    ]
    for rule, reason in framework:
        acknowledge(provider, rule, reason)
    return provider


def _logical_ref(construct: Construct) -> str:
    child = construct.node.default_child
    return Stack.of(construct).get_logical_id(child) + ".Arn"  # type: ignore[arg-type]


__all__ = ["handler_policy", "kit_provider"]
