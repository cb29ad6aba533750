"""Aurora PostgreSQL Serverless v2 with pgvector: a cluster per knowledge base, scaling to zero.

Bedrock reaches the cluster through the RDS Data API only, so the cluster sits in a minimal
network of its own: two isolated subnets, no NAT, no internet route, no lookup at synth
(availability zones are ``Fn::GetAZs`` picks resolved at deploy).
"""

from __future__ import annotations

from collections.abc import Sequence

from aws_cdk import Duration, RemovalPolicy, Stack
from aws_cdk import aws_bedrock as bedrock
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_rds as rds
from aws_cdk import aws_secretsmanager as secretsmanager
from constructs import Construct

from kit_runtime.contracts.pgvector import PgvectorTable
from stacks.config import StagePlan
from stacks.config.knowledge import AuroraPgvectorStore
from stacks.core.function import Placement
from stacks.core.keys import key_statement
from stacks.core.logs import retained_log_group
from stacks.core.nag import acknowledge
from stacks.core.naming import digest
from stacks.knowledge.common import pascal, pin, pin_tree
from stacks.knowledge.pgvector_schema import PgvectorSchema

# Minimum capacity 0 (auto-pause) needs Aurora PostgreSQL 16.3 or later in the 16 line (public
# summaries of the "Aurora Serverless v2 capacity" page, e.g. andreidemidov.com/blog/aurora-
# serverless-v2-scale-to-zero; AWS's own version table not retrieved: UNVERIFIED, 2026-12-01).
# 16.13 is the newest 16.x cfn-lint (registry data of 2026-10-20) does not mark deprecated.
ENGINE_VERSION = rds.AuroraPostgresEngineVersion.VER_16_13
MASTER_USER = "kitadmin"
NETWORK_ID = "KnowledgeNetwork"


class AuroraNetwork(Construct):
    """The stage's database network: one VPC, two isolated subnets in two zones.

    Flow logs (to a retained log group) only in production stages. Every resource is pinned: a
    new subnet or subnet group would replace the clusters standing on it.
    """

    def __init__(self, scope: Construct, construct_id: str, *, plan: StagePlan) -> None:
        super().__init__(scope, construct_id)
        self.vpc = ec2.Vpc(
            self,
            "Vpc",
            ip_addresses=ec2.IpAddresses.cidr("10.64.0.0/24"),
            max_azs=2,  # the stack's zones: Fn::GetAZs at deploy, no lookup at synth
            nat_gateways=0,
            subnet_configuration=[
                ec2.SubnetConfiguration(
                    name="Database", subnet_type=ec2.SubnetType.PRIVATE_ISOLATED, cidr_mask=26
                )
            ],
            # The default-SG restriction is a Lambda-backed custom resource; nothing in this
            # VPC uses the default group.
            restrict_default_security_group=False,
        )
        acknowledge(
            self.vpc,
            "NIST.800.53.R5-VPCDefaultSecurityGroupClosed",
            "This VPC holds only the Aurora cluster, in its own security group, in isolated "
            "subnets; nothing is placed in the default group, and closing it takes a "
            "Lambda-backed custom resource.",
        )
        if plan.production:
            group = retained_log_group(
                self, "FlowLogs", plan=plan, logical_id=f"{NETWORK_ID}FlowLogs"
            )
            self.vpc.add_flow_log(
                "FlowLog", destination=ec2.FlowLogDestination.to_cloud_watch_logs(group)
            )
        else:
            acknowledge(
                self.vpc,
                "AwsSolutions-VPC7",
                "Non-production stage: the VPC has isolated subnets only (no internet path) "
                "and holds only the Aurora cluster; flow logs are on in production stages.",
            )
        pin_tree(self.vpc, NETWORK_ID)
        self.subnets = ec2.SubnetSelection(subnet_type=ec2.SubnetType.PRIVATE_ISOLATED)


def pgvector_table(dimensions: int) -> PgvectorTable:
    """The table of a knowledge base whose vectors have ``dimensions``.

    The vector size is in the table's name: an embedding model of another size then gets a
    new table beside the old one (a new knowledge base, a fresh ingestion) instead of a
    deploy that fails on a column that cannot change size.
    """
    return PgvectorTable(dimensions=dimensions, table=f"bedrock_kb_{dimensions}")


