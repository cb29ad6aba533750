"""API stack: the stage's REST API and one endpoint per capability."""

from __future__ import annotations

from typing import Any

from aws_cdk import CfnOutput, Stack
from aws_cdk import aws_lambda as lambda_
from constructs import Construct

from stacks.api.chat_endpoint import ChatEndpoint
from stacks.api.chat_stream_endpoint import ChatStreamEndpoint
from stacks.api.guardrail_check_endpoint import GuardrailCheckEndpoint
from stacks.api.rag_endpoint import RagEndpoint
from stacks.api.rest_api import KitRestApi
from stacks.api.retrieve_endpoint import RetrieveEndpoint
from stacks.api.waf import ApiWebAcl
from stacks.config import StagePlan
from stacks.config.api import waf_enabled
from stacks.core.references import (
    GuardrailHandles,
    KnowledgeHandles,
    NetworkHandles,
    ProfileHandles,
)


class ApiStack(Stack):
    """REST API -> thin handlers -> kit runtime -> Bedrock (through the guardrail).

    Handlers only: nothing here is stateful but the retained log groups, so the stack can be
    replaced freely. ``knowledge`` (the stage's knowledge bases, when it has any) adds
    ``POST /rag`` and ``POST /retrieve``. ``network`` (a private stage's) makes the API PRIVATE,
    reachable only through the stage's ``execute-api`` endpoint; the functions' placement in
    the VPC is taken from it too. A web ACL guards the stage when ``api.waf`` says so (by
    default in production stages), private or not.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        plan: StagePlan,
        code: lambda_.Code,
        profiles: ProfileHandles,
        guardrails: GuardrailHandles,
        knowledge: KnowledgeHandles | None = None,
        network: NetworkHandles | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(scope, construct_id, **kwargs)
        self.network = network
        self.rest_api = KitRestApi(self, "RestApi", plan=plan, network=network)
        self.web_acl: ApiWebAcl | None = None
        if waf_enabled(plan.config.api, production=plan.production):
            self.web_acl = ApiWebAcl(self, "WebAcl", plan=plan, api=self.rest_api.api)
        self.chat = ChatEndpoint(
            self,
            "Chat",
            plan=plan,
            code=code,
            api=self.rest_api,
            profiles=profiles,
            guardrails=guardrails,
            network=network,
        )
        self.chat_stream = ChatStreamEndpoint(
            self,
            "ChatStream",
            plan=plan,
            code=code,
            api=self.rest_api,
            profiles=profiles,
            guardrails=guardrails,
            network=network,
        )
        self.guardrail_check = GuardrailCheckEndpoint(
            self,
            "GuardrailCheck",
            plan=plan,
            code=code,
            api=self.rest_api,
            guardrails=guardrails,
            network=network,
        )
        self.rag: RagEndpoint | None = None
        self.retrieve: RetrieveEndpoint | None = None
        if knowledge is not None and knowledge.bases:
            self._knowledge_endpoints(
                plan,
                code=code,
                profiles=profiles,
                guardrails=guardrails,
                knowledge=knowledge,
                network=network,
            )
        CfnOutput(
            self,
            "ApiUrl",
            value=self.rest_api.url,
            description="The stage's API base URL (SigV4-signed, service execute-api)"
            + ("; private: resolves where the endpoint's private DNS answers" if network else ""),
        )
        alias = self.rest_api.endpoint_alias_url
        if alias is not None:
            CfnOutput(
                self,
                "ApiEndpointAliasUrl",
                value=alias,
                description="The private API through its VPC endpoint's Route 53 alias, for "
                "peered, transit or VPN clients without the VPC's private DNS (API_URL=alias)",
            )
        self._url_output("ChatUrl", "/chat", "POST a chat request here")
        self._url_output("ChatStreamUrl", "/chat/stream", "POST a chat request to stream here")
        self._url_output("GuardrailCheckUrl", "/guardrail/check", "POST a text to judge here")

    def _knowledge_endpoints(
        self,
        plan: StagePlan,
        *,
        code: lambda_.Code,
        profiles: ProfileHandles,
        guardrails: GuardrailHandles,
        knowledge: KnowledgeHandles,
        network: NetworkHandles | None,
    ) -> None:
        self.rag = RagEndpoint(
            self,
            "Rag",
            plan=plan,
            code=code,
            api=self.rest_api,
            profiles=profiles,
            guardrails=guardrails,
            knowledge=knowledge,
            network=network,
        )
        self.retrieve = RetrieveEndpoint(
            self,
            "Retrieve",
            plan=plan,
            code=code,
            api=self.rest_api,
            knowledge=knowledge,
            network=network,
        )
        self._url_output("RagUrl", "/rag", "POST a question for a knowledge base here")
        self._url_output("RetrieveUrl", "/retrieve", "POST a knowledge-base query here")

    def _url_output(self, name: str, path: str, what: str) -> None:
        CfnOutput(
            self,
            name,
            value=self.rest_api.api.url_for_path(path),
            description=f"{what} (SigV4-signed, service execute-api)",
        )
