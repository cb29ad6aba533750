"""The guardrail-check endpoint: its function, settings, grants and route."""

from __future__ import annotations

from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from constructs import Construct

from kit_runtime.contracts.guardrail_check import GuardrailCheckRequest, GuardrailCheckSettings
from stacks.api.chat_settings import guardrail_choices
from stacks.api.endpoint import ApiEndpoint
from stacks.api.rest_api import KitRestApi
from stacks.config import StagePlan
from stacks.core.references import GuardrailHandles, NetworkHandles

HANDLER = "handlers.guardrail_check.handler"
# Pinned: the guardrail-check log group keeps the id it was first deployed with.
LOG_GROUP_LOGICAL_ID = "GuardrailCheckLogs3B7E2D90"


def guardrail_check_settings(
    plan: StagePlan, *, guardrails: GuardrailHandles
) -> GuardrailCheckSettings:
    """The function's settings: every stage guardrail at its pinned version, default marked."""
    limits = plan.config.api.limits
    return GuardrailCheckSettings(
        stage=plan.name,
        **guardrail_choices(guardrails),
        max_body_bytes=limits.max_body_bytes,
        max_text_chars=limits.max_text_chars,
        budget=plan.time_budget(),
        log_prompts=plan.config.runtime.log_prompts,
    )


def guardrail_check_statements(
    guardrails: GuardrailHandles, *, revision: str
) -> list[iam.PolicyStatement]:
    """``bedrock:ApplyGuardrail`` on the stage's guardrails only, and ``kms:Decrypt`` on their
    customer-managed keys where they have one (Bedrock requires it of every principal that uses an
    encrypted guardrail: https://docs.aws.amazon.com/bedrock/latest/userguide/guardrails-permissions-kms.html,
    checked 2026-12-01). No model is invoked, so no invoke permission."""
    statements = [
        iam.PolicyStatement(
            sid=f"ApplyStageGuardrailOnly{revision}",
            actions=["bedrock:ApplyGuardrail"],
            resources=guardrails.arns,
        )
    ]
    if guardrails.key_arns:
        statements.append(
            iam.PolicyStatement(
                sid=f"DecryptStageGuardrailForCheck{revision}",
                actions=["kms:Decrypt"],
                resources=guardrails.key_arns,
            )
        )
    return statements


class GuardrailCheckEndpoint(ApiEndpoint):
    """``POST /guardrail/check``: a stage guardrail's verdict on a text, no model call."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        plan: StagePlan,
        code: lambda_.Code,
        api: KitRestApi,
        guardrails: GuardrailHandles,
        network: NetworkHandles | None = None,
    ) -> None:
        super().__init__(
            scope, construct_id, api=api, upstream=(guardrails.revision,), network=network
        )
        self.handler = self._build_function(
            plan,
            code,
            handler=HANDLER,
            service="guardrail-check",
            settings=guardrail_check_settings(plan, guardrails=guardrails),
            log_logical_id=LOG_GROUP_LOGICAL_ID,
        )
        self._grant(guardrail_check_statements(guardrails, revision=self.revision))
        self._add_route("/guardrail/check", "POST", request=GuardrailCheckRequest)
