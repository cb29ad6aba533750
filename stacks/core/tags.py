"""Cost-allocation tags of a stage."""

from __future__ import annotations

from stacks.config import StageConfig


def cost_tags(config: StageConfig) -> dict[str, str]:
    """The tags put on every resource of the stage (and on its application profiles)."""
    return {
        "stage": config.name,
        "team": config.tags.team,
        "cost-center": config.tags.cost_center,
        **config.tags.extra,
    }
