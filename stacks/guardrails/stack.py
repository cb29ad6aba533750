"""Guardrail stack: the stage's guardrail and its pinned version."""

from __future__ import annotations

from typing import Any

from aws_cdk import CfnDeletionPolicy, CfnOutput, Stack
from aws_cdk import aws_bedrock as bedrock
from constructs import Construct

from stacks.config import StagePlan
from stacks.config.enforcement import GuardrailEnforcement
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
        enforcement = plan.config.guardrail_enforcement
        self.enforcement = (
            _enforce(self, enforcement, self.by_name[enforcement.guardrail])
            if enforcement is not None
            else None
        )

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


ENFORCEMENT_ID = "EnforcedGuardrailConfiguration"


def _enforce(
    scope: Construct, config: GuardrailEnforcement, guardrail: StageGuardrail
) -> bedrock.CfnEnforcedGuardrailConfiguration:
    """Account-and-Region-wide enforcement of ``guardrail``'s pinned version.

    Deleted with the stack or when the key is removed (not retained): the stage deletes the
    guardrail it points at on destroy, and an enforcement left pointing at a deleted guardrail
    would outlive its owner, invisible to CloudFormation. A policy change moves it to the new
    version in place (every property updates without interruption: the CloudFormation resource
    reference, checked 2026-12-01).
    """
    models = config.model_enforcement()
    selective = (
        bedrock.CfnEnforcedGuardrailConfiguration.SelectiveContentGuardingProperty(
            system=config.system_prompts, messages=config.messages
        )
        if config.system_prompts is not None or config.messages is not None
        else None
    )
    resource = bedrock.CfnEnforcedGuardrailConfiguration(
        scope,
        ENFORCEMENT_ID,
        guardrail_identifier=guardrail.guardrail_arn,
        guardrail_version=guardrail.version_number,
        model_enforcement=(
            bedrock.CfnEnforcedGuardrailConfiguration.ModelEnforcementProperty(
                included_models=list(models[0]), excluded_models=list(models[1])
            )
            if models is not None
            else None
        ),
        selective_content_guarding=selective,
    )
    resource.cfn_options.deletion_policy = CfnDeletionPolicy.DELETE
    resource.override_logical_id(ENFORCEMENT_ID)
    return resource
