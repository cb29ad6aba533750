"""A catalog copy in which a stage's model retires (lifecycle tests)."""

from __future__ import annotations

from datetime import date
from typing import Any

from stacks.catalog import Catalog, Lifecycle, load_catalog

CATALOG = load_catalog()
LEGACY = date(2030, 1, 1)
END = date(2030, 6, 1)


def retiring(stage: dict[str, Any]) -> tuple[Catalog, str, str]:
    """A catalog where the stage's first model retires in favour of its second."""
    old, new = stage["models"][0]["id"], stage["models"][1]["id"]
    spec = CATALOG.models[old]
    dated = spec.model_copy(
        update={"lifecycle": Lifecycle(legacy_since=LEGACY, end_of_life=END, replacement=new)}
    )
    return CATALOG.model_copy(update={"models": {**CATALOG.models, old: dated}}), old, new
