"""The RAG capability's endpoint: its function, settings, grants and route."""

from __future__ import annotations

from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from constructs import Construct

from kit_runtime.contracts.knowledge import RagRequest, RagSettings
from stacks.api.chat_endpoint import chat_settings
from stacks.api.handler_function import api_handler_function
from stacks.api.request_model import api_gateway_schema
from stacks.api.rest_api import KitRestApi
from stacks.api.retrieve_endpoint import retrieve_settings, retrieve_statement
from stacks.config import StagePlan
from stacks.core.bedrock_iam import bedrock_invoke_statements
from stacks.core.naming import digest
from stacks.core.references import GuardrailHandle, KnowledgeHandles, ProfileHandles

HANDLER = "handlers.rag.handler"
# Pinned: the RAG log group keeps the id it was first deployed with.
LOG_GROUP_LOGICAL_ID = "RagLogs4C61B0E9"


def rag_settings(
    plan: StagePlan,
    *,
    profiles: ProfileHandles,
    guardrail: GuardrailHandle,
    knowledge: KnowledgeHandles,
    grounding_check: bool = False,
) -> RagSettings:
    """The RAG function's settings: the retrieval settings and the chat runtime's.

    ``grounding_check`` sends passages and question as ``guardContent`` for a guardrail with a
    contextual grounding policy (off until the guardrail config offers that policy).
    """
    return RagSettings(
        retrieval=retrieve_settings(plan, knowledge=knowledge),
        chat=chat_settings(plan, profiles=profiles, guardrail=guardrail),
        grounding_check=grounding_check,
    )


class RagEndpoint(Construct):
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
    ) -> None:
        super().__init__(scope, construct_id)
        # Changes whenever a value read from another stack may change, so the function and
        # its policy are updated (and re-read them) in the same deploy.
        revision = digest(profiles.revision, guardrail.revision, knowledge.revision)
        self.handler = api_handler_function(
            self,
            plan=plan,
            code=code,
            handler=HANDLER,
            service="rag",
            settings=rag_settings(
                plan, profiles=profiles, guardrail=guardrail, knowledge=knowledge
            ),
            upstream=revision,
            log_logical_id=LOG_GROUP_LOGICAL_ID,
        )
        self.handler.role.add_to_policy(retrieve_statement(knowledge, revision=revision))
        for statement in bedrock_invoke_statements(
            models=plan.chat_models,
            region=plan.region,
            application_profile_arns=list(profiles.arns.values()),
            guardrail_arn=guardrail.arn,
            guardrail_version_arn=guardrail.version_arn,
            streaming=False,  # POST /rag answers whole (Converse)
            revision=revision,
        ):
            self.handler.role.add_to_policy(statement)
        api.add_route(
            "/rag",
            "POST",
            self.handler.function,
            request_schema=api_gateway_schema(RagRequest),
            model_name="RagRequest",
        )

    @property
    def role(self) -> iam.IRole:
        return self.handler.role
