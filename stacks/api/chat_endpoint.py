"""The chat capability's endpoint: its function, settings, grants and routes."""

from __future__ import annotations

from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from constructs import Construct

from kit_runtime.contracts.chat import ChatSettings, GuardrailRef, ModelRoute
from kit_runtime.contracts.chat_api import ChatRequest
from stacks.api.endpoint import ApiEndpoint
from stacks.api.rest_api import KitRestApi
from stacks.config import StagePlan
from stacks.core.bedrock_iam import bedrock_invoke_statements
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
        tiers=config.tiers.primaries(),
        fallbacks=config.tiers.fallbacks(),
        allow_fallback_for_named_models=config.runtime.allow_fallback_for_named_models,
        default_tier=config.default_tier,
        default_max_tokens=config.api.default_max_tokens,
        max_tokens_limit=config.api.max_tokens_limit,
        guardrail=GuardrailRef(arn=guardrail.arn, version=guardrail.version),
        log_prompts=config.runtime.log_prompts,
        limits=plan.request_limits(),
        budget=plan.time_budget(),
    )


def chat_model_statements(
    plan: StagePlan, *, profiles: ProfileHandles, guardrail: GuardrailHandle, revision: str
) -> list[iam.PolicyStatement]:
    """Converse with the stage's chat models through its guardrail (also the RAG function's)."""
    return bedrock_invoke_statements(
        models=plan.chat_models,
        region=plan.region,
        application_profile_arns=list(profiles.arns.values()),
        guardrail_arn=guardrail.arn,
        guardrail_version_arn=guardrail.version_arn,
        # No route streams yet (POST /chat and POST /rag answer whole): the streaming endpoint
        # grants InvokeModelWithResponseStream when it lands.
        streaming=False,
        revision=revision,
    )


class ChatEndpoint(ApiEndpoint):
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
        super().__init__(
            scope, construct_id, api=api, upstream=(profiles.revision, guardrail.revision)
        )
        self.handler = self._build_function(
            plan,
            code,
            handler=HANDLER,
            service="chat",
            settings=chat_settings(plan, profiles=profiles, guardrail=guardrail),
            log_logical_id=LOG_GROUP_LOGICAL_ID,
        )
        self._grant(
            chat_model_statements(
                plan, profiles=profiles, guardrail=guardrail, revision=self.revision
            )
        )
        self._add_route("/chat", "POST", request=ChatRequest)
        self._add_route("/models", "GET")
