"""The stage's document bucket: one folder (prefix) per knowledge base that uses it."""

from __future__ import annotations

from aws_cdk import Aws, Duration, RemovalPolicy
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from constructs import Construct

from stacks.core.nag import acknowledge
from stacks.knowledge.common import pin

DATA_BUCKET_ID = "KnowledgeDataBucket"
ACCESS_LOGS_ID = "KnowledgeAccessLogs"
LOG_PREFIX = "data-bucket/"


class DataBucket(Construct):
    """Encrypted, versioned, SSL-only, private and access-logged; kept when the stack goes.

    Uploads and deletes are sent to EventBridge (the bucket's ``EventBridgeConfiguration``, no
    notification custom resource): the ingestion pipeline listens for ``Object Created`` and
    ``Object Deleted`` there.

    Parameters
    ----------
    key:
        The stage's customer-managed key (production stages), else S3-managed encryption.
    """

    def __init__(self, scope: Construct, construct_id: str, *, key: kms.IKey | None) -> None:
        super().__init__(scope, construct_id)
        self.access_logs = self._build_access_logs()
        self.bucket = s3.Bucket(
            self,
            "Bucket",
            encryption=s3.BucketEncryption.KMS if key else s3.BucketEncryption.S3_MANAGED,
            encryption_key=key,
            bucket_key_enabled=key is not None,
            versioned=True,
            enforce_ssl=True,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
            removal_policy=RemovalPolicy.RETAIN,
        )
        cfn = self.bucket.node.default_child
        assert isinstance(cfn, s3.CfnBucket)
        self._log_to(cfn)
        cfn.add_property_override(
            "NotificationConfiguration.EventBridgeConfiguration.EventBridgeEnabled", True
        )
        pin(self.bucket, DATA_BUCKET_ID)
        pin(self.access_logs, ACCESS_LOGS_ID)

    def _log_to(self, cfn: s3.CfnBucket) -> None:
        """Server access logs through a bucket policy for the logging service, not the
        LogDeliveryWrite ACL CDK falls back to without its bucket-policy feature flag (ACLs stay
        disabled on both buckets)."""
        cfn.logging_configuration = s3.CfnBucket.LoggingConfigurationProperty(
            destination_bucket_name=self.access_logs.bucket_name, log_file_prefix=LOG_PREFIX
        )
        self.access_logs.add_to_resource_policy(
            iam.PolicyStatement(
                sid="S3ServerAccessLogsFromDataBucket",
                principals=[iam.ServicePrincipal("logging.s3.amazonaws.com")],
                actions=["s3:PutObject"],
                resources=[self.access_logs.arn_for_objects(f"{LOG_PREFIX}*")],
                conditions={
                    "ArnLike": {"aws:SourceArn": self.bucket.bucket_arn},
                    "StringEquals": {"aws:SourceAccount": Aws.ACCOUNT_ID},
                },
            )
        )

    def _build_access_logs(self) -> s3.Bucket:
        # S3 delivers server access logs only to a bucket with SSE-S3 default encryption.
        logs = s3.Bucket(
            self,
            "AccessLogs",
            encryption=s3.BucketEncryption.S3_MANAGED,
            enforce_ssl=True,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
            versioned=True,
            lifecycle_rules=[s3.LifecycleRule(noncurrent_version_expiration=Duration.days(90))],
            removal_policy=RemovalPolicy.RETAIN,
        )
        acknowledge(
            logs,
            "NIST.800.53.R5-S3DefaultEncryptionKMS",
            "S3 delivers server access logs only to a bucket whose default encryption is "
            "SSE-S3, so this bucket cannot take a KMS key.",
        )
        for bucket in (logs, self):
            acknowledge(
                bucket,
                "NIST.800.53.R5-S3BucketReplicationEnabled",
                "Versioned and retained in its region; the documents are the team's copies "
                "and the index is rebuilt from them. Cross-region replication needs a second "
                "bucket, region and role, a disaster-recovery choice beyond this kit.",
            )
        acknowledge(
            logs,
            "AwsSolutions-S1",
            "This is the access-log bucket of the data bucket; logging its own access would "
            "write a log object for every log object delivered.",
        )
        return logs

    def deny_outside_network(self, *, endpoint_id: str, exempt_role_arns: list[str]) -> None:
        """A private stage's documents are read and written only through its S3 endpoint.

        Exempt: the knowledge bases' service roles (Bedrock reads the documents from the
        service side, never through the VPC) and requests an AWS service makes with a caller's
        credentials (``aws:ViaAWSService``). No deployment path touches the objects (no bucket
        deployment, no auto-delete), so none is exempt. Uploads come from a host inside the
        stage's VPC: a gateway endpoint serves only its own VPC (README, "Private deployments").
        """
        self.bucket.add_to_resource_policy(
            iam.PolicyStatement(
                sid="DocumentsOnlyThroughTheStageNetwork",
                effect=iam.Effect.DENY,
                principals=[iam.AnyPrincipal()],
                actions=[
                    "s3:GetObject",
                    "s3:GetObjectVersion",
                    "s3:PutObject",
                    "s3:DeleteObject",
                    "s3:DeleteObjectVersion",
                ],
                resources=[self.bucket.arn_for_objects("*")],
                conditions={
                    "StringNotEquals": {"aws:SourceVpce": endpoint_id},
                    "ArnNotEquals": {"aws:PrincipalArn": exempt_role_arns},
                    "BoolIfExists": {"aws:ViaAWSService": "false"},
                },
            )
        )

    @property
    def bucket_name(self) -> str:
        return self.bucket.bucket_name

    @property
    def bucket_arn(self) -> str:
        return self.bucket.bucket_arn
