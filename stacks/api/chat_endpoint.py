"""The chat capability's endpoint: its function, settings, grants and routes."""

from __future__ import annotations

from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from constructs import Construct

from kit_runtime.contracts.chat import ChatSettings, GuardrailRef, ModelRoute
from kit_runtime.contracts.chat_api import ChatRequest
from stacks.api.handler_function import api_handler_function
from stacks.api.request_model import api_gateway_schema
from stacks.api.rest_api import KitRestApi
from stacks.config import StagePlan
from stacks.core.bedrock_iam import bedrock_invoke_statements
from stacks.core.naming import digest
from stacks.core.references import GuardrailHandle, ProfileHandles

HANDLER = "handlers.chat.handler"
# Pinned: the chat log group keeps the id it was first deployed with.
LOG_GROUP_LOGICAL_ID = "ChatLogs5E9385DA"


def chat_settings(
    plan: StagePlan, *, profiles: ProfileHandles, guardrail: GuardrailHandle
) -> ChatSettings:
    """The chat function's settings: stage facts only (catalog facts ship in the asset)."""
    config = plan.config
    return ChatSettings(
        stage=plan.name,
        models={
            m.id: ModelRoute(invoke_arn=profiles.arns[m.id], profile=m.profile)
            for m in plan.chat_models
        },
        tiers=dict(config.tiers.items()),
        default_tier=config.default_tier,
        default_max_tokens=config.api.default_max_tokens,
        max_tokens_limit=config.api.max_tokens_limit,
        guardrail=GuardrailRef(arn=guardrail.arn, version=guardrail.version),
        log_prompts=config.runtime.log_prompts,
        limits=plan.request_limits(),
        budget=plan.time_budget(),
    )


class ChatEndpoint(Construct):
    """``POST /chat`` and ``GET /models``: the chat function behind the stage's REST API."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        plan: StagePlan,
        code: lambda_.Code,
        api: KitRestApi,
        profiles: ProfileHandles,
        guardrail: GuardrailHandle,
    ) -> None:
        super().__init__(scope, construct_id)
        # Changes whenever a value read from the Platform or Guardrails stack may change,
        # so the function and its policy are updated (and re-read them) in the same deploy.
        revision = digest(profiles.revision, guardrail.revision)
        self.handler = api_handler_function(
            self,
            plan=plan,
            code=code,
            handler=HANDLER,
            service="chat",
            settings=chat_settings(plan, profiles=profiles, guardrail=guardrail),
            upstream=revision,
            log_logical_id=LOG_GROUP_LOGICAL_ID,
        )
        self._grant(plan, profiles=profiles, guardrail=guardrail, revision=revision)
        api.add_route(
            "/chat",
            "POST",
            self.handler.function,
            request_schema=api_gateway_schema(ChatRequest),
            model_name="ChatRequest",
        )
        api.add_route("/models", "GET", self.handler.function)

    @property
    def role(self) -> iam.IRole:
        return self.handler.role

    def _grant(
        self,
        plan: StagePlan,
        *,
        profiles: ProfileHandles,
        guardrail: GuardrailHandle,
        revision: str,
    ) -> None:
        for statement in bedrock_invoke_statements(
            models=plan.chat_models,
            region=plan.region,
            application_profile_arns=list(profiles.arns.values()),
            guardrail_arn=guardrail.arn,
            guardrail_version_arn=guardrail.version_arn,
            # No route streams yet (POST /chat answers whole): the streaming endpoint grants
            # InvokeModelWithResponseStream when it lands.
            streaming=False,
            revision=revision,
        ):
            self.handler.role.add_to_policy(statement)
