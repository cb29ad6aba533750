"""The Aurora pgvector schema a knowledge base needs, created through the Data API.

A custom resource (``Custom::PgvectorSchema``) runs ``handlers.pgvector_schema``: the
``vector`` extension, the schema, the table, its HNSW, text-search and metadata indexes, and
the login role Bedrock connects as, all idempotent (see ``kit_runtime.pgvector``).

IAM: the function may call ``rds-data:ExecuteStatement`` on the one cluster and read the two
secrets (the administrative one the statements run as: the Data API reads it with the
caller's permissions; and the Bedrock user's, whose password it turns into a SCRAM verifier).
"""

from __future__ import annotations

import json
from collections.abc import Sequence

from aws_cdk import CustomResource, Duration, RemovalPolicy
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_secretsmanager as secretsmanager
from constructs import Construct

from kit_runtime.contracts.pgvector import USER_NAME, PgvectorSchemaProperties, PgvectorTable
from stacks.config import StagePlan
from stacks.core.custom_resource import handler_policy, kit_provider
from stacks.core.function import KitFunction
from stacks.core.nag import acknowledge

HANDLER = "handlers.pgvector_schema.handler"
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
        ``<prefix>SchemaLogs`` and ``<prefix>SchemaProviderLogs``.

    Attributes
    ----------
    resource:
        The ``CustomResource``; ``get_att_string("TableName")`` is ``schema.table``.
    credentials_secret:
        The Bedrock user's secret: the knowledge base's ``credentialsSecretArn``; grant the
        knowledge base role ``credentials_secret.grant_read``.
    function, provider:
        The schema function and its Provider framework.
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
    ) -> None:
        super().__init__(scope, construct_id)
        self.table = table
        self.credentials_secret = self._user_secret(plan, user_secret_logical_id)
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

    def _user_secret(self, plan: StagePlan, logical_id: str | None) -> secretsmanager.Secret:
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
            removal_policy=RemovalPolicy.RETAIN,
        )
        if logical_id is not None:
            secret.node.default_child.override_logical_id(logical_id)  # type: ignore[union-attr]
        acknowledge(
            secret,
            "AwsSolutions-SMG4",
            "The Bedrock user's password is set in the database by the schema function from "
            "this secret; a rotation function would need network access to the cluster. The "
            "role may only read and write rows of its one table; a new secret (replace the "
            "resource) re-passwords it on the next deployment.",
        )
        return secret


__all__ = ["RESOURCE_TYPE", "PgvectorSchema", "schema_statements"]
