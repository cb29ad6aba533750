"""One way to build every Lambda function of the kit (the asset: ``stacks.core.lambda_asset``)."""

from __future__ import annotations

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from constructs import Construct

from stacks.config import StageConfig
from stacks.core.lambda_asset import ARCHITECTURE, RUNTIME
from stacks.nag import acknowledge


class KitFunction(Construct):
    """A Lambda function of the kit: arm64, shared asset, its own retained log group and role.

    Every kit function is invoked synchronously; one that is invoked asynchronously must add
    a dead-letter queue instead of inheriting the DLQ acknowledgment below.

    The role starts with only the permission to write its own log group; callers grant the
    rest where constructs are composed.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: StageConfig,
        code: lambda_.Code,
        handler: str,
        description: str,
        service: str,
        environment: dict[str, str] | None = None,
        timeout: Duration | None = None,
        memory_mb: int | None = None,
        reserved_concurrency: int | None = None,
    ) -> None:
        super().__init__(scope, construct_id)
        rt = config.runtime
        self.log_group = logs.LogGroup(
            self,
            "Logs",
            retention=retention(rt.log_retention_days),
            removal_policy=RemovalPolicy.RETAIN,
        )
        self.role = iam.Role(
            self,
            "Role",
            assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
            description=f"{description} ({config.name})",
        )
        self.role.add_to_policy(
            iam.PolicyStatement(
                actions=["logs:CreateLogStream", "logs:PutLogEvents"],
                # The log group ARN attribute already ends in ":*" (its streams).
                resources=[self.log_group.log_group_arn],
            )
        )
        env = {
            "POWERTOOLS_SERVICE_NAME": service,
            "POWERTOOLS_METRICS_NAMESPACE": "BedrockKit",
            "POWERTOOLS_LOG_LEVEL": rt.log_level,
            "KIT_STAGE": config.name,
            **(environment or {}),
        }
        self.function = lambda_.Function(
            self,
            "Function",
            runtime=RUNTIME,
            architecture=ARCHITECTURE,
            code=code,
            handler=handler,
            description=description,
            role=self.role,
            log_group=self.log_group,
            logging_format=lambda_.LoggingFormat.JSON,
            tracing=lambda_.Tracing.ACTIVE,
            timeout=timeout or Duration.seconds(rt.timeout_seconds),
            memory_size=memory_mb or rt.memory_mb,
            reserved_concurrent_executions=reserved_concurrency,
            environment=env,
        )
        acknowledge(
            self.function,
            "Serverless-LambdaDLQ",
            "Kit functions are invoked synchronously (API Gateway proxy, custom-resource "
            "provider): the caller receives every failure, and a DLQ only applies to "
            "asynchronous invocations.",
        )
        acknowledge(
            self.role,
            "AwsSolutions-IAM5[Resource::*]",
            "X-Ray PutTraceSegments/PutTelemetryRecords support no resource-level "
            "permissions (added by Tracing.ACTIVE).",
        )


_RETENTION = {
    1: "ONE_DAY",
    3: "THREE_DAYS",
    5: "FIVE_DAYS",
    7: "ONE_WEEK",
    14: "TWO_WEEKS",
    30: "ONE_MONTH",
    60: "TWO_MONTHS",
    90: "THREE_MONTHS",
    120: "FOUR_MONTHS",
    150: "FIVE_MONTHS",
    180: "SIX_MONTHS",
    365: "ONE_YEAR",
    400: "THIRTEEN_MONTHS",
    545: "EIGHTEEN_MONTHS",
    731: "TWO_YEARS",
    1096: "THREE_YEARS",
    1827: "FIVE_YEARS",
    2192: "SIX_YEARS",
    2557: "SEVEN_YEARS",
    2922: "EIGHT_YEARS",
    3288: "NINE_YEARS",
    3653: "TEN_YEARS",
}


def retention(days: int) -> logs.RetentionDays:
    """The CloudWatch retention enum for a day count the config loader has validated."""
    return getattr(logs.RetentionDays, _RETENTION[days])
