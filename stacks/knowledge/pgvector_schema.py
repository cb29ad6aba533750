"""The Aurora pgvector schema a knowledge base needs, created through the Data API.

A custom resource (``Custom::PgvectorSchema``) runs ``handlers.pgvector_schema``: the
``vector`` extension, the schema, the table, its HNSW, text-search and metadata indexes, and
the login role Bedrock connects as, all idempotent (see ``kit_runtime.pgvector``).

IAM: the function may call ``rds-data:ExecuteStatement`` on the one cluster and read the two
secrets (the administrative one the statements run as: the Data API reads it with the
caller's permissions; and the Bedrock user's, whose password it turns into a SCRAM verifier).

With ``rotate_user_secret`` a second function (``handlers.pgvector_rotation``) rotates the
Bedrock user's secret every 30 days through the same Data API, so it needs no network path
into the cluster's isolated subnets either.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

from aws_cdk import CustomResource, Duration, RemovalPolicy, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_secretsmanager as secretsmanager
from constructs import Construct

from kit_runtime.contracts.pgvector import (
    USER_NAME,
    PgvectorRotationSettings,
    PgvectorSchemaProperties,
    PgvectorTable,
)
from stacks.config import StagePlan
from stacks.core.custom_resource import handler_policy, kit_provider
from stacks.core.function import KitFunction, Placement
from stacks.core.nag import acknowledge
from stacks.core.settings import bounded

HANDLER = "handlers.pgvector_schema.handler"
ROTATION_HANDLER = "handlers.pgvector_rotation.handler"
ROTATION_DAYS = 30
# Longest values of the rotation settings' ARNs (the 4 KB environment guard): the Data API's
# resourceArn is at most 570 characters (botocore rds-data 2018-08-01 ``Arn``); a secret's
# name at most 512 (botocore secretsmanager 2017-10-17 ``NameType``), so its ARN, with the
# partition, region, account and 7-character suffix, stays under 600. Checked 2026-12-01.
CLUSTER_ARN_MAX = 570
SECRET_ARN_MAX = 600
RESOURCE_TYPE = "Custom::PgvectorSchema"


def schema_statements(
    cluster_arn: str, secret_arns: Sequence[str], keys: Sequence[kms.IKey] = ()
) -> list[iam.PolicyStatement]:
    """What the schema function needs: the Data API on one cluster, the secrets' values."""
    statements = [
        iam.PolicyStatement(
            sid="RunSchemaStatements",
            actions=["rds-data:ExecuteStatement"],
            resources=[cluster_arn],
        ),
        iam.PolicyStatement(
            sid="ReadDatabaseSecrets",
            actions=["secretsmanager:GetSecretValue"],
            resources=list(secret_arns),
        ),
    ]
    if keys:
        statements.append(
            iam.PolicyStatement(
                sid="DecryptDatabaseSecrets",
                actions=["kms:Decrypt"],
                resources=[k.key_arn for k in keys],
            )
        )
    return statements


def rotation_statements(
    cluster_arn: str, admin_secret_arn: str, user_secret_arn: str
) -> list[iam.PolicyStatement]:
    """What the rotation function needs (Secrets Manager user guide, "Lambda rotation function
    execution role permissions", checked 2026-12-01), minus the VPC actions: the rotation
    steps on the one user secret, the admin secret for the Data API, the Data API on the one
    cluster, and ``GetRandomPassword``."""
    return [
        iam.PolicyStatement(
            sid="RotateUserSecret",
            actions=[
                "secretsmanager:DescribeSecret",
                "secretsmanager:GetSecretValue",
                "secretsmanager:PutSecretValue",
                "secretsmanager:UpdateSecretVersionStage",
            ],
            resources=[user_secret_arn],
        ),
        iam.PolicyStatement(
            sid="ReadAdminSecret",
            actions=["secretsmanager:GetSecretValue"],
            resources=[admin_secret_arn],
        ),
        iam.PolicyStatement(
            sid="RunRotationStatements",
            actions=["rds-data:ExecuteStatement"],
            resources=[cluster_arn],
        ),
        iam.PolicyStatement(
            sid="GeneratePassword",
            actions=["secretsmanager:GetRandomPassword"],
            resources=["*"],
        ),
    ]


