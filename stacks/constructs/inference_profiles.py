"""Application inference profiles: the stage's metered, tagged entry point to each model."""

from __future__ import annotations

import hashlib
import re

from aws_cdk import CfnTag
from aws_cdk import aws_bedrock as bedrock
from constructs import Construct

from stacks.catalog import Catalog
from stacks.config import ModelRef, StageConfig
from stacks.iam import foundation_model_arn, system_profile_arn

_NAME_MAX = 64


def profile_name(stage: str, model_id: str) -> str:
    """A valid, stable profile name (alphanumerics joined by single ``-``, <= 64 chars)."""
    name = re.sub(r"[^0-9a-zA-Z]+", "-", f"kit-{stage}-{model_id}").strip("-")
    if len(name) > _NAME_MAX:
        digest = hashlib.sha256(name.encode()).hexdigest()[:8]
        name = f"{name[: _NAME_MAX - 9].rstrip('-')}-{digest}"
    return name


def cost_tags(config: StageConfig) -> dict[str, str]:
    """The cost-allocation tags of a stage."""
    return {
        "stage": config.name,
        "team": config.tags.team,
        "cost-center": config.tags.cost_center,
        **config.tags.extra,
    }


class ApplicationProfiles(Construct):
    """One application inference profile per enabled chat model of the stage.

    A profile wraps exactly one model (or its cross-region profile), so "one profile per
    stage" means one per (stage, model). Each carries the stage's cost-allocation tags, which
    Bedrock applies to the usage billed through it.
    """

    def __init__(
        self, scope: Construct, construct_id: str, *, config: StageConfig, catalog: Catalog
    ) -> None:
        super().__init__(scope, construct_id)
        region = config.resolved_region
        tags = [CfnTag(key=k, value=v) for k, v in sorted(cost_tags(config).items())]
        self.profiles: dict[str, bedrock.CfnApplicationInferenceProfile] = {}
        for ref in config.chat_models(catalog):
            profile = bedrock.CfnApplicationInferenceProfile(
                self,
                _construct_id(ref.id),
                inference_profile_name=profile_name(config.name, ref.id),
                description=f"{config.name}: {catalog.models[ref.id].name}",
                model_source=bedrock.CfnApplicationInferenceProfile.InferenceProfileModelSourceProperty(
                    copy_from=_copy_from(ref, region)
                ),
                tags=tags,
            )
            self.profiles[ref.id] = profile

    def arn(self, model_id: str) -> str:
        return self.profiles[model_id].attr_inference_profile_arn

    @property
    def arns(self) -> list[str]:
        return [p.attr_inference_profile_arn for p in self.profiles.values()]


def _copy_from(ref: ModelRef, region: str) -> str:
    if ref.profile is None:
        return foundation_model_arn(region, ref.id)
    return system_profile_arn(region, ref.profile, ref.id)


def _construct_id(model_id: str) -> str:
    return "".join(part.capitalize() for part in re.split(r"[^0-9a-zA-Z]+", model_id) if part)
