"""A function's inputs: stage settings from the environment, catalog facts from the asset.

Each is read once per execution environment; tests inject their own objects instead.
"""

from __future__ import annotations

import os
from functools import cache
from pathlib import Path
from typing import TypeVar

from pydantic import BaseModel

from kit_runtime.contracts import catalog as catalog_contract
from kit_runtime.contracts.catalog import RuntimeCatalog
from kit_runtime.contracts.chat import ENV_VAR, ChatSettings

CATALOG_PATH = Path(catalog_contract.__file__).with_name(catalog_contract.FILE_NAME)
"""Written into the asset by the bundler (not in git)."""


M = TypeVar("M", bound=BaseModel)


def read_settings(contract: type[M]) -> M:
    """Parse ``KIT_SETTINGS`` as ``contract`` (the stack wrote it from the same contract)."""
    text = os.environ.get(ENV_VAR)
    if not text:
        raise RuntimeError(f"{ENV_VAR} is not set: the stack writes it; redeploy the function")
    return contract.model_validate_json(text)


@cache
def load_chat_settings() -> ChatSettings:
    """The chat function's settings."""
    return read_settings(ChatSettings)


@cache
def load_runtime_catalog(path: Path = CATALOG_PATH) -> RuntimeCatalog:
    """The catalog facts shipped beside ``contracts/catalog.py``."""
    if not path.exists():
        raise RuntimeError(f"{path.name} is missing from the asset: rebuild it with `make synth`")
    return RuntimeCatalog.model_validate_json(path.read_bytes())
