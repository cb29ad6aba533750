"""The Lambda Web Adapter layer of a region and architecture, from ``web_adapter.yaml`` (data,
with its source and date), checked at synth."""

from __future__ import annotations

from functools import cache
from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field

from stacks.config import ConfigError

DATA_FILE = Path(__file__).with_name("web_adapter.yaml")


class WebAdapterLayers(BaseModel):
    """Where the adapter's public layer is published."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    account: str = Field(pattern=r"^\d{12}$")
    version: int = Field(gt=0)
    layers: dict[str, str]
    """Layer name by Lambda architecture (``arm64``, ``x86_64``)."""
    regions: tuple[str, ...] = Field(min_length=1)

    def arn(self, region: str, architecture: str) -> str:
        """The layer version ARN in ``region`` for ``architecture``.

        Raises
        ------
        ConfigError
            The adapter is not published there (naming the region and the allowed ones).
        """
        problems = []
        if region not in self.regions:
            problems.append(
                f"region: {region!r} has no Lambda Web Adapter layer (needed by POST "
                f"/chat/stream); allowed: {', '.join(self.regions)} ({DATA_FILE.name})"
            )
        if architecture not in self.layers:
            problems.append(
                f"architecture {architecture!r} has no Lambda Web Adapter layer; allowed: "
                f"{', '.join(sorted(self.layers))} ({DATA_FILE.name})"
            )
        if problems:
            raise ConfigError(problems)
        name = self.layers[architecture]
        return f"arn:aws:lambda:{region}:{self.account}:layer:{name}:{self.version}"


@cache
def web_adapter_layers(path: Path = DATA_FILE) -> WebAdapterLayers:
    """The data file, validated."""
    return WebAdapterLayers.model_validate(yaml.safe_load(path.read_text()))
