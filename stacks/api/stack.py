"""API stack: the stage's REST API and one endpoint per capability."""

from __future__ import annotations

from typing import Any

from aws_cdk import CfnOutput, Stack
from aws_cdk import aws_lambda as lambda_
from constructs import Construct

from stacks.api.chat_endpoint import ChatEndpoint
from stacks.api.rest_api import KitRestApi
from stacks.config import StagePlan
from stacks.core.references import GuardrailHandle, ProfileHandles


class ApiStack(Stack):
    """REST API -> thin handlers -> kit runtime -> Bedrock (through the guardrail).

    Handlers only: nothing here is stateful but the retained log groups, so the stack can be
    replaced freely.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        plan: StagePlan,
        code: lambda_.Code,
        profiles: ProfileHandles,
        guardrail: GuardrailHandle,
        **kwargs: Any,
    ) -> None:
        super().__init__(scope, construct_id, **kwargs)
        self.rest_api = KitRestApi(self, "RestApi", plan=plan)
        self.chat = ChatEndpoint(
            self,
            "Chat",
            plan=plan,
            code=code,
            api=self.rest_api,
            profiles=profiles,
            guardrail=guardrail,
        )
        CfnOutput(
            self,
            "ApiUrl",
            value=self.rest_api.url,
            description="The stage's API base URL (SigV4-signed, service execute-api)",
        )
        CfnOutput(
            self,
            "ChatUrl",
            value=self.rest_api.api.url_for_path("/chat"),
            description="POST a chat request here (SigV4-signed, service execute-api)",
        )
