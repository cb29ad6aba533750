"""Cost-allocation tags of a stage."""

from __future__ import annotations

from stacks.config import StageConfig


def cost_tags(config: StageConfig) -> dict[str, str]:
    """The tags put on every resource of the stage (and on its application profiles)."""
    # The kit's own keys last: the loader refuses extras that would override them anyway.
    return {
        **config.tags.extra,
        "stage": config.name,
        "team": config.tags.team,
        "cost-center": config.tags.cost_center,
    }
