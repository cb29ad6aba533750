"""The streaming chat endpoint: ``POST /chat/stream`` through API Gateway response streaming.

Python Lambda cannot stream a response itself, so the function runs behind the AWS Lambda Web
Adapter layer (``stacks/api/web_adapter.yaml``): Lambda starts the layer's ``/opt/bootstrap``
(``AWS_LAMBDA_EXEC_WRAPPER``), which runs the asset's ``run.sh``: a web server on
``AWS_LWA_PORT`` serving :mod:`handlers.chat_stream`; the adapter forwards each invocation to it
and streams the answer (``AWS_LWA_INVOKE_MODE=response_stream``). The REST API invokes the
function with ``InvokeWithResponseStream`` (``ResponseTransferMode: STREAM``).
"""

from __future__ import annotations

from aws_cdk import Duration
from aws_cdk import aws_lambda as lambda_
from constructs import Construct

from kit_runtime.contracts.chat_api import ChatRequest
from stacks.api.chat_settings import chat_settings
from stacks.api.endpoint import ApiEndpoint
from stacks.api.handler_function import api_handler_function
from stacks.api.rest_api import KitRestApi
from stacks.api.web_adapter import web_adapter_layers
from stacks.config import StagePlan
from stacks.core.bedrock_iam import bedrock_invoke_statements
from stacks.core.lambda_asset import ARCHITECTURE
from stacks.core.references import GuardrailHandles, NetworkHandles, ProfileHandles

STARTUP_SCRIPT = "run.sh"
ADAPTER_PORT = "8080"
# Pinned: the stream log group keeps the id it was first deployed with.
LOG_GROUP_LOGICAL_ID = "ChatStreamLogs8C3A51D2"
STREAM_FUNCTION_TIMEOUT_SECONDS = 300
"""How long one answer may stream. API Gateway allows a streamed response 15 minutes and a
regional endpoint 5 minutes of silence (API Gateway developer guide, "Stream the integration
response", checked 2026-12-01); a chat answer that streams for 5 minutes is a runaway one."""


def adapter_environment() -> dict[str, str]:
    """The adapter's settings (github.com/aws/aws-lambda-web-adapter README, 1.1.0, 2026-12-01)."""
    return {
        "AWS_LAMBDA_EXEC_WRAPPER": "/opt/bootstrap",
        "AWS_LWA_INVOKE_MODE": "response_stream",
        "AWS_LWA_PORT": ADAPTER_PORT,
        # Ready once the port accepts connections: the app has no health route to serve.
        "AWS_LWA_READINESS_CHECK_PROTOCOL": "tcp",
        # The adapter does not give the app process a trace id (_X_AMZN_TRACE_ID;
        # aws/aws-lambda-web-adapter#312), so the X-Ray SDK would fail every Bedrock call's
        # subsegment: the stream function is traced by Lambda only.
        "POWERTOOLS_TRACE_DISABLED": "true",
    }


class ChatStreamEndpoint(ApiEndpoint):
    """``POST /chat/stream``: server-sent events from the streaming chat function."""

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
        layer_arn = web_adapter_layers().arn(plan.region, ARCHITECTURE.name)
        self.handler = api_handler_function(
            self,
            plan=plan,
            code=code,
            handler=STARTUP_SCRIPT,
            service="chat-stream",
            settings=chat_settings(plan, profiles=profiles, guardrails=guardrails),
            upstream=self.revision,
            log_logical_id=LOG_GROUP_LOGICAL_ID,
            timeout_seconds=STREAM_FUNCTION_TIMEOUT_SECONDS,
            layers=(lambda_.LayerVersion.from_layer_version_arn(self, "WebAdapter", layer_arn),),
            environment=adapter_environment(),
            placement=self.placement,
        )
        self._grant(
            bedrock_invoke_statements(
                models=plan.chat_models,
                region=plan.region,
                application_profile_arns=list(profiles.arns.values()),
                guardrail_arns=guardrails.arns,
                guardrail_version_arns=guardrails.version_arns,
                guardrail_key_arns=guardrails.key_arns,
                streaming=True,
                revision=self.revision,
            )
        )
        # In STREAM mode the integration timeout bounds the whole answer: the function's.
        self._add_route(
            "/chat/stream",
            "POST",
            request=ChatRequest,
            stream=True,
            timeout=Duration.seconds(STREAM_FUNCTION_TIMEOUT_SECONDS),
        )
