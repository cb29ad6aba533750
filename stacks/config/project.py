"""The project block (context key ``kit``): the one name of a fork and its default stage.

``kit.name`` prefixes every stack and resource name and names the metric namespace, so a team
that forks the kit changes one value; ``kit.default_stage`` is the stage ``make synth`` and
the CLI use when no ``STAGE=`` / ``-c stage=`` is given.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from pydantic import Field, ValidationError

from stacks.config.base import ConfigError, Strict, describe, show

DEFAULT_KIT_NAME = "kit"
# The stage chosen when neither `-c stage=` nor kit.default_stage names one (configs written
# before kit.default_stage existed).
FALLBACK_STAGE = "dev"
# Lower-case, starts with a letter, short: it prefixes stack names (a stack name allows
# [A-Za-z0-9-], 128 characters) and bounded resource names (guardrail names: 50 characters).
KIT_NAME = r"^[a-z][a-z0-9-]{1,15}$"


class KitConfig(Strict):
    """The ``kit`` context block."""

    name: str = Field(default=DEFAULT_KIT_NAME, pattern=KIT_NAME)
    default_stage: str | None = None


def load_kit_config(context: Mapping[str, Any]) -> KitConfig:
    """Validate the ``kit`` block of ``context`` (absent: name ``kit``, no default stage).

    Raises
    ------
    ConfigError
        Naming every bad key of the block, its value and what is allowed; also when
        ``kit.default_stage`` is not a stage of ``context.stages``.
    """
    raw = context.get("kit", {})
    if not isinstance(raw, Mapping):
        raise ConfigError([f"kit: expected an object, got {type(raw).__name__}"])
    try:
        kit = KitConfig.model_validate_json(json.dumps(dict(raw)))
    except ValidationError as exc:
        raise ConfigError([_explain(describe("kit", KitConfig, e)) for e in exc.errors()]) from None
    stages = context.get("stages")
    if (
        kit.default_stage is not None
        and isinstance(stages, Mapping)
        and kit.default_stage not in stages
    ):
        raise ConfigError(
            [
                f"kit.default_stage: {show(kit.default_stage)} is not a defined stage; "
                f"allowed: {', '.join(sorted(stages))}"
            ]
        )
    return kit


def chosen_stage(context: Mapping[str, Any]) -> str:
    """The stage to build: ``-c stage=`` when given and not empty, else ``kit.default_stage``.

    The Makefile passes ``-c stage=`` only when ``STAGE`` is set, so the config, not the
    Makefile, holds the default.
    """
    given = context.get("stage")
    if given:
        return str(given)
    return load_kit_config(context).default_stage or FALLBACK_STAGE


def metrics_namespace(kit_name: str) -> str:
    """The CloudWatch namespace of the kit's metrics: ``Bedrock`` + the name in PascalCase.

    The default name ``kit`` gives ``BedrockKit`` (the namespace documented before names
    were configurable); ``acme-chat`` gives ``BedrockAcmeChat``.
    """
    return "Bedrock" + "".join(word.capitalize() for word in kit_name.split("-") if word)


def _explain(problem: str) -> str:
    if problem.startswith("kit.name:"):
        return (
            f"{problem} (2-16 characters: a lower-case letter, then lower-case letters, "
            "digits or '-'; it prefixes every stack and resource name)"
        )
    return problem


__all__ = [
    "DEFAULT_KIT_NAME",
    "KIT_NAME",
    "KitConfig",
    "chosen_stage",
    "load_kit_config",
    "metrics_namespace",
]
