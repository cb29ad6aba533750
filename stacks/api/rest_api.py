"""The stage's one REST API: auth, throttling, access logs, validation, JSON error bodies.

Capabilities add their routes with :meth:`KitRestApi.add_route`, each backed by any function.
Later issues attach WAF and the private endpoint here.
"""

from __future__ import annotations

import json
from typing import Any

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_lambda as lambda_
from constructs import Construct

from stacks.config import StagePlan
from stacks.core.logs import retained_log_group
from stacks.core.nag import acknowledge
from stacks.core.naming import resource_name

# The gateway's own refusals (missing signature, throttling, integration timeout) in the
# kit's error shape, so clients parse one format whoever answered. Gateway response templates
# support only variable substitution (no $util): `messageString` is already a quoted string.
ERROR_TEMPLATE = (
    '{"error": {"code": "$context.error.responseType", "message": $context.error.messageString}'
    ', "request_id": "$context.requestId"}'
)
# A body API Gateway's model rejects: its validation text may hold quotes, which a template
# cannot escape, so the answer says what to do instead of quoting it.
BAD_BODY_TEMPLATE = (
    '{"error": {"code": "invalid_request", "message": "the request body does not match the '
    'API schema (checked by API Gateway); see the API section of the README or GET /models"}'
    ', "request_id": "$context.requestId"}'
)
# Pinned: the access log group keeps the id it was first deployed with.
ACCESS_LOGS_LOGICAL_ID = "ChatApiAccessLogs06A21BFA"
# (response type, status override, template): a body the model rejects answers 422 like the
# handler's own schema errors, whichever of the two caught it.
_GATEWAY_RESPONSES = {
    "BadRequestBody": (apigw.ResponseType.BAD_REQUEST_BODY, "422", BAD_BODY_TEMPLATE),
    "Default4xx": (apigw.ResponseType.DEFAULT_4_XX, None, ERROR_TEMPLATE),
    "Default5xx": (apigw.ResponseType.DEFAULT_5_XX, None, ERROR_TEMPLATE),
    "IntegrationTimeout": (apigw.ResponseType.INTEGRATION_TIMEOUT, None, ERROR_TEMPLATE),
}


class KitRestApi(Construct):
    """A regional REST API, IAM-authorized, validated, throttled and access-logged."""

    def __init__(self, scope: Construct, construct_id: str, *, plan: StagePlan) -> None:
        super().__init__(scope, construct_id)
        self._plan = plan
        api_cfg = plan.config.api
        self.access_logs = retained_log_group(
            self,
            "AccessLogs",
            days=plan.config.runtime.log_retention_days,
            logical_id=ACCESS_LOGS_LOGICAL_ID,
        )
        self.api = apigw.RestApi(
            self,
            "Api",
            rest_api_name=resource_name(plan.kit_name, plan.name, "api", max_length=128),
            description=f"bedrock-cdk-kit API ({plan.name})",
            endpoint_types=[apigw.EndpointType.REGIONAL],
            cloud_watch_role=True,
            cloud_watch_role_removal_policy=RemovalPolicy.RETAIN,
            default_method_options=apigw.MethodOptions(
                authorization_type=apigw.AuthorizationType.IAM
            ),
            deploy_options=apigw.StageOptions(
                stage_name=plan.name,
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
        self.validator = self.api.add_request_validator(
            "BodyValidator", validate_request_body=True, validate_request_parameters=True
        )
        for construct_name, (response_type, status, template) in _GATEWAY_RESPONSES.items():
            self.api.add_gateway_response(
                construct_name,
                type=response_type,
                status_code=status,
                templates={"application/json": template},
            )
        self._acknowledge()

    def add_route(
        self,
        path: str,
        method: str,
        handler: lambda_.IFunction,
        *,
        request_schema: dict[str, Any] | None = None,
        model_name: str | None = None,
        stream: bool = False,
        timeout: Duration | None = None,
    ) -> apigw.Method:
        """Route ``method path`` to ``handler`` (Lambda proxy) with the stage's time budget.

        Parameters
        ----------
        path:
            e.g. ``/chat``; intermediate resources are created as needed.
        request_schema, model_name:
            A draft-4 JSON schema API Gateway checks ``application/json`` bodies against.
        stream:
            Response streaming: API Gateway invokes the function with
            ``InvokeWithResponseStream`` and passes its answer on as it comes
            (``ResponseTransferMode: STREAM``).
        timeout:
            The integration timeout; default: the stage's ``api.integration_timeout_seconds``.
            A streamed route needs its own: in STREAM mode it bounds the whole response (up to
            15 minutes, API Gateway developer guide, "response-streaming-http", checked
            2026-12-01), not the wait for the first byte.
        """
        resource = self.api.root.resource_for_path(path)
        integration = apigw.LambdaIntegration(
            handler,
            proxy=True,
            timeout=timeout or Duration.seconds(self._plan.config.api.integration_timeout_seconds),
            response_transfer_mode=apigw.ResponseTransferMode.STREAM if stream else None,
        )
        models: dict[str, apigw.IModel] = {}
        if request_schema is not None:
            name = model_name or "".join(p.capitalize() for p in path.split("/") if p) + "Request"
            # Routes sharing a request contract (POST /chat and /chat/stream) share its model.
            cfn = self.node.try_find_child(f"{name}Model")
            if cfn is None:
                cfn = apigw.CfnModel(
                    self,
                    f"{name}Model",
                    rest_api_id=self.api.rest_api_id,
                    name=name,
                    content_type="application/json",
                    schema=json.loads(json.dumps(request_schema)),
                )
                apigw.Model.from_model_name(self, f"{name}Ref", name)
                # A model referenced by name does not reach the deployment's hash: add the
                # schema, so a changed schema gives a new deployment validating against it.
                deployment = self.api.latest_deployment
                assert deployment is not None  # RestApi deploys by default (deploy=True)
                deployment.add_to_logical_id(request_schema)
            models["application/json"] = self.node.find_child(f"{name}Ref")  # type: ignore[assignment]
            route = resource.add_method(
                method,
                integration,
                request_validator=self.validator,
                request_models=models,
            )
            route.node.add_dependency(cfn)
            return route
        return resource.add_method(method, integration, request_validator=self.validator)

    @property
    def url(self) -> str:
        return self.api.url

    def _acknowledge(self) -> None:
        acknowledge(
            self.api,
            "NIST.800.53.R5-APIGWCacheEnabledAndEncrypted",
            "Every route is a POST whose answer depends on the whole body (a conversation, a "
            "query): a stage cache keyed on it would never hit, and a cache cluster bills per "
            "hour from the first one.",
        )
        acknowledge(
            self.api,
            "NIST.800.53.R5-APIGWSSLEnabled",
            "A client certificate authenticates API Gateway to an HTTP backend; every "
            "integration here is a Lambda proxy, called through the Lambda API with the "
            "stage's IAM role, so there is no backend to present it to.",
        )
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
            "Every method requires SigV4-signed IAM callers, so API Gateway refuses anonymous "
            "requests before any integration runs, and stage throttling bounds signed ones; "
            "a WAF web ACL (billed per ACL, rule and request) is a prod option of the "
            "hardening work, not a default.",
        )
        acknowledge(
            self.api,
            "AwsSolutions-COG4",
            "The API uses IAM (SigV4) authorization on every method, which the kit "
            "prefers for service-to-service callers; Cognito is an optional later addition.",
        )
