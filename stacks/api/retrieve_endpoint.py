"""The retrieve capability's endpoint: its function, settings, grants and route."""

from __future__ import annotations

from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from constructs import Construct

from kit_runtime.contracts.knowledge import (
    MAX_QUERY_CHARS,
    KnowledgeBaseRoute,
    KnowledgeLimits,
    RetrieveRequest,
    RetrieveSettings,
)
from stacks.api.endpoint import ApiEndpoint
from stacks.api.rest_api import KitRestApi
from stacks.config import StagePlan
from stacks.core.references import KnowledgeHandles, NetworkHandles
from stacks.core.settings import bounded

HANDLER = "handlers.retrieve.handler"
# Pinned: the retrieve log group keeps the id it was first deployed with.
LOG_GROUP_LOGICAL_ID = "RetrieveLogsA7D3F1C2"
# KnowledgeBaseId: [0-9a-zA-Z]{10} (botocore bedrock-agent-runtime KnowledgeBaseIdentifier,
# checked 2026-12-01): the longest value an id token resolves to.
KNOWLEDGE_BASE_ID_MAX = 10


def knowledge_routes(plan: StagePlan, knowledge: KnowledgeHandles) -> dict[str, KnowledgeBaseRoute]:
    """Each configured knowledge base by name: its id, tenant key and result counts.

    Raises
    ------
    ValueError
        A configured knowledge base has no handle (the Knowledge stack did not build it).
    """
    missing = sorted({kb.name for kb in plan.knowledge_bases} - set(knowledge.bases))
    if missing:
        raise ValueError(f"knowledge bases {missing} are configured but have no handle")
    return {
        kb.name: KnowledgeBaseRoute(
            id=bounded(knowledge.bases[kb.name].id, KNOWLEDGE_BASE_ID_MAX),
            tenant_key=kb.tenant_key,
            default_results=kb.retrieval.default_results,
            max_results=kb.retrieval.max_results,
        )
        for kb in plan.knowledge_bases
    }


def retrieve_settings(plan: StagePlan, *, knowledge: KnowledgeHandles) -> RetrieveSettings:
    """The retrieve function's settings (also the retrieval half of the RAG function's)."""
    limits = plan.config.api.limits
    return RetrieveSettings(
        stage=plan.name,
        knowledge_bases=knowledge_routes(plan, knowledge),
        limits=KnowledgeLimits(
            max_body_bytes=limits.max_body_bytes,
            # A query is one text block: the chat limit on a block, within Retrieve's own.
            max_query_chars=min(limits.max_text_chars, MAX_QUERY_CHARS),
        ),
        budget=plan.time_budget(),
        log_prompts=plan.config.runtime.log_prompts,
    )


def retrieve_statement(knowledge: KnowledgeHandles, *, revision: str) -> iam.PolicyStatement:
    """``bedrock:Retrieve`` on exactly the stage's knowledge bases (and nothing else)."""
    return iam.PolicyStatement(
        sid=f"RetrieveFromStageKnowledgeBases{revision}",
        actions=["bedrock:Retrieve"],
        resources=[handle.arn for _, handle in sorted(knowledge.bases.items())],
    )


class RetrieveEndpoint(ApiEndpoint):
    """``POST /retrieve``: chunks, scores and source URIs from the stage's knowledge bases."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        plan: StagePlan,
        code: lambda_.Code,
        api: KitRestApi,
        knowledge: KnowledgeHandles,
        network: NetworkHandles | None = None,
    ) -> None:
        super().__init__(
            scope, construct_id, api=api, upstream=(knowledge.revision,), network=network
        )
        self.handler = self._build_function(
            plan,
            code,
            handler=HANDLER,
            service="retrieve",
            settings=retrieve_settings(plan, knowledge=knowledge),
            log_logical_id=LOG_GROUP_LOGICAL_ID,
        )
        self._grant([retrieve_statement(knowledge, revision=self.revision)])
        self._add_route("/retrieve", "POST", request=RetrieveRequest)
