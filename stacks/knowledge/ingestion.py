"""Ingestion that loses nothing: S3 events -> queue -> coordinator -> one job at a time -> report.

Flow (one pipeline per stage, shared by its knowledge bases)::

    data bucket (EventBridge on) --rule per data source (bucket + prefix)--> ingestion queue
    schedule (sweep) ---------------------------------------------------> ingestion queue
    ingestion queue --batches--> trigger function --coordinator--> StartIngestionJob
                                                        \\--> follower execution (per job)
    follower: Wait -> GetIngestionJob -> running? loop : report function -> coordinator

The coordinator (``kit_runtime.ingestion``) keeps one record per data source in a DynamoDB table
and coalesces every trigger that arrives while a job runs into exactly one follow-up job.
Bedrock publishes no documented EventBridge event for ingestion jobs
(docs/research/knowledge-bases-aws-facts.md section 1, checked 2026-12-01), so the follower polls
GetIngestionJob.

IAM (least privilege): ``bedrock:StartIngestionJob``, ``GetIngestionJob`` and
``ListIngestionJobs`` on the stage's knowledge base ARNs only (the knowledge-base resource type:
https://docs.aws.amazon.com/bedrock/latest/userguide/kb-direct-ingestion-prereq.html grants
StartIngestionJob on ``knowledge-base/<id>``; checked 2026-12-01), ``GetItem``/``PutItem`` on the
table, ``states:StartExecution`` on the follower, SQS on the queue.
"""

from __future__ import annotations

from aws_cdk import ArnFormat, Aws, Duration, RemovalPolicy, Stack
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_lambda_event_sources as sources
from aws_cdk import aws_sqs as sqs
from aws_cdk import aws_stepfunctions as sfn
from aws_cdk import aws_stepfunctions_tasks as tasks
from constructs import Construct

from kit_runtime.contracts.ingestion import IngestionSettings, IngestionSource
from stacks.config import StagePlan
from stacks.core.function import KitFunction, Placement
from stacks.core.keys import key_statement, stack_key
from stacks.core.logs import retained_log_group
from stacks.core.nag import acknowledge
from stacks.core.naming import digest, resource_name
from stacks.core.references import KnowledgeHandles, NetworkHandles
from stacks.core.settings import bounded

TRIGGER_HANDLER = "handlers.ingestion.trigger"
REPORT_HANDLER = "handlers.ingestion.report"
ACTIVE_STATUSES = ("STARTING", "IN_PROGRESS", "STOPPING")
"""GetIngestionJob statuses of a running job (botocore bedrock-agent IngestionJobStatus)."""
S3_EVENT_TYPES = ("Object Created", "Object Deleted")
"""EventBridge detail types of S3 (Amazon S3 user guide, "EventBridge event message structure")."""

POLL_SECONDS = 30
LEASE_SECONDS = 900
SWEEP_MINUTES = 15
TRIGGER_TIMEOUT_SECONDS = 60
MAX_RECEIVES = 5
FAILURE_REASONS_SHOWN = 20
FOLLOWER_TIMEOUT = Duration.days(2)
# Pinned: retained log groups keep the ids they were first deployed with (a test pins them).
LOG_GROUP_LOGICAL_IDS = {
    "Trigger": "IngestionTriggerLogs",
    "Report": "IngestionReportLogs",
    "Follower": "IngestionFollowerLogs",
}
# Bedrock ids are 10 characters; bucket names at most 63; a prefix at most 1024 (config).
_ID_MAX = 10
_BUCKET_MAX = 63
_PREFIX_MAX = 1024


def ingestion_sources(knowledge: KnowledgeHandles) -> tuple[IngestionSource, ...]:
    """Each knowledge base's data source, with its values bounded for the 4 KB guard."""
    return tuple(
        IngestionSource(
            name=name,
            knowledge_base_id=bounded(kb.id, _ID_MAX),
            data_source_id=bounded(kb.data_source_id, _ID_MAX),
            bucket_name=bounded(kb.bucket_name, _BUCKET_MAX),
            prefix=bounded(kb.prefix, _PREFIX_MAX),
        )
        for name, kb in sorted(knowledge.bases.items())
    )


