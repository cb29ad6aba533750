"""Ingestion stack: keeps the stage's knowledge bases in sync with their documents.

Separate from the Knowledge stack (buckets, vector stores, knowledge bases: stateful) because
nothing here holds data that matters: the coordination table can be lost and rebuilt by the
next trigger, so this stack can be replaced freely.
"""

from __future__ import annotations

import json
from typing import Any

from aws_cdk import CfnOutput, Stack
from aws_cdk import aws_lambda as lambda_
from constructs import Construct

from stacks.config import StagePlan
from stacks.core.references import KnowledgeHandles, NetworkHandles
from stacks.knowledge.ingestion import IngestionPipeline

TARGETS_OUTPUT = "IngestionTargets"
"""JSON ``{name: {"knowledgeBaseId", "dataSourceId"}}``: what ``make ingest`` reads."""
STATE_MACHINE_OUTPUT = "IngestionFollower"


class IngestionStack(Stack):
    """S3 events -> queue -> coordinator -> one ingestion job at a time -> report and alarms."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        plan: StagePlan,
        code: lambda_.Code,
        knowledge: KnowledgeHandles,
        network: NetworkHandles | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(scope, construct_id, **kwargs)
        self.pipeline = IngestionPipeline(
            self, "Ingestion", plan=plan, code=code, knowledge=knowledge, network=network
        )
        targets = {
            name: {"knowledgeBaseId": kb.id, "dataSourceId": kb.data_source_id}
            for name, kb in sorted(knowledge.bases.items())
        }
        CfnOutput(
            self,
            TARGETS_OUTPUT,
            value=self.to_json_string(targets),
            description="Knowledge bases and data sources kept in sync (make ingest reads it)",
        )
        CfnOutput(
            self,
            STATE_MACHINE_OUTPUT,
            value=self.pipeline.state_machine.state_machine_arn,
            description="The state machine that follows each ingestion job to its end",
        )


def parse_targets(value: str) -> dict[str, dict[str, str]]:
    """The ``IngestionTargets`` output as a dict (the inverse of what the stack writes)."""
    parsed = json.loads(value)
    if not isinstance(parsed, dict):
        raise ValueError("IngestionTargets is not a JSON object")
    return {str(k): {str(a): str(b) for a, b in v.items()} for k, v in parsed.items()}
