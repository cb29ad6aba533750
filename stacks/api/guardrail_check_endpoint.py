"""The guardrail-check endpoint: its function, settings, grants and route."""

from __future__ import annotations

from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from constructs import Construct

from kit_runtime.contracts.chat import GuardrailRef
from kit_runtime.contracts.guardrail_check import GuardrailCheckRequest, GuardrailCheckSettings
from stacks.api.endpoint import ApiEndpoint
from stacks.api.rest_api import KitRestApi
from stacks.config import StagePlan
from stacks.core.references import GuardrailHandle, NetworkHandles

HANDLER = "handlers.guardrail_check.handler"
# Pinned: the guardrail-check log group keeps the id it was first deployed with.
LOG_GROUP_LOGICAL_ID = "GuardrailCheckLogs3B7E2D90"


def guardrail_check_settings(
    plan: StagePlan, *, guardrail: GuardrailHandle
) -> GuardrailCheckSettings:
    """The function's settings: the stage's default guardrail at its pinned version."""
    limits = plan.config.api.limits
    return GuardrailCheckSettings(
        stage=plan.name,
        guardrail=GuardrailRef(arn=guardrail.arn, version=guardrail.version),
        max_body_bytes=limits.max_body_bytes,
        max_text_chars=limits.max_text_chars,
        budget=plan.time_budget(),
        log_prompts=plan.config.runtime.log_prompts,
    )


def guardrail_check_statements(
    guardrail: GuardrailHandle, *, revision: str
) -> list[iam.PolicyStatement]:
    """``bedrock:ApplyGuardrail`` on the stage's guardrail only, and ``kms:Decrypt`` on its
    customer-managed key when it has one (Bedrock requires it of every principal that uses an
    encrypted guardrail: https://docs.aws.amazon.com/bedrock/latest/userguide/guardrails-permissions-kms.html,
    checked 2026-12-01). No model is invoked, so no invoke permission."""
    statements = [
        iam.PolicyStatement(
            sid=f"ApplyStageGuardrailOnly{revision}",
            actions=["bedrock:ApplyGuardrail"],
            resources=[guardrail.arn],
        )
    ]
    if guardrail.key_arn is not None:
        statements.append(
            iam.PolicyStatement(
                sid=f"DecryptStageGuardrailForCheck{revision}",
                actions=["kms:Decrypt"],
                resources=[guardrail.key_arn],
            )
        )
    return statements


class GuardrailCheckEndpoint(ApiEndpoint):
    """``POST /guardrail/check``: the stage's guardrail's verdict on a text, no model call."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        plan: StagePlan,
        code: lambda_.Code,
        api: KitRestApi,
        guardrail: GuardrailHandle,
        network: NetworkHandles | None = None,
    ) -> None:
        super().__init__(
            scope, construct_id, api=api, upstream=(guardrail.revision,), network=network
        )
        self.handler = self._build_function(
            plan,
            code,
            handler=HANDLER,
            service="guardrail-check",
            settings=guardrail_check_settings(plan, guardrail=guardrail),
            log_logical_id=LOG_GROUP_LOGICAL_ID,
        )
        self._grant(guardrail_check_statements(guardrail, revision=self.revision))
        self._add_route("/guardrail/check", "POST", request=GuardrailCheckRequest)
