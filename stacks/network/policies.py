"""Endpoint policies: every VPC endpoint of a private stage allows only what the kit calls.

An endpoint policy grants nothing by itself: it is one more filter every request through the
endpoint must pass, with the caller's identity policy and the resource's policy (PrivateLink
guide, "Control access to VPC endpoints using endpoint policies",
https://docs.aws.amazon.com/vpc/latest/privatelink/vpc-endpoints-access.html, checked
2026-12-01). Without one, an endpoint allows everything.

Principals: the Network stack comes before the stacks whose roles call through it (a role ARN
there would be a dependency cycle), so the kit's function roles are matched by name: every
role CloudFormation names for the stage's stacks starts with the stage's stack-name prefix
(``<kit>-<stage>-``; CloudFormation's generated names are ``<stack>-<logical id>-<suffix>``,
which it shortens to 64 characters: with a kit and stage name of up to 40 characters the prefix
survives, UNVERIFIED on an AWS page). Resources created after the Network stack (knowledge
bases, tables, clusters, secrets, buckets) are matched the same way; those that exist before it
(models, inference profiles, the guardrails) by exact ARN.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

from aws_cdk import Aws
from aws_cdk import aws_iam as iam

from stacks.config import StagePlan
from stacks.core.bedrock_iam import INVOKE_ACTIONS, model_resource_arns
from stacks.core.naming import resource_name, stage_id

ANY = iam.AnyPrincipal()


def role_pattern(plan: StagePlan) -> str:
    """ARN pattern of every role the stage's stacks create (``aws:PrincipalArn``)."""
    return f"arn:{Aws.PARTITION}:iam::{Aws.ACCOUNT_ID}:role/{stage_id(plan.kit_name, plan.name)}-*"


def _kit_roles(plan: StagePlan) -> dict[str, dict[str, str]]:
    return {"ArnLike": {"aws:PrincipalArn": role_pattern(plan)}}


def _account() -> dict[str, dict[str, str]]:
    return {"StringEquals": {"aws:PrincipalAccount": Aws.ACCOUNT_ID}}


def _arn(plan: StagePlan, service: str, resource: str, region: str | None = None) -> str:
    where = plan.region if region is None else region
    return f"arn:{Aws.PARTITION}:{service}:{where}:{Aws.ACCOUNT_ID}:{resource}"


def _stack_prefix(plan: StagePlan, stack: str) -> str:
    return f"{stage_id(plan.kit_name, plan.name)}-{stack}"


def bedrock_runtime_statements(
    plan: StagePlan,
    *,
    application_profile_arns: Sequence[str],
    guardrail_arns: Sequence[str],
) -> list[iam.PolicyStatement]:
    """The kit's roles may invoke the enabled chat models only, through their exact ARNs.

    Converse and ConverseStream are authorized as ``InvokeModel`` and
    ``InvokeModelWithResponseStream`` (Bedrock user guide, inference prerequisites). The
    resources are the application profiles, the system profiles and every destination
    region's foundation model (what :func:`model_resource_arns` grants the roles), and
    ``ApplyGuardrail`` on every stage guardrail (a request may choose any of them), which the
    roles hold for guarded invocations.
    """
    resources = list(application_profile_arns)
    for model in plan.chat_models:
        for arn in model_resource_arns(model=model, region=plan.region):
            if arn not in resources:
                resources.append(arn)
    return [
        iam.PolicyStatement(
            sid="KitRolesInvokeEnabledModels",
            principals=[ANY],
            actions=list(INVOKE_ACTIONS),
            resources=resources,
            conditions=_kit_roles(plan),
        ),
        iam.PolicyStatement(
            sid="KitRolesApplyStageGuardrail",
            principals=[ANY],
            actions=["bedrock:ApplyGuardrail"],
            resources=list(guardrail_arns),
            conditions=_kit_roles(plan),
        ),
    ]


def knowledge_base_pattern(plan: StagePlan) -> str:
    """The account's knowledge bases in the stage's region (created after the network; their
    ids are random, so the roles' own policies hold the exact ARNs)."""
    return _arn(plan, "bedrock", "knowledge-base/*")


def bedrock_agent_runtime_statements(plan: StagePlan) -> list[iam.PolicyStatement]:
    """``Retrieve`` (the retrieve and RAG functions) on the region's knowledge bases."""
    return [
        iam.PolicyStatement(
            sid="KitRolesRetrieve",
            principals=[ANY],
            actions=["bedrock:Retrieve"],
            resources=[knowledge_base_pattern(plan)],
            conditions=_kit_roles(plan),
        )
    ]


def bedrock_agent_statements(plan: StagePlan) -> list[iam.PolicyStatement]:
    """The ingestion functions' job calls on the region's knowledge bases."""
    return [
        iam.PolicyStatement(
            sid="KitRolesIngestionJobs",
            principals=[ANY],
            actions=[
                "bedrock:StartIngestionJob",
                "bedrock:GetIngestionJob",
                "bedrock:ListIngestionJobs",
            ],
            resources=[knowledge_base_pattern(plan)],
            conditions=_kit_roles(plan),
        )
    ]


def states_statements(plan: StagePlan) -> list[iam.PolicyStatement]:
    """``StartExecution`` of the stage's ingestion follower (a fixed name, known at synth)."""
    name = resource_name(plan.kit_name, plan.name, "ingestion", max_length=80)
    return [
        iam.PolicyStatement(
            sid="KitRolesStartFollower",
            principals=[ANY],
            actions=["states:StartExecution"],
            resources=[_arn(plan, "states", f"stateMachine:{name}")],
            conditions=_kit_roles(plan),
        )
    ]


