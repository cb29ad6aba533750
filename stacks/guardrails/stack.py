"""Guardrail stack: the stage's guardrail and its pinned version."""

from __future__ import annotations

from typing import Any

from aws_cdk import CfnOutput, Stack
from constructs import Construct

from stacks.config import StagePlan
from stacks.config.guardrails import guardrail_output_suffix
from stacks.core.keys import stack_key
from stacks.core.naming import digest
from stacks.core.references import GuardrailHandle, GuardrailHandles
from stacks.guardrails.guardrail import StageGuardrail

GUARDRAIL_ID_OUTPUT = "GuardrailId"
GUARDRAIL_VERSION_OUTPUT = "GuardrailVersion"


class GuardrailStack(Stack):
    """Kept apart from the API so policy changes deploy without touching handlers."""

    def __init__(
        self, scope: Construct, construct_id: str, *, plan: StagePlan, **kwargs: Any
    ) -> None:
        super().__init__(scope, construct_id, **kwargs)
        key = stack_key(self, plan)
        default = plan.config.guardrail
        self.by_name: dict[str, StageGuardrail] = {}
        for config in plan.config.guardrails:
            is_default = config is default
            self.by_name[config.name] = StageGuardrail(
                self,
                # The default keeps the single guardrail's construct id (and logical ids).
                "Guardrail" if is_default else f"Guardrail-{config.name}",
                kit=plan.kit_name,
                stage=plan.name,
                config=config,
                key=key,
                default=is_default,
            )
        self.default_name = default.name
        self.guardrail = self.by_name[default.name]
        """The default guardrail: the one a call carries when its request names none."""
        # Read by `make guardrail-test` (stacks/tools/guardrail_test.py): each guardrail's id
        # and pinned version by name, and the default's under the plain keys.
        for name, guardrail in self.by_name.items():
            suffix = guardrail_output_suffix(name)
            CfnOutput(self, GUARDRAIL_ID_OUTPUT + suffix, value=guardrail.guardrail_id)
            CfnOutput(self, GUARDRAIL_VERSION_OUTPUT + suffix, value=guardrail.version_number)
        CfnOutput(self, GUARDRAIL_ID_OUTPUT, value=self.guardrail.guardrail_id)
        CfnOutput(self, GUARDRAIL_VERSION_OUTPUT, value=self.guardrail.version_number)

    @property
    def handles(self) -> dict[str, GuardrailHandle]:
        """Every guardrail's handle by config name."""
        return {name: g.handle for name, g in self.by_name.items()}

    @property
    def handle_set(self) -> GuardrailHandles:
        """Every guardrail, the default marked, with one revision over all of them: what the
        API selects from per request and what its IAM allows invoking with."""
        handles = self.handles
        return GuardrailHandles(
            default=self.default_name,
            by_name=handles,
            revision=digest(*(f"{n}={h.revision}" for n, h in sorted(handles.items()))),
        )
