"""Guardrail stack: the stage's guardrail and its pinned version."""

from __future__ import annotations

from aws_cdk import Stack
from constructs import Construct

from stacks.config import StageConfig
from stacks.constructs.guardrail import StageGuardrail


class GuardrailStack(Stack):
    """Kept apart from the API so policy changes deploy without touching handlers."""

    def __init__(
        self, scope: Construct, construct_id: str, *, config: StageConfig, **kwargs
    ) -> None:
        super().__init__(scope, construct_id, **kwargs)
        self.guardrail = StageGuardrail(
            self, "Guardrail", stage=config.name, config=config.guardrail
        )
