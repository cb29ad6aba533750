"""The ``encryption`` block: customer-managed keys follow ``production`` unless set."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from stacks.catalog import load_catalog
from stacks.config import ConfigError, load_plan
from tests.stages import basic_stage

CATALOG = load_catalog()
NAME = "qa"


def _plan(stage: dict[str, Any]) -> Any:
    return load_plan({"stages": {NAME: stage}, "stage": NAME}, {}, CATALOG)


def _problems(stage: dict[str, Any]) -> str:
    with pytest.raises(ConfigError) as info:
        _plan(stage)
    return str(info.value)


@pytest.mark.parametrize(
    ("production", "setting", "expected"),
    [
        (True, None, True),
        (False, None, False),
        (False, True, True),
    ],
)
def test_customer_managed_keys_follow_production_unless_set(
    production: bool, setting: bool | None, expected: bool
) -> None:
    # Given a stage with or without the production flag and the key set or left out
    stage = copy.deepcopy(basic_stage(CATALOG))
    stage["production"] = production
    if setting is not None:
        stage["encryption"] = {"customer_managed_keys": setting}
    # When it is loaded, Then the plan says whether the stage gets customer-managed keys
    assert _plan(stage).customer_managed_keys is expected


def test_given_a_production_stage_without_customer_managed_keys_then_synth_fails_saying_why() -> (
    None
):
    # Given a production stage that turns customer-managed keys off
    stage = copy.deepcopy(basic_stage(CATALOG))
    stage["production"] = True
    stage["encryption"] = {"customer_managed_keys": False}
    # When it is loaded, Then the error names the key, the value, what is allowed and why
    msg = _problems(stage)
    assert (
        f"stages.{NAME}.encryption.customer_managed_keys: false is not allowed in a production "
        "stage" in msg
    )
    assert "allowed: true or null" in msg and "NIST 800-53 R5" in msg


@pytest.mark.parametrize("days", [89, 2561])
def test_a_rotation_period_kms_refuses_fails_synth_naming_the_range(days: int) -> None:
    stage = copy.deepcopy(basic_stage(CATALOG))
    stage["encryption"] = {"rotation_period_days": days}
    msg = _problems(stage)
    assert f"stages.{NAME}.encryption.rotation_period_days" in msg
    assert "90" in msg if days < 90 else "2560" in msg


def test_a_non_boolean_or_unknown_encryption_key_fails_synth() -> None:
    stage = copy.deepcopy(basic_stage(CATALOG))
    stage["encryption"] = {"customer_managed_keys": "yes", "key_arn": "x"}
    msg = _problems(stage)
    assert f"stages.{NAME}.encryption.customer_managed_keys" in msg
    assert f"stages.{NAME}.encryption.key_arn" in msg
