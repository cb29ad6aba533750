"""The Aurora pgvector schema a knowledge base needs, created through the Data API.

Placeholder: the construct's interface is fixed here; its custom resource lands with the
pgvector work (issue 7).
"""

from __future__ import annotations

from aws_cdk import aws_lambda as lambda_
from constructs import Construct

from kit_runtime.contracts.pgvector import PgvectorTable
from stacks.config import StagePlan


class PgvectorSchema(Construct):
    """Creates the ``vector`` extension, schema, table and indexes of ``table`` in a cluster.

    Make the knowledge base depend on this construct (``kb.node.add_dependency(schema)``) so
    Bedrock never sees a missing table.
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
    ) -> None:
        super().__init__(scope, construct_id)
        self.table = table