class AuroraPgvector(Construct):
    """An Aurora PostgreSQL Serverless v2 cluster for one knowledge base.

    Minimum capacity and auto-pause come from the config (auto-pause only at 0 ACU); the Data
    API is on; storage is encrypted (the stage's key in production). Credentials: with rotation
    the master password is managed by RDS in Secrets Manager and rotated by RDS itself, which
    needs no rotation function and so no network path into the isolated subnets, and the
    Bedrock user's secret is rotated by a function through the Data API (``PgvectorSchema``);
    without it a generated Secrets Manager secret and no rotation of either. The cluster is
    deletion-protected and retained.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        plan: StagePlan,
        code: lambda_.Code,
        name: str,
        dimensions: int,
        embedding_model: str,
        store: AuroraPgvectorStore,
        network: AuroraNetwork,
        key: kms.IKey | None,
        placement: Placement | None = None,
        upstream: str | None = None,
    ) -> None:
        super().__init__(scope, construct_id)
        self.table = pgvector_table(dimensions)
        rotate = plan.production if store.rotate_secret is None else store.rotate_secret
        self.cluster = self._build_cluster(plan, store, network, key, rotate)
        cfn = self.cluster.node.default_child
        assert isinstance(cfn, rds.CfnDBCluster)
        if rotate:
            self.secret_arn = cfn.attr_master_user_secret_secret_arn
        else:
            assert self.cluster.secret is not None
            self.secret_arn = self.cluster.secret.secret_arn
            acknowledge(
                self.cluster.node.find_child("Secret"),
                "AwsSolutions-SMG4",
                "rotate_secret is off for this knowledge base (non-production default); with it "
                "on, RDS manages and rotates the master password itself.",
            )
        self._pin(name)
        self.schema = PgvectorSchema(
            self,
            "Schema",
            plan=plan,
            code=code,
            cluster_arn=self.cluster.cluster_arn,
            secret_arn=self.secret_arn,
            table=self.table,
            user_secret_logical_id=f"{pascal(name)}UserSecret",
            log_logical_id_prefix=pascal(name),
            generation=digest(embedding_model, dimensions),
            # Both secrets rotate, or neither: RDS rotates the master, a function the user's.
            rotate_user_secret=rotate,
            secret_keys=(key,) if key is not None else (),
            placement=placement,
            upstream=upstream,
        )
        # The schema's statements run through the Data API on a running writer.
        self.schema.node.add_dependency(self.cluster)
        # The storage key is create-only: a stage whose key choice departs from its
        # `production` default gets a new cluster, so the knowledge base on it needs a new
        # name (docs/decisions.md). Stages on the default keep the identity they had.
        self.key_arn = key.key_arn if key is not None else None
        departs = (key is not None) != plan.production
        marker = (("customer-managed-key" if key is not None else "aws-managed-key"),) * departs
        self.identity = digest("aurora-pgvector", name, self.table.model_dump_json(), *marker)

    def _build_cluster(
        self,
        plan: StagePlan,
        store: AuroraPgvectorStore,
        network: AuroraNetwork,
        key: kms.IKey | None,
        rotate: bool,
    ) -> rds.DatabaseCluster:
        pause = store.auto_pause_seconds if store.min_capacity == 0 else None
        cluster = rds.DatabaseCluster(
            self,
            "Cluster",
            engine=rds.DatabaseClusterEngine.aurora_postgres(version=ENGINE_VERSION),
            writer=rds.ClusterInstance.serverless_v2("Writer"),
            serverless_v2_min_capacity=store.min_capacity,
            serverless_v2_max_capacity=store.max_capacity,
            serverless_v2_auto_pause_duration=Duration.seconds(pause) if pause else None,
            enable_data_api=True,
            storage_encrypted=True,
            storage_encryption_key=key,
            credentials=None
            if rotate
            else rds.Credentials.from_generated_secret(MASTER_USER, encryption_key=key),
            manage_master_user_password=True if rotate else None,
            default_database_name=self.table.database,
            vpc=network.vpc,
            vpc_subnets=network.subnets,
            iam_authentication=True,
            deletion_protection=True,
            backup=rds.BackupProps(retention=Duration.days(7 if plan.production else 1)),
            copy_tags_to_snapshot=True,
            removal_policy=RemovalPolicy.RETAIN,
        )
        if rotate and key is not None:
            # The RDS-managed master secret under the stack's key too (updatable in place).
            cfn = cluster.node.default_child
            assert isinstance(cfn, rds.CfnDBCluster)
            cfn.add_property_override("MasterUserSecret.KmsKeyId", key.key_arn)

        for rule, reason in (
            (
                "NIST.800.53.R5-RDSInBackupPlan",
                "Aurora's automated backups (7 days in production, point-in-time restore) "
                "cover the cluster, which holds only the vector index: re-ingesting the data "
                "bucket rebuilds it. An AWS Backup plan would add a vault for no new data.",
            ),
            (
                "NIST.800.53.R5-RDSEnhancedMonitoringEnabled",
                "Serverless v2 scaling to zero: enhanced monitoring samples the OS of an "
                "instance the kit does not manage and bills CloudWatch Logs while it runs; "
                "the cluster's CloudWatch metrics (ACU, connections) remain.",
            ),
            (
                "NIST.800.53.R5-RDSLoggingEnabled[LogExport::postgresql]",
                "Every statement reaches the cluster through the RDS Data API, which CloudTrail "
                "records with the caller; exported postgresql logs would land in a log group "
                "RDS names and creates without the kit's retention and key.",
            ),
        ):
            acknowledge(cluster, rule, reason)
        acknowledge(
            cluster,
            "AwsSolutions-RDS11",
            "The cluster is reached only through the RDS Data API (Bedrock, the schema "
            "function); no client connects to the port, and the subnets have no route in.",
        )
        return cluster

    def _pin(self, name: str) -> None:
        key = pascal(name)
        pin(self.cluster, f"{key}Cluster")
        ids = {
            rds.CfnDBInstance: "ClusterWriter",
            rds.CfnDBSubnetGroup: "ClusterSubnets",
            ec2.CfnSecurityGroup: "ClusterSecurityGroup",
            secretsmanager.CfnSecret: "ClusterSecret",
        }
        for child in self.cluster.node.find_all():
            for type_, suffix in ids.items():
                if isinstance(child, type_):
                    pin(child, f"{key}{suffix}")

    def storage_configuration(self) -> bedrock.CfnKnowledgeBase.StorageConfigurationProperty:
        t = self.table
        return bedrock.CfnKnowledgeBase.StorageConfigurationProperty(
            type="RDS",
            rds_configuration=bedrock.CfnKnowledgeBase.RdsConfigurationProperty(
                resource_arn=self.cluster.cluster_arn,
                # Bedrock logs in as its own role, limited to rows of its table; the master
                # secret stays with the schema function.
                credentials_secret_arn=self.schema.credentials_secret.secret_arn,
                database_name=t.database,
                table_name=t.qualified_name,
                field_mapping=bedrock.CfnKnowledgeBase.RdsFieldMappingProperty(
                    primary_key_field=t.id_column,
                    vector_field=t.vector_column,
                    text_field=t.text_column,
                    metadata_field=t.metadata_column,
                    custom_metadata_field=t.custom_metadata_column,
                ),
            ),
        )

    def statements(self) -> list[iam.PolicyStatement]:
        return [
            iam.PolicyStatement(
                sid="DescribeCluster",
                actions=["rds:DescribeDBClusters"],
                resources=[self.cluster.cluster_arn],
            ),
            iam.PolicyStatement(
                sid="DataApi",
                actions=["rds-data:ExecuteStatement", "rds-data:BatchExecuteStatement"],
                resources=[self.cluster.cluster_arn],
            ),
            iam.PolicyStatement(
                sid="ClusterSecret",
                actions=["secretsmanager:GetSecretValue"],
                resources=[self.schema.credentials_secret.secret_arn],
            ),
        ] + (
            [
                key_statement(
                    self.key_arn,
                    sid="DecryptClusterSecret",
                    actions=["kms:Decrypt"],
                    via="secretsmanager",
                    region=Stack.of(self).region,
                )
            ]
            if self.key_arn is not None
            else []
        )

    def authorize(self, role: iam.IRole) -> Sequence[Construct]:
        return [self.schema, self.cluster]
