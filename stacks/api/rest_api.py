"""The stage's one REST API: auth, throttling, access logs, validation, JSON error bodies.

Capabilities add their routes with :meth:`KitRestApi.add_route`, each backed by any function.
In a private stage (a :class:`NetworkHandles` given) the API is PRIVATE: associated with the
stage's ``execute-api`` interface endpoint and callable only through it.
"""

from __future__ import annotations

import json
from typing import Any

from aws_cdk import Aws, Duration, RemovalPolicy
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from constructs import Construct

from stacks.config import StagePlan
from stacks.config.api import waf_enabled
from stacks.core.logs import retained_log_group
from stacks.core.nag import acknowledge
from stacks.core.naming import digest, resource_name
from stacks.core.references import NetworkHandles

# The service suffix of API Gateway's invoke-plane endpoint, com.amazonaws.<region>.execute-api
# (https://docs.aws.amazon.com/apigateway/latest/developerguide/apigateway-private-apis.html).
EXECUTE_API = "execute-api"

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


def execute_api_endpoint_id(network: NetworkHandles) -> str:
    """The id of the stage's ``execute-api`` endpoint; a private stage without one is a bug of
    the network stack (it derives its endpoints from what the stage enables)."""
    endpoint = network.endpoint_ids.get(EXECUTE_API)
    if endpoint is None:
        raise ValueError(
            f"the private stage's network has no {EXECUTE_API} endpoint (it has: "
            f"{', '.join(sorted(network.endpoint_ids)) or 'none'}); a private API needs one"
        )
    return endpoint


def private_api_policy(endpoint_id: str, *, revision: str) -> iam.PolicyDocument:
    """The resource policy of a private API: only through ``endpoint_id``, only for this account.

    The Allow names the account, not ``*``: for a caller in the API's account a resource policy
    Allow suffices on its own (API Gateway developer guide, "apigateway-authorization-flow",
    Table A, checked 2026-12-01), so ``*`` would let every signed identity in the account in
    whatever its IAM policies say. Naming the account leaves the decision to IAM (SigV4 and
    ``execute-api:Invoke`` in the caller's policies). The Deny refuses every request that did
    not come through the stage's endpoint, whoever signed it.
    """
    everything = "execute-api:/*"
    return iam.PolicyDocument(
        statements=[
            iam.PolicyStatement(
                sid="AccountCallersDecidedByIam",
                effect=iam.Effect.ALLOW,
                principals=[iam.AccountRootPrincipal()],
                actions=["execute-api:Invoke"],
                resources=[everything],
            ),
            iam.PolicyStatement(
                # The revision changes with the network's values, so an endpoint id read from
                # the network stack (a weak reference) is re-read in the same deploy.
                sid=f"OnlyThroughTheStageEndpoint{digest(revision)}",
                effect=iam.Effect.DENY,
                principals=[iam.AnyPrincipal()],
                actions=["execute-api:Invoke"],
                resources=[everything],
                conditions={"StringNotEquals": {"aws:SourceVpce": endpoint_id}},
            ),
        ]
    )


class KitRestApi(Construct):
    """The stage's REST API, IAM-authorized, validated, throttled and access-logged.

    Regional, or PRIVATE when ``network`` is given: associated with the ``execute-api``
    endpoint (which adds the Route 53 alias ``<api-id>-<vpce-id>.execute-api...``) and with a
    resource policy that refuses any other path.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        plan: StagePlan,
        network: NetworkHandles | None = None,
    ) -> None:
        super().__init__(scope, construct_id)
        self._plan = plan
        self.endpoint_id = execute_api_endpoint_id(network) if network is not None else None
        api_cfg = plan.config.api
        self.access_logs = retained_log_group(
            self,
            "AccessLogs",
            plan=plan,
            logical_id=ACCESS_LOGS_LOGICAL_ID,
        )
        self.api = apigw.RestApi(
            self,
            "Api",
            rest_api_name=resource_name(plan.kit_name, plan.name, "api", max_length=128),
            description=f"bedrock-cdk-kit API ({plan.name})",
            **self._endpoint(network),
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
        self._acknowledge(plan, waf=waf_enabled(api_cfg, production=plan.production))

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

    def _endpoint(self, network: NetworkHandles | None) -> dict[str, Any]:
        if network is None or self.endpoint_id is None:
            return {"endpoint_types": [apigw.EndpointType.REGIONAL]}
        endpoint = ec2.InterfaceVpcEndpoint.from_interface_vpc_endpoint_attributes(
            self, "ExecuteApiEndpoint", vpc_endpoint_id=self.endpoint_id, port=443
        )
        return {
            "endpoint_configuration": apigw.EndpointConfiguration(
                types=[apigw.EndpointType.PRIVATE], vpc_endpoints=[endpoint]
            ),
            "policy": private_api_policy(self.endpoint_id, revision=network.revision),
        }

    @property
    def private(self) -> bool:
        return self.endpoint_id is not None

    @property
    def url(self) -> str:
        """The stage URL (``https://<api-id>.execute-api.<region>.<suffix>/<stage>/``); for a
        private API it resolves only where the endpoint's private DNS answers."""
        return self.api.url

    @property
    def endpoint_alias_url(self) -> str | None:
        """A private API's Route 53 alias URL through the associated endpoint,
        ``https://<api-id>-<vpce-id>.execute-api.<region>.<suffix>/<stage>/``: publicly resolvable
        to the endpoint's private addresses, no Host header needed (API Gateway developer guide,
        "associate-private-api-with-vpc-endpoint", checked 2026-12-01). ``None`` when regional."""
        if self.endpoint_id is None:
            return None
        return (
            f"https://{self.api.rest_api_id}-{self.endpoint_id}.{EXECUTE_API}.{Aws.REGION}."
            f"{Aws.URL_SUFFIX}/{self.api.deployment_stage.stage_name}/"
        )

    def _acknowledge(self, plan: StagePlan, *, waf: bool) -> None:
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
        if not waf and plan.production:
            self._acknowledge_waf_off_in_production(private=plan.private)
        elif not waf:
            acknowledge(
                self.api,
                "AwsSolutions-APIG3",
                "Every method requires SigV4-signed IAM callers, so API Gateway refuses anonymous "
                "requests before any integration runs, and stage throttling bounds signed ones; "
                "the WAF web ACL (billed per ACL, rule and request) is on in production stages "
                "(api.waf.enabled) and off here.",
            )
        acknowledge(
            self.api,
            "AwsSolutions-COG4",
            "The API uses IAM (SigV4) authorization on every method, which the kit "
            "prefers for service-to-service callers; Cognito is an optional later addition.",
        )

    def _acknowledge_waf_off_in_production(self, *, private: bool) -> None:
        """A production stage that sets ``api.waf.enabled: false`` (docs/first-deploy.md: the
        way out when WAF refuses the private API stage) says so on the API's stage."""
        fence = (
            "its resource policy admits only the stage's execute-api endpoint, " if private else ""
        )
        reason = (
            "This production stage sets api.waf.enabled: false, so no web ACL guards the API "
            f"stage; every method still requires SigV4-signed IAM callers, {fence}stage "
            "throttling bounds signed requests and the handler refuses bodies over its limit."
        )
        for rule in ("AwsSolutions-APIG3", "NIST.800.53.R5-APIGWAssociatedWithWAF"):
            acknowledge(self.api, rule, reason)