def s3_event_pattern(bucket_name: str, prefix: str) -> events.EventPattern:
    """Object created or deleted in ``bucket_name`` under ``prefix``."""
    return events.EventPattern(
        source=["aws.s3"],
        detail_type=list(S3_EVENT_TYPES),
        detail={"bucket": {"name": [bucket_name]}, "object": {"key": [{"prefix": prefix}]}},
    )


class IngestionPipeline(Construct):
    """Keeps every knowledge base of the stage in sync with its documents, losing nothing.

    Parameters
    ----------
    plan:
        The stage plan.
    code:
        The shared Lambda asset.
    knowledge:
        The stage's knowledge bases (ids, ARNs, buckets and prefixes).
    network:
        A private stage's network: both functions run in its VPC.

    Attributes
    ----------
    queue, dead_letters, table, state_machine, trigger, reporter, alarms
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        plan: StagePlan,
        code: lambda_.Code,
        knowledge: KnowledgeHandles,
        network: NetworkHandles | None = None,
    ) -> None:
        super().__init__(scope, construct_id)
        stack = Stack.of(self)
        revision = digest(knowledge.revision, *([network.revision] if network else []))
        self._placement: Placement | None = network.placement if network else None
        self.alarms: list[cloudwatch.Alarm] = []
        # The stack's customer-managed key (``encryption``): table, queues, executions, logs.
        self.key = stack_key(self, plan)
        self.table = self._table()
        self.dead_letters, self.queue = self._queues()
        # A fixed name: the functions start executions by ARN, and the state machine invokes
        # the report function, so a token ARN both ways would be a dependency cycle.
        self.state_machine_name = resource_name(
            plan.kit_name, plan.name, "ingestion", max_length=80
        )
        state_machine_arn = stack.format_arn(
            service="states",
            resource="stateMachine",
            resource_name=self.state_machine_name,
            arn_format=ArnFormat.COLON_RESOURCE_NAME,
        )
        settings = IngestionSettings(
            stage=plan.name,
            sources=ingestion_sources(knowledge),
            table_name=bounded(self.table.table_name, 255),
            state_machine_arn=bounded(state_machine_arn, 200),
            lease_seconds=LEASE_SECONDS,
            failure_reasons_shown=FAILURE_REASONS_SHOWN,
        )
        kb_arns = sorted({kb.arn for kb in knowledge.bases.values()})
        self.trigger = self._function(
            "Trigger",
            plan,
            code,
            TRIGGER_HANDLER,
            "queue",
            settings,
            revision,
            "Starts knowledge base ingestion jobs, coalescing triggers",
        )
        self.reporter = self._function(
            "Report",
            plan,
            code,
            REPORT_HANDLER,
            "sync",
            settings,
            revision,
            "Reports finished ingestion jobs and starts the follow-up",
        )
        for fn in (self.trigger, self.reporter):
            self._grant(fn, kb_arns=kb_arns, state_machine_arn=state_machine_arn, revision=revision)
        self.trigger.function.add_event_source(
            sources.SqsEventSource(
                self.queue,
                batch_size=10,
                max_batching_window=Duration.seconds(5),
                report_batch_item_failures=True,
            )
        )
        acknowledge(
            self.trigger.function,
            "Serverless-LambdaEventSourceMappingDestination",
            "An SQS event source has no on-failure destination: failed messages return to the "
            "queue and its redrive policy moves them to the alarmed dead-letter queue after "
            f"{MAX_RECEIVES} receives.",
        )
        self.state_machine = self._state_machine(plan, kb_arns)
        self._rules(knowledge)
        self._alarms(plan, knowledge)

    # --- resources -----------------------------------------------------------------------------

    def _table(self) -> dynamodb.Table:
        table = dynamodb.Table(
            self,
            "Coordination",
            partition_key=dynamodb.Attribute(name="pk", type=dynamodb.AttributeType.STRING),
            billing_mode=dynamodb.BillingMode.PAY_PER_REQUEST,
            encryption=dynamodb.TableEncryption.CUSTOMER_MANAGED
            if self.key is not None
            else dynamodb.TableEncryption.AWS_MANAGED,
            encryption_key=self.key,
            removal_policy=RemovalPolicy.DESTROY,
        )
        for rule in ("NIST.800.53.R5-DynamoDBPITREnabled", "NIST.800.53.R5-DynamoDBInBackupPlan"):
            acknowledge(
                table,
                rule,
                "Coordination state only (one small record per data source): losing it loses "
                "no document, the next upload or make ingest resyncs, so no backup is needed.",
            )
        acknowledge(
            table,
            "AwsSolutions-DDB3",
            "Coordination state only (one small record per data source: idle/running, job id, "
            "pending flag). Losing it loses no document: the next upload, the sweep or "
            "make ingest resyncs the data source, so point-in-time recovery buys nothing.",
        )
        return table

    def _queues(self) -> tuple[sqs.Queue, sqs.Queue]:
        if self.key is not None:
            # EventBridge sends the rules' events (and failed deliveries) to the encrypted
            # queues: its principal may make and read data keys for this account's rules only
            # (EventBridge user guide, eb-encryption-key-policy, checked 2026-12-01).
            self.key.allow_service(
                "EventBridgeRulesOfThisAccount",
                service="events.amazonaws.com",
                actions=["kms:GenerateDataKey", "kms:Decrypt"],
                conditions={"StringEquals": {"aws:SourceAccount": Aws.ACCOUNT_ID}},
            )
        dead_letters = sqs.Queue(
            self,
            "DeadLetters",
            encryption=sqs.QueueEncryption.KMS if self.key else sqs.QueueEncryption.SQS_MANAGED,
            encryption_master_key=self.key,
            enforce_ssl=True,
            retention_period=Duration.days(14),
        )
        acknowledge(
            dead_letters,
            "AwsSolutions-SQS3",
            "This queue is itself the dead-letter queue of the ingestion queue and of the "
            "EventBridge targets; a DLQ of a DLQ would only move the same failed events again.",
        )
        acknowledge(
            dead_letters,
            "Serverless-SQSRedrivePolicy",
            "This queue is the redrive target itself (the ingestion queue's dead-letter queue); "
            "its messages are kept 14 days and alarmed, and redriving it again would loop.",
        )
        queue = sqs.Queue(
            self,
            "Triggers",
            encryption=sqs.QueueEncryption.KMS if self.key else sqs.QueueEncryption.SQS_MANAGED,
            encryption_master_key=self.key,
            enforce_ssl=True,
            # Lambda's guidance for SQS event sources: at least six times the function timeout.
            visibility_timeout=Duration.seconds(6 * TRIGGER_TIMEOUT_SECONDS),
            retention_period=Duration.days(4),
            dead_letter_queue=sqs.DeadLetterQueue(
                queue=dead_letters, max_receive_count=MAX_RECEIVES
            ),
        )
        return dead_letters, queue

    def _function(
        self,
        construct_id: str,
        plan: StagePlan,
        code: lambda_.Code,
        handler: str,
        invocation: str,
        settings: IngestionSettings,
        revision: str,
        description: str,
    ) -> KitFunction:
        return KitFunction(
            self,
            construct_id,
            plan=plan,
            code=code,
            handler=handler,
            description=description,
            service="ingestion",
            invocation="queue" if invocation == "queue" else "sync",
            settings=settings,
            upstream=revision,
            timeout=Duration.seconds(TRIGGER_TIMEOUT_SECONDS),
            memory_mb=256,
            log_logical_id=LOG_GROUP_LOGICAL_IDS[construct_id],
            placement=self._placement,
        )

    def _grant(
        self, fn: KitFunction, *, kb_arns: list[str], state_machine_arn: str, revision: str
    ) -> None:
        fn.role.add_to_policy(
            iam.PolicyStatement(
                sid="IngestionJobsOfTheStageKnowledgeBases",
                actions=[
                    "bedrock:StartIngestionJob",
                    "bedrock:GetIngestionJob",
                    "bedrock:ListIngestionJobs",
                ],
                resources=kb_arns,
            )
        )
        fn.role.add_to_policy(
            iam.PolicyStatement(
                sid="CoordinationRecords",
                actions=["dynamodb:GetItem", "dynamodb:PutItem"],
                resources=[self.table.table_arn],
            )
        )
        if self.key is not None:
            # DynamoDB uses the table's key on the caller's behalf (UNVERIFIED exact set against
            # the DynamoDB encryption usage notes, 2026-12-01: the actions CDK's table grants
            # use, without their wildcards).
            fn.role.add_to_policy(
                key_statement(
                    self.key.key_arn,
                    sid="CoordinationTableKey",
                    actions=[
                        "kms:Decrypt",
                        "kms:Encrypt",
                        "kms:GenerateDataKey",
                        "kms:DescribeKey",
                    ],
                    via="dynamodb",
                    region=Stack.of(self).region,
                )
            )
        fn.role.add_to_policy(
            iam.PolicyStatement(
                sid="StartFollower",
                actions=["states:StartExecution"],
                resources=[state_machine_arn],
            )
        )

    def _state_machine(self, plan: StagePlan, kb_arns: list[str]) -> sfn.StateMachine:
        follow = {
            "source.$": "$.source",
            "knowledgeBaseId.$": "$.knowledgeBaseId",
            "dataSourceId.$": "$.dataSourceId",
            "ingestionJobId.$": "$.ingestionJobId",
        }
        lost = tasks.LambdaInvoke(
            self,
            "ReleaseLostJob",
            lambda_function=self.reporter.function,
            payload=sfn.TaskInput.from_object(
                {"kind": "lost", "follow": follow, "error.$": "$.error"}
            ),
            payload_response_only=True,
            result_path=sfn.JsonPath.DISCARD,
        ).next(sfn.Fail(self, "FollowingFailed", error="IngestionFollowFailed"))
        wait = sfn.Wait(
            self, "WaitForJob", time=sfn.WaitTime.duration(Duration.seconds(POLL_SECONDS))
        )
        get_job = tasks.CallAwsService(
            self,
            "GetIngestionJob",
            service="bedrockagent",
            action="getIngestionJob",
            parameters={
                "KnowledgeBaseId": sfn.JsonPath.string_at("$.knowledgeBaseId"),
                "DataSourceId": sfn.JsonPath.string_at("$.dataSourceId"),
                "IngestionJobId": sfn.JsonPath.string_at("$.ingestionJobId"),
            },
            iam_action="bedrock:GetIngestionJob",
            iam_resources=kb_arns,
            result_selector={"job.$": "$.IngestionJob"},
            result_path="$.poll",
        )
        get_job.add_retry(
            errors=["States.ALL"],
            interval=Duration.seconds(10),
            max_attempts=6,
            backoff_rate=2,
        )
        get_job.add_catch(lost, errors=["States.ALL"], result_path="$.error")
        report = tasks.LambdaInvoke(
            self,
            "ReportJob",
            lambda_function=self.reporter.function,
            payload=sfn.TaskInput.from_object(
                {"kind": "ended", "follow": follow, "job.$": "$.poll.job"}
            ),
            payload_response_only=True,
            result_path="$.next",
        )
        # The coordinator may fail to start the follow-up (throttled): its record is restored,
        # so a retry of the same notice tries again.
        report.add_retry(
            errors=["States.ALL"], interval=Duration.seconds(10), max_attempts=5, backoff_rate=2
        )
        report.add_catch(lost, errors=["States.ALL"], result_path="$.error")
        running = sfn.Condition.or_(
            *(sfn.Condition.string_equals("$.poll.job.Status", s) for s in ACTIVE_STATUSES)
        )
        definition = wait.next(get_job).next(
            sfn.Choice(self, "JobRunning?")
            .when(running, wait)
            .otherwise(report.next(sfn.Succeed(self, "Reported")))
        )
        logs = retained_log_group(
            self,
            "FollowerLogs",
            plan=plan,
            logical_id=LOG_GROUP_LOGICAL_IDS["Follower"],
        )
        machine = sfn.StateMachine(
            self,
            "Follower",
            state_machine_name=self.state_machine_name,
            definition_body=sfn.DefinitionBody.from_chainable(definition),
            timeout=FOLLOWER_TIMEOUT,
            tracing_enabled=plan.config.runtime.tracing,
            logs=sfn.LogOptions(
                destination=logs, level=sfn.LogLevel.ALL, include_execution_data=False
            ),
            encryption_configuration=sfn.CustomerManagedEncryptionConfiguration(self.key)
            if self.key is not None
            else None,
        )
        stack = Stack.of(self)
        report_fn = self.reporter.function.node.default_child
        assert isinstance(report_fn, lambda_.CfnFunction)
        report_id = stack.resolve(stack.get_logical_id(report_fn))
        acknowledge(
            machine,
            f"AwsSolutions-IAM5[Resource::<{report_id}.Arn>:*]",
            "Step Functions' LambdaInvoke grants the report function's versions and aliases "
            "(<function arn>:*) besides the function: the same function, nothing else.",
        )
        acknowledge(
            machine,
            "AwsSolutions-IAM5[Resource::*]",
            "The state machine's log delivery (logs:CreateLogDelivery, GetLogDelivery, "
            "UpdateLogDelivery, DeleteLogDelivery, ListLogDeliveries, PutResourcePolicy, "
            "DescribeResourcePolicies, DescribeLogGroups) and X-Ray's PutTraceSegments support "
            "no resource-level permissions; every other statement names exact ARNs.",
        )
        if not plan.config.runtime.tracing:
            for rule in ("AwsSolutions-SF2", "Serverless-StepFunctionStateMachineXray"):
                acknowledge(
                    machine,
                    rule,
                    "This stage sets runtime.tracing: false; the follower's executions keep "
                    "their full history and log to CloudWatch Logs.",
                )
        return machine

    def _rules(self, knowledge: KnowledgeHandles) -> None:
        for name, kb in sorted(knowledge.bases.items()):
            rule = events.Rule(
                self,
                f"Changes{_pascal(name)}",
                description=f"Document changes of knowledge base {name} start its ingestion",
                event_pattern=s3_event_pattern(kb.bucket_name, kb.prefix),
            )
            rule.add_target(
                targets.SqsQueue(
                    self.queue,
                    dead_letter_queue=self.dead_letters,
                    retry_attempts=185,
                    max_event_age=Duration.hours(24),
                )
            )
        sweep = events.Rule(
            self,
            "Sweep",
            description="Starts owed ingestion jobs and repairs records whose owner died",
            schedule=events.Schedule.rate(Duration.minutes(SWEEP_MINUTES)),
        )
        sweep.add_target(targets.SqsQueue(self.queue, dead_letter_queue=self.dead_letters))

    def _alarms(self, plan: StagePlan, knowledge: KnowledgeHandles) -> None:
        def alarm(construct_id: str, metric: cloudwatch.IMetric, what: str) -> None:
            self.alarms.append(
                cloudwatch.Alarm(
                    self,
                    construct_id,
                    metric=metric,
                    threshold=0,
                    comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
                    evaluation_periods=1,
                    treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
                    alarm_description=what,
                )
            )
            acknowledge(
                self.alarms[-1],
                "NIST.800.53.R5-CloudWatchAlarmAction",
                "The stage has no notification topic yet: the alarm is read in the CloudWatch "
                "console and its description says what to do; a team adds its own action.",
            )

        alarm(
            "DeadLettersAlarm",
            self.dead_letters.metric_approximate_number_of_messages_visible(
                period=Duration.minutes(5), statistic="Maximum"
            ),
            "Ingestion triggers failed repeatedly (dead-letter queue not empty); "
            "run make ingest for the affected knowledge base after fixing the cause",
        )
        alarm(
            "FollowerFailedAlarm",
            self.state_machine.metric_failed(period=Duration.minutes(5), statistic="Sum"),
            "An ingestion job could not be followed to its end",
        )
        alarm(
            "FollowerTimedOutAlarm",
            self.state_machine.metric_timed_out(period=Duration.minutes(5), statistic="Sum"),
            "An ingestion job ran longer than its follower waits",
        )
        for name in sorted(knowledge.bases):
            dims = {"service": "ingestion", "stage": plan.name, "knowledge_base": name}
            for metric_name, what in (
                ("IngestionJobsFailed", "an ingestion job failed or was stopped"),
                ("DocumentsFailed", "documents failed to ingest"),
            ):
                alarm(
                    f"{metric_name}{_pascal(name)}",
                    cloudwatch.Metric(
                        namespace=plan.metrics_namespace,
                        metric_name=metric_name,
                        dimensions_map=dims,
                        period=Duration.minutes(5),
                        statistic="Sum",
                    ),
                    f"Knowledge base {name}: {what} (see the report function's log)",
                )


def _pascal(name: str) -> str:
    return "".join(part.capitalize() for part in name.replace("_", "-").split("-"))
