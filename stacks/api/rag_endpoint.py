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
from stacks.core.references import GuardrailHandle, KnowledgeHandles, NetworkHandles, ProfileHandles

HANDLER = "handlers.rag.handler"
# Pinned: the RAG log group keeps the id it was first deployed with.
LOG_GROUP_LOGICAL_ID = "RagLogs4C61B0E9"


def rag_settings(
    plan: StagePlan,
    *,
    profiles: ProfileHandles,
    guardrail: GuardrailHandle,
    knowledge: KnowledgeHandles,
    grounding_check: bool | None = None,
) -> RagSettings:
    """The RAG function's settings: the retrieval settings and the chat runtime's.

    ``grounding_check`` sends passages and question as ``guardContent`` (qualifiers
    ``grounding_source`` and ``query``) for the guardrail's contextual grounding policy;
    default: on exactly when the stage's guardrail has one (``guardrail.contextual_grounding``).
    """
    return RagSettings(
        retrieval=retrieve_settings(plan, knowledge=knowledge),
        chat=chat_settings(plan, profiles=profiles, guardrail=guardrail),
        grounding_check=guardrail.contextual_grounding
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
        guardrail: GuardrailHandle,
        knowledge: KnowledgeHandles,
        network: NetworkHandles | None = None,
    ) -> None:
        super().__init__(
            scope,
            construct_id,
            api=api,
            upstream=(profiles.revision, guardrail.revision, knowledge.revision),
            network=network,
        )
        self.handler = self._build_function(
            plan,
            code,
            handler=HANDLER,
            service="rag",
            settings=rag_settings(
                plan, profiles=profiles, guardrail=guardrail, knowledge=knowledge
            ),
            log_logical_id=LOG_GROUP_LOGICAL_ID,
        )
        self._grant(
            [
                retrieve_statement(knowledge, revision=self.revision),
                *chat_model_statements(
                    plan, profiles=profiles, guardrail=guardrail, revision=self.revision
                ),
            ]
        )
        self._add_route("/rag", "POST", request=RagRequest)
