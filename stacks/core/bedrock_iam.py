"""The one place that builds Bedrock invoke permissions.

Every statement names exact ARNs taken from the catalog: the application inference profile,
the system (cross-region) profile, and the foundation model in each region the profile may
route to. Invocation is allowed only when the request carries one of the stage's pinned
guardrail versions.
"""

from __future__ import annotations

from collections.abc import Sequence

from aws_cdk import Aws
from aws_cdk import aws_iam as iam

from stacks.config import ModelPlan

INVOKE_ACTIONS = ("bedrock:InvokeModel", "bedrock:InvokeModelWithResponseStream")
GUARDRAIL_CONDITION_KEY = "bedrock:GuardrailIdentifier"


def foundation_model_arn(region: str, model_id: str) -> str:
    """ARN of a foundation model in ``region`` (empty region: the global profile's form)."""
    return f"arn:{Aws.PARTITION}:bedrock:{region}::foundation-model/{model_id}"


def system_profile_arn(region: str, prefix: str, model_id: str) -> str:
    """ARN of the system-defined cross-region profile ``prefix.model_id`` in ``region``."""
    return (
        f"arn:{Aws.PARTITION}:bedrock:{region}:{Aws.ACCOUNT_ID}:inference-profile/"
        f"{prefix}.{model_id}"
    )


def model_resource_arns(*, model: ModelPlan, region: str) -> list[str]:
    """Every ARN a request for ``model`` from ``region`` is authorized against.

    In-region: the foundation model in ``region``. Through a profile: the system profile in
    ``region`` and the foundation model in each destination region the catalog lists; the
    ``global`` profile routes to any commercial region, which AWS expresses with the
    region-less foundation-model ARN.
    """
    if model.profile is None:
        return [foundation_model_arn(region, model.id)]
    arns = [system_profile_arn(region, model.profile, model.id)]
    if model.profile == "global":
        arns += [foundation_model_arn(region, model.id), foundation_model_arn("", model.id)]
    else:
        arns += [
            foundation_model_arn(r, model.id)
            for r in model.spec.destination_regions(model.profile, region)
        ]
    return arns


def bedrock_invoke_statements(
    *,
    models: Sequence[ModelPlan],
    region: str,
    application_profile_arns: Sequence[str],
    guardrail_arns: Sequence[str],
    guardrail_version_arns: Sequence[str],
    streaming: bool = True,
    revision: str = "",
    guardrail_key_arns: Sequence[str] = (),
) -> list[iam.PolicyStatement]:
    """Statements that let a principal invoke ``models`` only through a stage guardrail.

    Parameters
    ----------
    models, region:
        The enabled models (with their catalog entries) and the stage's region.
    application_profile_arns:
        The stage's application inference profiles (the ARNs the runtime invokes).
    guardrail_arns:
        The stage's guardrails; ``bedrock:ApplyGuardrail`` is granted on them.
    guardrail_version_arns:
        Each guardrail's ``<guardrail arn>:<version>``; every invoke must name one of these
        pinned versions. ``StringEquals`` with several values matches any one of them (logical
        OR), and a request without a guardrail lacks the key, so the condition is false
        (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_multi-value-conditions.html
        and .../reference_policies_elements_condition_operators.html, checked 2026-12-01).
    streaming:
        Also allow ``InvokeModelWithResponseStream`` (ConverseStream).
    revision:
        Appended to the statement ids: a digest of the cross-stack values the statements
        hold, so the policy is rewritten (and the values re-read) whenever one changes.
    guardrail_key_arns:
        The guardrails' customer-managed keys: ``kms:Decrypt`` on them, which Bedrock requires
        of every principal using an encrypted guardrail during inference
        (https://docs.aws.amazon.com/bedrock/latest/userguide/guardrails-permissions-kms.html,
        checked 2026-12-01).
    """
    resources: list[str] = list(application_profile_arns)
    for model in models:
        for arn in model_resource_arns(model=model, region=region):
            if arn not in resources:
                resources.append(arn)
    actions = list(INVOKE_ACTIONS if streaming else INVOKE_ACTIONS[:1])
    # One version stays a plain string: a stage with one guardrail keeps its policy unchanged.
    pinned_versions: str | list[str] = (
        guardrail_version_arns[0]
        if len(guardrail_version_arns) == 1
        else list(guardrail_version_arns)
    )
    key = (
        [
            iam.PolicyStatement(
                sid=f"DecryptStageGuardrail{revision}",
                actions=["kms:Decrypt"],
                resources=list(guardrail_key_arns),
            )
        ]
        if guardrail_key_arns
        else []
    )
    return key + [
        iam.PolicyStatement(
            sid=f"InvokeEnabledModelsThroughGuardrail{revision}",
            actions=actions,
            resources=resources,
            conditions={"StringEquals": {GUARDRAIL_CONDITION_KEY: pinned_versions}},
        ),
        iam.PolicyStatement(
            sid=f"ApplyStageGuardrail{revision}",
            actions=["bedrock:ApplyGuardrail"],
            resources=list(guardrail_arns),
        ),
    ]


VPC_GUARDED_ACTIONS = (
    *INVOKE_ACTIONS,
    "bedrock:Retrieve",
    "bedrock:RetrieveAndGenerate",
    "bedrock:ApplyGuardrail",
)
"""What a private stage's roles may call only through the stage's VPC endpoints."""


def outside_network_deny(
    endpoint_ids: Sequence[str], *, revision: str = "", only_region: str | None = None
) -> iam.PolicyStatement:
    """Deny a private stage's role every Bedrock call that does not come through its endpoints.

    A leaked credential of the role then cannot call Bedrock from anywhere else. Requests
    Bedrock makes onward with the caller's credentials (``aws:ViaAWSService`` true, no
    ``aws:SourceVpce``) stay allowed. Never put this on a knowledge base's service role: Bedrock
    assumes it on the service side, outside every VPC (docs/research/private-networking-aws-
    facts.md section 3).

    Parameters
    ----------
    endpoint_ids:
        The stage's ``bedrock-runtime`` (and ``bedrock-agent-runtime``) endpoint ids.
    revision:
        Appended to the statement id (see :func:`bedrock_invoke_statements`).
    only_region:
        Deny only requests made to this region (``aws:RequestedRegion``): the fallback
        (``network.bedrock_deny_scope: stage-region``) for the case, unverified, where Bedrock
        authorizes a cross-region profile's request again in the destination region without
        ``aws:SourceVpce``. A leaked credential could then still call the destination regions'
        foundation models directly (with the guardrail the role's Allow requires).
    """
    conditions: dict[str, dict[str, object]] = {
        "StringNotEqualsIfExists": {"aws:SourceVpce": list(endpoint_ids)},
        "BoolIfExists": {"aws:ViaAWSService": "false"},
    }
    if only_region is not None:
        conditions["StringEquals"] = {"aws:RequestedRegion": only_region}
    return iam.PolicyStatement(
        sid=f"BedrockOnlyThroughStageEndpoints{revision}",
        effect=iam.Effect.DENY,
        actions=list(VPC_GUARDED_ACTIONS),
        resources=["*"],
        conditions=conditions,
    )
