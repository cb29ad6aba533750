"""The chat REST API: IAM-authorized, validated, throttled and access-logged."""

from __future__ import annotations

from aws_cdk import RemovalPolicy
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from constructs import Construct

from stacks.config import StageConfig
from stacks.core.function import retention
from stacks.nag import acknowledge

# JSON schema API Gateway checks before Lambda runs (shape only; the runtime checks the rest).
CHAT_REQUEST_SCHEMA = apigw.JsonSchema(
    schema=apigw.JsonSchemaVersion.DRAFT4,
    type=apigw.JsonSchemaType.OBJECT,
    required=["messages"],
    properties={
        "messages": apigw.JsonSchema(type=apigw.JsonSchemaType.ARRAY, min_items=1),
        "model": apigw.JsonSchema(type=apigw.JsonSchemaType.STRING),
        "tier": apigw.JsonSchema(type=apigw.JsonSchemaType.STRING),
        "max_tokens": apigw.JsonSchema(type=apigw.JsonSchemaType.INTEGER),
    },
)


class ChatApi(Construct):
    """``POST /chat`` (and ``GET /models``) on a regional REST API in front of one function."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: StageConfig,
        handler: lambda_.IFunction,
    ) -> None:
        super().__init__(scope, construct_id)
        api_cfg = config.api
        self.access_logs = logs.LogGroup(
            self,
            "AccessLogs",
            retention=retention(config.runtime.log_retention_days),
            removal_policy=RemovalPolicy.RETAIN,
        )
        self.api = apigw.RestApi(
            self,
            "Api",
            rest_api_name=f"kit-{config.name}-chat",
            description=f"bedrock-cdk-kit chat API ({config.name})",
            endpoint_types=[apigw.EndpointType.REGIONAL],
            cloud_watch_role=True,
            cloud_watch_role_removal_policy=RemovalPolicy.RETAIN,
            default_method_options=apigw.MethodOptions(
                authorization_type=apigw.AuthorizationType.IAM
            ),
            deploy_options=apigw.StageOptions(
                stage_name=config.name,
                tracing_enabled=True,
                logging_level=apigw.MethodLoggingLevel.ERROR,
                data_trace_enabled=False,  # request bodies hold prompts: never log them here
                metrics_enabled=True,
                throttling_rate_limit=api_cfg.throttle_rate_limit,
                throttling_burst_limit=api_cfg.throttle_burst_limit,
                access_log_destination=apigw.LogGroupLogDestination(self.access_logs),
                access_log_format=apigw.AccessLogFormat.json_with_standard_fields(
                    caller=True,
                    http_method=True,
                    ip=True,
                    protocol=True,
                    request_time=True,
                    resource_path=True,
                    response_length=True,
                    status=True,
                    user=True,
                ),
            ),
        )
        validator = self.api.add_request_validator(
            "BodyValidator", validate_request_body=True, validate_request_parameters=True
        )
        chat_model = self.api.add_model(
            "ChatRequest",
            content_type="application/json",
            schema=CHAT_REQUEST_SCHEMA,
            model_name="ChatRequest",
        )
        integration = apigw.LambdaIntegration(handler, proxy=True)
        self.api.root.add_resource("chat").add_method(
            "POST",
            integration,
            request_validator=validator,
            request_models={"application/json": chat_model},
        )
        self.api.root.add_resource("models").add_method(
            "GET", integration, request_validator=validator
        )
        self._acknowledge()

    def _acknowledge(self) -> None:
        acknowledge(
            self.api,
            "AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/"
            "AmazonAPIGatewayPushToCloudWatchLogs]",
            "API Gateway's account-level logging role needs this AWS-managed policy; it "
            "grants only CloudWatch Logs writes and is the documented setup for execution logs.",
        )
        acknowledge(
            self.api,
            "AwsSolutions-APIG3",
            "WAF is attached by the hardening issue; this API accepts only SigV4-signed "
            "IAM callers and is throttled per stage, so anonymous floods are rejected before "
            "Lambda.",
        )
        acknowledge(
            self.api,
            "AwsSolutions-COG4",
            "The API uses IAM (SigV4) authorization on every method, which the kit "
            "prefers for service-to-service callers; Cognito is an optional later addition.",
        )
