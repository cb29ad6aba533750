"""The RAG capability's endpoint: its function, settings, grants and route."""

from __future__ import annotations

from aws_cdk import aws_lambda as lambda_
from constructs import Construct

from kit_runtime.contracts.knowledge import RagRequest, RagSettings
from stacks.api.chat_endpoint import chat_model_statements, chat_settings
from stacks.api.endpoint import ApiEndpoint
from stacks.api.rest_api import KitRestApi
from stacks.api.retrieve_endpoint import retrieve_settings, retrieve_statement
from stacks.config import StagePlan
from stacks.core.references import (
    GuardrailHandles,
    KnowledgeHandles,
    NetworkHandles,
    ProfileHandles,
)

HANDLER = "handlers.rag.handler"
# Pinned: the RAG log group keeps the id it was first deployed with.
LOG_GROUP_LOGICAL_ID = "RagLogs4C61B0E9"


def rag_settings(
    plan: StagePlan,
    *,
    profiles: ProfileHandles,
    guardrails: GuardrailHandles,
    knowledge: KnowledgeHandles,
    grounding_check: bool | None = None,
) -> RagSettings:
    """The RAG function's settings: the retrieval settings and the chat runtime's.

    ``grounding_check`` sends passages and question as ``guardContent`` (qualifiers
    ``grounding_source`` and ``query``) for the guardrail's contextual grounding policy;
    default: on exactly when the stage's default guardrail has one (a request naming another
    guardrail follows that one's policy: ``GuardrailRef.grounding``).
    """
    return RagSettings(
        retrieval=retrieve_settings(plan, knowledge=knowledge),
        chat=chat_settings(plan, profiles=profiles, guardrails=guardrails),
        grounding_check=guardrails.default_handle.contextual_grounding
        if grounding_check is None
        else grounding_check,
    )


class RagEndpoint(ApiEndpoint):
    """``POST /rag``: a grounded, cited answer (Retrieve, then Converse through the guardrail)."""

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
        knowledge: KnowledgeHandles,
        network: NetworkHandles | None = None,
    ) -> None:
        super().__init__(
            scope,
            construct_id,
            api=api,
            upstream=(profiles.revision, guardrails.revision, knowledge.revision),
            network=network,
        )
        self.handler = self._build_function(
            plan,
            code,
            handler=HANDLER,
            service="rag",
            settings=rag_settings(
                plan, profiles=profiles, guardrails=guardrails, knowledge=knowledge
            ),
            log_logical_id=LOG_GROUP_LOGICAL_ID,
        )
        self._grant(
            [
                retrieve_statement(knowledge, revision=self.revision),
                *chat_model_statements(
                    plan, profiles=profiles, guardrails=guardrails, revision=self.revision
                ),
            ]
        )
        self._add_route("/rag", "POST", request=RagRequest)
