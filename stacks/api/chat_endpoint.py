"""The chat capability's endpoint: its function, settings, grants and routes."""

from __future__ import annotations

from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from constructs import Construct

from kit_runtime.contracts.chat_api import ChatRequest
from stacks.api.chat_settings import chat_settings
from stacks.api.endpoint import ApiEndpoint
from stacks.api.rest_api import KitRestApi
from stacks.config import StagePlan
from stacks.core.bedrock_iam import bedrock_invoke_statements
from stacks.core.references import GuardrailHandles, NetworkHandles, ProfileHandles

__all__ = ["ChatEndpoint", "chat_model_statements", "chat_settings"]

HANDLER = "handlers.chat.handler"
# Pinned: the chat log group keeps the id it was first deployed with.
LOG_GROUP_LOGICAL_ID = "ChatLogs5E9385DA"


def chat_model_statements(
    plan: StagePlan, *, profiles: ProfileHandles, guardrails: GuardrailHandles, revision: str
) -> list[iam.PolicyStatement]:
    """Converse with the stage's chat models through one of its guardrails (also the RAG
    function's)."""
    return bedrock_invoke_statements(
        models=plan.chat_models,
        region=plan.region,
        application_profile_arns=list(profiles.arns.values()),
        guardrail_arns=guardrails.arns,
        guardrail_version_arns=guardrails.version_arns,
        guardrail_key_arns=guardrails.key_arns,
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
        guardrails: GuardrailHandles,
        network: NetworkHandles | None = None,
    ) -> None:
        super().__init__(
            scope,
            construct_id,
            api=api,
            upstream=(profiles.revision, guardrails.revision),
            network=network,
        )
        self.handler = self._build_function(
            plan,
            code,
            handler=HANDLER,
            service="chat",
            settings=chat_settings(plan, profiles=profiles, guardrails=guardrails),
            log_logical_id=LOG_GROUP_LOGICAL_ID,
        )
        self._grant(
            chat_model_statements(
                plan, profiles=profiles, guardrails=guardrails, revision=self.revision
            )
        )
        self._add_route("/chat", "POST", request=ChatRequest)
        self._add_route("/models", "GET")
