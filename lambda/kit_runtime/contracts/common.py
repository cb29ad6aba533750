"""Small types shared by the contracts."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict

Tier = Literal["fast", "balanced", "deep"]
"""The request tiers a stage maps to models (the one tier type of the kit)."""
TIERS: tuple[Tier, ...] = ("fast", "balanced", "deep")


class Contract(BaseModel):
    """A strict, immutable document: unknown fields are errors on both sides."""

    model_config = ConfigDict(extra="forbid", frozen=True)
