"""One way to build every Lambda function of the kit (the asset: ``stacks.core.lambda_asset``)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sqs as sqs
from constructs import Construct
from pydantic import BaseModel

from kit_runtime.contracts.chat import ENV_VAR as SETTINGS_VARIABLE
from stacks.config import StagePlan
from stacks.core.lambda_asset import ARCHITECTURE, RUNTIME
from stacks.core.logs import retained_log_group
from stacks.core.nag import acknowledge
from stacks.core.settings import check_environment, render_json

UPSTREAM_VARIABLE = "KIT_UPSTREAM"

Invocation = Literal["sync", "async", "queue"]


@dataclass(frozen=True)
class Placement:
    """Where a function runs in a VPC (the private-networking issue fills it in)."""

    vpc: ec2.IVpc
    subnets: ec2.SubnetSelection
    security_groups: tuple[ec2.ISecurityGroup, ...]


class KitFunction(Construct):
    """A Lambda function of the kit: arm64, the shared asset, its own retained log group and role.

    Parameters
    ----------
    plan:
        The stage plan (log retention, log level, memory).
    code:
        The shared asset (``runtime_code()``, once per stack).
    handler, description, service:
        The entry point, a description and the Powertools service name.
    invocation:
        ``sync`` (API Gateway, custom-resource provider, a Step Functions task: the caller
        receives every failure), ``async`` (events: failures go to a dead-letter queue this
        construct creates) or ``queue`` (an SQS event source: the queue's own redrive policy
        moves failed messages to its dead-letter queue, which the caller creates and alarms).
    settings:
        The function's settings contract, rendered into ``KIT_SETTINGS``.
    upstream:
        A digest of the values other stacks hand this function; it changes whenever one of
        them may have changed, so CloudFormation updates the function (and re-reads them).
    placement:
        VPC placement; ``None`` runs outside a VPC.
    log_logical_id:
        Pins the logical id of the function's (retained) log group.
    layers, environment:
        Layers and further environment variables (the streaming function's web adapter).

    The role starts with only the permission to write its own log group; callers grant the
    rest where constructs are composed.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        plan: StagePlan,
        code: lambda_.Code,
        handler: str,
        description: str,
        service: str,
        invocation: Invocation,
        settings: BaseModel | None = None,
        upstream: str | None = None,
        timeout: Duration,
        memory_mb: int | None = None,
        reserved_concurrency: int | None = None,
        placement: Placement | None = None,
        log_logical_id: str | None = None,
        layers: tuple[lambda_.ILayerVersion, ...] = (),
        environment: dict[str, str] | None = None,
    ) -> None:
        super().__init__(scope, construct_id)
        rt = plan.config.runtime
        self.log_group = retained_log_group(self, "Logs", plan=plan, logical_id=log_logical_id)
        self.role = iam.Role(
            self,
            "Role",
            assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
            description=f"{description} ({plan.name})",
        )
        self.role.add_to_policy(
            iam.PolicyStatement(
                actions=["logs:CreateLogStream", "logs:PutLogEvents"],
                # The log group ARN attribute already ends in ":*" (its streams).
                resources=[self.log_group.log_group_arn],
            )
        )
        if placement is not None:
            self._allow_network_interfaces()
        env = {
            "POWERTOOLS_SERVICE_NAME": service,
            "POWERTOOLS_METRICS_NAMESPACE": plan.metrics_namespace,
            "POWERTOOLS_LOG_LEVEL": rt.log_level,
            "KIT_STAGE": plan.name,
        }
        if not rt.tracing:
            # The runtime then never imports the X-Ray SDK (kit_runtime.observability).
            env["POWERTOOLS_TRACE_DISABLED"] = "true"
        if settings is not None:
            env[SETTINGS_VARIABLE] = render_json(settings)
        if upstream is not None:
            env[UPSTREAM_VARIABLE] = upstream
        env.update(environment or {})
        check_environment(self.node.path, env)
        self.dead_letter_queue = self._dead_letter_queue() if invocation == "async" else None
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
            tracing=lambda_.Tracing.ACTIVE if rt.tracing else lambda_.Tracing.DISABLED,
            timeout=timeout,
            memory_size=memory_mb or rt.memory_mb,
            reserved_concurrent_executions=reserved_concurrency,
            environment=env,
            layers=list(layers) or None,
            dead_letter_queue=self.dead_letter_queue,
            vpc=placement.vpc if placement else None,
            vpc_subnets=placement.subnets if placement else None,
            security_groups=list(placement.security_groups) if placement else None,
        )
        for dlq_rule in ("Serverless-LambdaDLQ", "NIST.800.53.R5-LambdaDLQ"):
            if invocation == "sync":
                acknowledge(
                    self.function,
                    dlq_rule,
                    "This function is invoked synchronously (API Gateway proxy, the custom-"
                    "resource provider or a Step Functions task): the caller receives every "
                    "failure, and a DLQ only applies to asynchronous invocations.",
                )
            if invocation == "queue":
                acknowledge(
                    self.function,
                    dlq_rule,
                    "This function reads an SQS queue through an event source mapping (no "
                    "asynchronous invocation): failed messages go to that queue's redrive "
                    "dead-letter queue, which is alarmed.",
                )
        if placement is None and plan.production and not plan.private:
            acknowledge(
                self.function,
                "NIST.800.53.R5-LambdaInsideVPC",
                "This production stage sets network.mode: none (no VPC of its own): the function "
                "calls AWS APIs over their public endpoints with TLS and SigV4, its role grants "
                "only the stage's resources, and a private stage (network.mode create or "
                "existing) places it in a VPC.",
            )
        if reserved_concurrency is None:
            acknowledge(
                self.function,
                "NIST.800.53.R5-LambdaConcurrency",
                "Reserved concurrency is set where a stage asks for it (runtime."
                "reserved_concurrency, on the API functions): this function is driven by "
                "deploys, rotations or the ingestion queue, which bound how often it runs, and "
                "a reservation would take capacity from the account's shared pool.",
            )
        if not rt.tracing:
            acknowledge(
                self.function,
                "Serverless-LambdaTracing",
                "This stage sets runtime.tracing: false, trading X-Ray traces for about 100 ms "
                "less cold start (the X-Ray SDK is not imported); logs and metrics remain.",
            )
        if rt.tracing:
            acknowledge(
                self.role,
                "AwsSolutions-IAM5[Resource::*]",
                "X-Ray PutTraceSegments/PutTelemetryRecords support no resource-level "
                "permissions (added by Tracing.ACTIVE).",
            )

    def _allow_network_interfaces(self) -> None:
        """What Lambda needs of the role to attach the function to a VPC: the actions of the
        managed policy AWSLambdaVPCAccessExecutionRole (Lambda developer guide, "Giving Lambda
        functions access to a VPC", checked 2026-12-01), inline so cdk-nag sees each one."""
        self.role.add_to_policy(
            iam.PolicyStatement(
                sid="AttachToVpc",
                actions=[
                    "ec2:CreateNetworkInterface",
                    "ec2:DescribeNetworkInterfaces",
                    "ec2:DescribeSubnets",
                    "ec2:DeleteNetworkInterface",
                    "ec2:AssignPrivateIpAddresses",
                    "ec2:UnassignPrivateIpAddresses",
                ],
                resources=["*"],
            )
        )
        acknowledge(
            self.role,
            "AwsSolutions-IAM5[Resource::*]",
            "Lambda creates and deletes the function's VPC network interfaces with the role; "
            "the interfaces do not exist before (their ids are Lambda's) and the Describe "
            "actions have no resource type, as in AWS's AWSLambdaVPCAccessExecutionRole.",
        )

    def _dead_letter_queue(self) -> sqs.Queue:
        queue = sqs.Queue(
            self,
            "DeadLetters",
            encryption=sqs.QueueEncryption.SQS_MANAGED,
            enforce_ssl=True,
            retention_period=Duration.days(14),
            removal_policy=RemovalPolicy.RETAIN,
        )
        acknowledge(
            queue,
            "AwsSolutions-SQS3",
            "This queue is itself the dead-letter queue of an asynchronously invoked "
            "function; a DLQ of a DLQ would only move the same failed events again.",
        )
        return queue
