"""The kit's configuration: one module per capability, resolved once into a ``StagePlan``.

``stacks.config.stage.load_stage_config`` is the only reader of the CDK context and of
environment variables; every problem is reported as a ``ConfigError`` naming the key path,
the value and what is allowed, all problems at once.
"""

from stacks.config.base import ConfigError
from stacks.config.plan import ModelPlan, StagePlan, load_plan
from stacks.config.stage import DEFAULT_STAGE, StageConfig, load_stage_config

__all__ = [
    "DEFAULT_STAGE",
    "ConfigError",
    "ModelPlan",
    "StageConfig",
    "StagePlan",
    "load_plan",
    "load_stage_config",
]
