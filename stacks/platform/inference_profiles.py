"""Application inference profiles: the stage's metered, tagged entry point to each chat model."""

from __future__ import annotations

import re

from aws_cdk import CfnTag
from aws_cdk import aws_bedrock as bedrock
from constructs import Construct

from stacks.config import ModelPlan, StagePlan
from stacks.core.bedrock_iam import foundation_model_arn, system_profile_arn
from stacks.core.naming import description, digest, resource_name
from stacks.core.references import ProfileHandles
from stacks.core.settings import APPLICATION_PROFILE_ARN_MAX, bounded
from stacks.core.tags import cost_tags

# InferenceProfileName: ([0-9a-zA-Z][ _-]?)+, at most 64 (botocore bedrock model, 2026-11-30).
NAME_MAX = 64


def copy_from(model: ModelPlan, region: str) -> str:
    """What a profile wraps: the in-region foundation model or the system profile."""
    if model.profile is None:
        return foundation_model_arn(region, model.id)
    return system_profile_arn(region, model.profile, model.id)


def profile_description(stage: str, model: ModelPlan) -> str:
    return description(f"{stage}: {model.spec.name}")


def profile_name(kit: str, stage: str, model: ModelPlan) -> str:
    """A valid name, new whenever a property that forces a replacement changes.

    ``ModelSource`` and ``Description`` cannot change in place: CloudFormation creates the
    replacement before deleting the old profile, so the two must not share a name.
    """
    return resource_name(
        kit,
        stage,
        model.id,
        max_length=NAME_MAX,
        unique_by=(model.profile, profile_description(stage, model)),
    )


class ApplicationProfiles(Construct):
    """One application inference profile per enabled chat model of the stage.

    A profile wraps exactly one model (or its cross-region profile), so "one profile per
    stage" means one per (stage, model). Each carries the stage's cost-allocation tags, which
    Bedrock applies to the usage billed through it.

    Attributes
    ----------
    revision:
        A digest of everything that decides the profiles' ARNs; consumers in other stacks
        carry it so they are updated whenever an ARN may have changed.
    """

    def __init__(self, scope: Construct, construct_id: str, *, plan: StagePlan) -> None:
        super().__init__(scope, construct_id)
        tags = [CfnTag(key=k, value=v) for k, v in sorted(cost_tags(plan.config).items())]
        self.profiles: dict[str, bedrock.CfnApplicationInferenceProfile] = {}
        for model in plan.chat_models:
            self.profiles[model.id] = bedrock.CfnApplicationInferenceProfile(
                self,
                _construct_id(model.id),
                inference_profile_name=profile_name(plan.kit_name, plan.name, model),
                description=profile_description(plan.name, model),
                model_source=bedrock.CfnApplicationInferenceProfile.InferenceProfileModelSourceProperty(
                    copy_from=copy_from(model, plan.region)
                ),
                tags=tags,
            )
        self.revision = digest(
            *(f"{m.id}={profile_name(plan.kit_name, plan.name, m)}" for m in plan.chat_models)
        )

    def arn(self, model_id: str) -> str:
        """The profile ARN of ``model_id`` (a token, bounded for the 4 KB guard)."""
        return bounded(
            self.profiles[model_id].attr_inference_profile_arn, APPLICATION_PROFILE_ARN_MAX
        )

    @property
    def handles(self) -> ProfileHandles:
        """What other capabilities need of the profiles."""
        return ProfileHandles(
            arns={model_id: self.arn(model_id) for model_id in self.profiles},
            revision=self.revision,
        )


def _construct_id(model_id: str) -> str:
    return "".join(part.capitalize() for part in re.split(r"[^0-9a-zA-Z]+", model_id) if part)