def dynamodb_statements(plan: StagePlan) -> list[iam.PolicyStatement]:
    """The coordination table's records (its name starts with the Ingestion stack's name)."""
    return [
        iam.PolicyStatement(
            sid="KitRolesCoordinationRecords",
            principals=[ANY],
            actions=["dynamodb:GetItem", "dynamodb:PutItem"],
            resources=[_arn(plan, "dynamodb", f"table/{_stack_prefix(plan, 'Ingestion')}-*")],
            conditions=_kit_roles(plan),
        )
    ]


def rds_data_statements(plan: StagePlan) -> list[iam.PolicyStatement]:
    """The Data API on the stage's clusters (their identifiers start with the Knowledge stack's
    name in lower case)."""
    prefix = _stack_prefix(plan, "Knowledge").lower()
    return [
        iam.PolicyStatement(
            sid="KitRolesDataApi",
            principals=[ANY],
            actions=["rds-data:ExecuteStatement"],
            resources=[_arn(plan, "rds", f"cluster:{prefix}-*")],
            conditions=_kit_roles(plan),
        )
    ]


def secretsmanager_statements(plan: StagePlan) -> list[iam.PolicyStatement]:
    """What the pgvector schema and rotation functions call on the account's secrets in the
    region (the secrets are generated after the network; the roles hold the exact ARNs), and
    ``GetRandomPassword`` (no resource type)."""
    return [
        iam.PolicyStatement(
            sid="KitRolesDatabaseSecrets",
            principals=[ANY],
            actions=[
                "secretsmanager:DescribeSecret",
                "secretsmanager:GetSecretValue",
                "secretsmanager:PutSecretValue",
                "secretsmanager:UpdateSecretVersionStage",
            ],
            resources=[_arn(plan, "secretsmanager", "secret:*")],
            conditions=_kit_roles(plan),
        ),
        iam.PolicyStatement(
            sid="KitRolesRandomPassword",
            principals=[ANY],
            actions=["secretsmanager:GetRandomPassword"],
            resources=["*"],
            conditions=_kit_roles(plan),
        ),
    ]


def xray_statements(plan: StagePlan) -> list[iam.PolicyStatement]:
    """Trace segments from the kit's roles (the X-Ray actions have no resource type)."""
    return [
        iam.PolicyStatement(
            sid="KitRolesTraces",
            principals=[ANY],
            actions=["xray:PutTraceSegments", "xray:PutTelemetryRecords"],
            resources=["*"],
            conditions=_kit_roles(plan),
        )
    ]


def execute_api_statements(plan: StagePlan) -> list[iam.PolicyStatement]:
    """Callers of the account may invoke the account's APIs in the region (the private API's
    own resource policy narrows it to the stage's API and this endpoint)."""
    return [
        iam.PolicyStatement(
            sid="AccountCallersInvokeAccountApis",
            principals=[ANY],
            actions=["execute-api:Invoke"],
            resources=[_arn(plan, "execute-api", "*")],
            conditions=_account(),
        )
    ]


def data_bucket_arns(plan: StagePlan) -> list[str]:
    """The stage's document buckets: the kit's (named after the Knowledge stack) and the
    existing ones the config names."""
    arns = [f"arn:{Aws.PARTITION}:s3:::{_stack_prefix(plan, 'Knowledge').lower()}-*"]
    for kb in plan.knowledge_bases:
        arn = kb.data_source.bucket_arn
        if arn is not None and arn not in arns:
            arns.append(arn)
    return arns


def s3_statements(plan: StagePlan) -> list[iam.PolicyStatement]:
    """Callers of the account may use the stage's document buckets, and nothing else on S3.

    Nothing else is needed: Lambda downloads function code outside the function's network;
    every CloudFormation custom-resource response is sent by a Provider framework function,
    and those run outside the VPC (docs/decisions.md), so the AWS-owned
    ``cloudformation-custom-resource-response-<region>`` bucket is not listed.
    """
    buckets = data_bucket_arns(plan)
    return [
        iam.PolicyStatement(
            sid="AccountCallersStageDocuments",
            principals=[ANY],
            actions=[
                "s3:GetObject",
                "s3:GetObjectVersion",
                "s3:PutObject",
                "s3:DeleteObject",
                "s3:ListBucket",
                "s3:ListBucketVersions",
            ],
            resources=[*buckets, *(f"{arn}/*" for arn in buckets)],
            conditions=_account(),
        )
    ]


def endpoint_statements(
    plan: StagePlan,
    service: str,
    *,
    application_profile_arns: Sequence[str],
    guardrail_arns: Sequence[str],
) -> list[iam.PolicyStatement]:
    """The policy statements of the endpoint of ``service`` (an endpoint suffix).

    Raises
    ------
    KeyError
        For a service the kit has no policy for: an endpoint must never fall back to full
        access.
    """
    if service == "bedrock-runtime":
        return bedrock_runtime_statements(
            plan, application_profile_arns=application_profile_arns, guardrail_arns=guardrail_arns
        )
    builders: Mapping[str, Callable[[StagePlan], list[iam.PolicyStatement]]] = {
        "bedrock-agent-runtime": bedrock_agent_runtime_statements,
        "bedrock-agent": bedrock_agent_statements,
        "states": states_statements,
        "dynamodb": dynamodb_statements,
        "rds-data": rds_data_statements,
        "secretsmanager": secretsmanager_statements,
        "xray": xray_statements,
        "execute-api": execute_api_statements,
        "s3": s3_statements,
    }
    return builders[service](plan)


__all__ = [
    "data_bucket_arns",
    "endpoint_statements",
    "role_pattern",
]
