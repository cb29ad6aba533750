"""One deployment stage: its stacks, split by lifecycle, and its tags."""

from __future__ import annotations

from aws_cdk import Environment, Stack, Stage, Tags
from constructs import Construct

from stacks.api_stack import ApiStack
from stacks.catalog import Catalog
from stacks.config import StageConfig
from stacks.constructs.inference_profiles import cost_tags
from stacks.core.lambda_asset import runtime_code
from stacks.guardrail_stack import GuardrailStack
from stacks.platform_stack import PlatformStack


def stage_id(config: StageConfig) -> str:
    """The construct id (and stack-name prefix) of a stage, e.g. ``kit-dev``."""
    return f"kit-{config.name}"


class KitStage(Stage):
    """Everything one stage deploys. Later capabilities add their stacks here."""

    def __init__(self, scope: Construct, *, config: StageConfig, catalog: Catalog) -> None:
        super().__init__(
            scope,
            stage_id(config),
            env=Environment(account=config.account, region=config.resolved_region),
        )
        self.platform = PlatformStack(
            self,
            "Platform",
            config=config,
            catalog=catalog,
            code=runtime_code(),
            description=f"bedrock-cdk-kit {config.name}: model access and inference profiles",
        )
        self.guardrails = GuardrailStack(
            self,
            "Guardrails",
            config=config,
            description=f"bedrock-cdk-kit {config.name}: guardrail",
        )
        self.api = ApiStack(
            self,
            "Api",
            config=config,
            catalog=catalog,
            code=runtime_code(),
            profiles=self.platform.profiles,
            guardrail=self.guardrails.guardrail,
            description=f"bedrock-cdk-kit {config.name}: chat API",
        )
        for key, value in cost_tags(config).items():
            Tags.of(self).add(key, value)

    @property
    def stacks(self) -> list[Stack]:
        return [self.platform, self.guardrails, self.api]
