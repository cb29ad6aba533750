"""API stack: the chat handler and its REST API."""

from __future__ import annotations

from aws_cdk import CfnOutput, Stack
from aws_cdk import aws_lambda as lambda_
from constructs import Construct

from stacks.catalog import Catalog
from stacks.config import StageConfig
from stacks.constructs.chat_api import ChatApi
from stacks.constructs.guardrail import StageGuardrail
from stacks.constructs.inference_profiles import ApplicationProfiles
from stacks.core.function import KitFunction
from stacks.iam import bedrock_invoke_statements
from stacks.runtime_settings import runtime_settings


class ApiStack(Stack):
    """Chat endpoint: REST API -> thin handler -> kit runtime -> Bedrock (through the guardrail)."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: StageConfig,
        catalog: Catalog,
        code: lambda_.Code,
        profiles: ApplicationProfiles,
        guardrail: StageGuardrail,
        **kwargs,
    ) -> None:
        super().__init__(scope, construct_id, **kwargs)
        chat_models = config.chat_models(catalog)
        self.chat = KitFunction(
            self,
            "Chat",
            config=config,
            code=code,
            handler="handlers.chat.handler",
            description="bedrock-cdk-kit chat handler",
            service="chat",
            reserved_concurrency=config.runtime.reserved_concurrency,
            environment={
                "KIT_SETTINGS": Stack.of(self).to_json_string(
                    runtime_settings(
                        config=config,
                        catalog=catalog,
                        profiles=profiles,
                        guardrail=guardrail,
                    )
                ),
            },
        )
        # Grants are made here, where the pieces meet; the constructs stay unaware of each other.
        for statement in bedrock_invoke_statements(
            catalog=catalog,
            models=chat_models,
            region=config.resolved_region,
            application_profile_arns=profiles.arns,
            guardrail_arn=guardrail.guardrail_arn,
            guardrail_version_arn=guardrail.version_arn,
        ):
            self.chat.role.add_to_policy(statement)
        self.api = ChatApi(self, "ChatApi", config=config, handler=self.chat.function)
        CfnOutput(
            self,
            "ChatUrl",
            value=self.api.api.url_for_path("/chat"),
            description="POST a chat request here (SigV4-signed, service execute-api)",
        )
