"""Model lifecycle at synth: a legacy model warns, one past its end of life fails naming the
model that replaces it. The catalog is a copy with lifecycle dates set by the test, so the
checks run whatever the shipped catalog's dates are."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from stacks.catalog import Lifecycle
from stacks.config import ConfigError, load_plan
from tests.stages import basic_stage
from tests.support.lifecycle import CATALOG, END, LEGACY, retiring


def context(stage: dict[str, Any]) -> dict[str, Any]:
    return {"stages": {"qa": stage}, "stage": "qa"}


def test_a_legacy_model_warns_naming_its_end_and_replacement() -> None:
    # Given a stage whose first model became legacy
    stage = basic_stage(CATALOG)
    catalog, old, new = retiring(stage)
    # When it is loaded between the legacy date and the end of life
    plan = load_plan(context(stage), {}, catalog, today=LEGACY + timedelta(days=1))
    # Then synth goes on with one warning naming the model, the end and the replacement
    (warning,) = [w for w in plan.warnings if old in w]
    assert "legacy model" in warning and str(END) in warning and new in warning


def test_a_model_past_its_end_of_life_fails_naming_the_replacement() -> None:
    stage = basic_stage(CATALOG)
    catalog, old, new = retiring(stage)
    with pytest.raises(ConfigError) as info:
        load_plan(context(stage), {}, catalog, today=END)
    message = str(info.value)
    assert f"stages.qa.models[0].id: {old!r} reached its end of life on {END}" in message
    assert f"use {new!r} instead" in message


def test_the_replacement_skips_models_that_ended_too() -> None:
    # Given A -> B -> C where B ended as well
    stage = basic_stage(CATALOG)
    a, b, c = (m["id"] for m in stage["models"][:3])
    ended = Lifecycle(legacy_since=LEGACY, end_of_life=END, replacement=c)
    models = dict(CATALOG.models)
    models[a] = models[a].model_copy(
        update={"lifecycle": Lifecycle(legacy_since=LEGACY, end_of_life=END, replacement=b)}
    )
    models[b] = models[b].model_copy(update={"lifecycle": ended})
    catalog = CATALOG.model_copy(update={"models": models})
    stage["models"] = [stage["models"][0], stage["models"][2]]
    stage["tiers"] = {t: c for t in stage["tiers"]}
    with pytest.raises(ConfigError) as info:
        load_plan(context(stage), {}, catalog, today=END)
    # Then the message points at the first model that still answers
    assert f"use {c!r} instead" in str(info.value)