class PgvectorSchema(Construct):
    """Creates the ``vector`` extension, schema, table and indexes of ``table`` in a cluster.

    Make the knowledge base depend on this construct (``kb.node.add_dependency(schema)``) so
    Bedrock never sees a missing table, and give Bedrock ``credentials_secret`` (its own
    login role, limited to the table) rather than the administrative secret.

    Parameters
    ----------
    scope, construct_id:
        Where the construct goes.
    plan:
        The stage plan.
    code:
        The shared Lambda asset (``runtime_code()``).
    cluster_arn:
        The Aurora cluster's ARN (the Data API must be enabled on it).
    secret_arn:
        The administrative secret (``username``/``password``) the statements run as.
    table:
        The table Bedrock writes to.
    secret_keys:
        Customer-managed KMS keys of the secrets, if any (the function may decrypt with them).
    user_secret_logical_id:
        Pins the logical id of the Bedrock user's (retained) secret.
    generation:
        A digest of what replaces the knowledge base on this table: when it changes the
        statements re-run (idempotent) right before the new knowledge base is created, which
        also resumes an auto-paused cluster before Bedrock's own check of the table.
    log_logical_id_prefix:
        Pins the (retained) log groups of the function and its Provider as
        ``<prefix>SchemaLogs`` and ``<prefix>SchemaProviderLogs`` (and the rotation
        function's as ``<prefix>RotationLogs``).
    rotate_user_secret:
        Rotate the Bedrock user's secret every 30 days with a rotation function that sets
        the password through the Data API (the cluster's master secret rotates with RDS).
    placement, upstream:
        The private stage's VPC placement of both functions (they reach the Data API and
        Secrets Manager through its endpoints; the Provider framework stays outside, and it
        sends CloudFormation's response) and the network handle's revision.

    Attributes
    ----------
    resource:
        The ``CustomResource``; ``get_att_string("TableName")`` is ``schema.table``.
    credentials_secret:
        The Bedrock user's secret: the knowledge base's ``credentialsSecretArn``; grant the
        knowledge base role ``credentials_secret.grant_read``.
    function, provider:
        The schema function and its Provider framework.
    rotation:
        The rotation function, or ``None`` without ``rotate_user_secret``.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        plan: StagePlan,
        code: lambda_.Code,
        cluster_arn: str,
        secret_arn: str,
        table: PgvectorTable,
        secret_keys: Sequence[kms.IKey] = (),
        user_secret_logical_id: str | None = None,
        log_logical_id_prefix: str | None = None,
        generation: str | None = None,
        rotate_user_secret: bool = False,
        placement: Placement | None = None,
        upstream: str | None = None,
    ) -> None:
        super().__init__(scope, construct_id)
        self._placement, self._upstream = placement, upstream
        self.table = table
        self.credentials_secret = self._user_secret(
            plan, user_secret_logical_id, rotate_user_secret, secret_keys
        )
        self.function = KitFunction(
            self,
            "Function",
            plan=plan,
            code=code,
            handler=HANDLER,
            description=f"Creates the pgvector table {table.qualified_name} (Data API)",
            service="pgvector-schema",
            invocation="sync",
            # Room for a paused cluster to resume (the handler retries within this time).
            timeout=Duration.minutes(5),
            memory_mb=256,
            log_logical_id=f"{log_logical_id_prefix}SchemaLogs" if log_logical_id_prefix else None,
            placement=placement,
            upstream=upstream,
        )
        # The statements must not run before the function may call the Data API.
        self.policy = handler_policy(
            self,
            function=self.function,
            statements=schema_statements(
                cluster_arn, [secret_arn, self.credentials_secret.secret_arn], secret_keys
            ),
        )
        self.provider = kit_provider(
            self,
            plan=plan,
            function=self.function,
            subject="schema set-up",
            role_description=f"pgvector schema provider framework ({plan.name})",
            log_logical_id=(
                f"{log_logical_id_prefix}SchemaProviderLogs" if log_logical_id_prefix else None
            ),
        )
        properties = PgvectorSchemaProperties(
            ClusterArn=cluster_arn,
            SecretArn=secret_arn,
            UserSecretArn=self.credentials_secret.secret_arn,
            Table=table,
            Generation=generation,
        )
        self.resource = CustomResource(
            self,
            "Resource",
            service_token=self.provider.service_token,
            resource_type=RESOURCE_TYPE,
            properties=properties.render(),
        )
        self.rotation = (
            self._rotation(plan, code, cluster_arn, secret_arn, secret_keys, log_logical_id_prefix)
            if rotate_user_secret
            else None
        )

    def _rotation(
        self,
        plan: StagePlan,
        code: lambda_.Code,
        cluster_arn: str,
        admin_secret_arn: str,
        secret_keys: Sequence[kms.IKey],
        log_logical_id_prefix: str | None,
    ) -> KitFunction:
        secret = self.credentials_secret
        function = KitFunction(
            self,
            "Rotation",
            plan=plan,
            code=code,
            handler=ROTATION_HANDLER,
            description=f"Rotates the Aurora login of {USER_NAME} (Data API)",
            service="pgvector-rotation",
            # Secrets Manager invokes rotation functions synchronously (Lambda developer guide,
            # "Using Lambda with Secrets Manager"): it sees each failure and retries.
            invocation="sync",
            settings=PgvectorRotationSettings(
                cluster_arn=bounded(cluster_arn, CLUSTER_ARN_MAX),
                admin_secret_arn=bounded(admin_secret_arn, SECRET_ARN_MAX),
                user_secret_arn=bounded(secret.secret_arn, SECRET_ARN_MAX),
                database=self.table.database,
            ),
            # Room for a paused cluster to resume (the Data API calls retry within this time).
            timeout=Duration.minutes(5),
            memory_mb=256,
            log_logical_id=(
                f"{log_logical_id_prefix}RotationLogs" if log_logical_id_prefix else None
            ),
            placement=self._placement,
            upstream=self._upstream,
        )
        statements = rotation_statements(cluster_arn, admin_secret_arn, secret.secret_arn)
        if secret_keys:
            statements.append(
                iam.PolicyStatement(
                    sid="DecryptDatabaseSecrets",
                    actions=["kms:Decrypt", "kms:GenerateDataKey"],
                    resources=[k.key_arn for k in secret_keys],
                )
            )
        policy = iam.Policy(self, "RotationPolicy", statements=statements)
        policy.attach_to_role(function.role)
        acknowledge(
            policy,
            "AwsSolutions-IAM5[Resource::*]",
            "secretsmanager:GetRandomPassword has no resource type (it reads no secret; the "
            'Secrets Manager user guide\'s rotation role policy grants it on "*"); every '
            "other action names the one secret or cluster.",
        )
        # Secrets Manager may invoke the function for this secret only, from this account
        # (the user guide: a SourceArn limits the function to rotating that one secret).
        permission = lambda_.CfnPermission(
            self,
            "RotationInvoke",
            action="lambda:InvokeFunction",
            function_name=function.function.function_arn,
            principal="secretsmanager.amazonaws.com",
            source_arn=secret.secret_arn,
            source_account=Stack.of(self).account,
        )
        schedule = secretsmanager.CfnRotationSchedule(
            self,
            "RotationSchedule",
            secret_id=secret.secret_arn,
            rotation_lambda_arn=function.function.function_arn,
            rotation_rules=secretsmanager.CfnRotationSchedule.RotationRulesProperty(
                automatically_after_days=ROTATION_DAYS
            ),
        )
        # The schedule rotates once when created: the role must exist (the schema resource
        # creates it) and the function must hold its permissions by then.
        schedule.node.add_dependency(permission, policy, self.resource)
        return function

    def _user_secret(
        self,
        plan: StagePlan,
        logical_id: str | None,
        rotated: bool,
        keys: Sequence[kms.IKey],
    ) -> secretsmanager.Secret:
        secret = secretsmanager.Secret(
            self,
            "UserSecret",
            description=(
                f"Aurora login of the role Bedrock connects as ({self.table.qualified_name}, "
                f"{plan.name})"
            ),
            # Generated by Secrets Manager at deploy time: the password is in no template.
            generate_secret_string=secretsmanager.SecretStringGenerator(
                secret_string_template=json.dumps({"username": USER_NAME}),
                generate_string_key="password",
                exclude_punctuation=True,
                password_length=40,
            ),
            # The stack's customer-managed key (``encryption``), else aws/secretsmanager.
            encryption_key=keys[0] if keys else None,
            removal_policy=RemovalPolicy.RETAIN,
        )
        if logical_id is not None:
            secret.node.default_child.override_logical_id(logical_id)  # type: ignore[union-attr]
        if not rotated:
            acknowledge(
                secret,
                "AwsSolutions-SMG4",
                "rotate_secret is off for this knowledge base (the non-production default); "
                "with it on, a rotation function re-passwords the role through the Data API "
                "every 30 days. The role may only read and write rows of its one table.",
            )
        return secret


__all__ = [
    "RESOURCE_TYPE",
    "ROTATION_DAYS",
    "PgvectorSchema",
    "rotation_statements",
    "schema_statements",
]
