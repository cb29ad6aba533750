"""Guardrail stack: the stage's guardrail and its pinned version."""

from __future__ import annotations

from typing import Any

from aws_cdk import CfnOutput, Stack
from constructs import Construct

from stacks.config import StagePlan
from stacks.core.keys import stack_key
from stacks.guardrails.guardrail import StageGuardrail

GUARDRAIL_ID_OUTPUT = "GuardrailId"
GUARDRAIL_VERSION_OUTPUT = "GuardrailVersion"


class GuardrailStack(Stack):
    """Kept apart from the API so policy changes deploy without touching handlers."""

    def __init__(
        self, scope: Construct, construct_id: str, *, plan: StagePlan, **kwargs: Any
    ) -> None:
        super().__init__(scope, construct_id, **kwargs)
        self.guardrail = StageGuardrail(
            self,
            "Guardrail",
            kit=plan.kit_name,
            stage=plan.name,
            config=plan.config.guardrail,
            key=stack_key(self, plan),
        )
        # Read by `make guardrail-test` (stacks/tools/guardrail_test.py): the default guardrail
        # and the version the runtime pins.
        CfnOutput(self, GUARDRAIL_ID_OUTPUT, value=self.guardrail.guardrail_id)
        CfnOutput(self, GUARDRAIL_VERSION_OUTPUT, value=self.guardrail.version_number)
