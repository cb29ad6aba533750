"""``api.waf``: defaults that follow ``production``, and the bounds WAF itself sets."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from stacks.api.waf import WAF_BODY_INSPECTION_BYTES, body_size_statement, greater_than_pattern
from stacks.catalog import load_catalog
from stacks.config import ConfigError, load_plan
from stacks.config.api import waf_enabled
from tests.stages import basic_stage

CATALOG = load_catalog()
NAME = "qa"


def plan_of(stage: dict[str, Any]) -> Any:
    return load_plan({"stages": {NAME: stage}, "stage": NAME}, {}, CATALOG)


def with_waf(production: bool, **waf: Any) -> dict[str, Any]:
    stage = copy.deepcopy(basic_stage(CATALOG))
    stage["production"] = production
    stage["api"] = {"waf": waf}
    return stage


def problems(stage: dict[str, Any]) -> str:
    with pytest.raises(ConfigError) as info:
        plan_of(stage)
    return str(info.value)


@pytest.mark.parametrize(
    ("production", "enabled", "expected"),
    [(True, None, True), (False, None, False), (False, True, True), (True, False, False)],
)
def test_given_production_and_enabled_then_the_web_acl_follows_enabled_else_production(
    production: bool, enabled: bool | None, expected: bool
) -> None:
    waf = {} if enabled is None else {"enabled": enabled}
    plan = plan_of(with_waf(production, **waf))
    assert waf_enabled(plan.config.api, production=plan.production) is expected


@pytest.mark.parametrize("limit", [9, 2_000_000_001])
def test_given_a_rate_limit_outside_wafs_range_then_the_key_value_and_range_are_named(
    limit: int,
) -> None:
    msg = problems(with_waf(True, rate_limit=limit))
    assert f"stages.{NAME}.api.waf.rate_limit: {limit}" in msg
    assert ">= 10" in msg and "<= 2000000000" in msg


def test_given_a_window_waf_does_not_offer_then_the_allowed_ones_are_listed() -> None:
    msg = problems(with_waf(True, rate_window_seconds=180))
    assert f"stages.{NAME}.api.waf.rate_window_seconds: 180" in msg
    assert all(str(w) in msg for w in (60, 120, 300, 600))


def test_given_enabled_as_a_string_then_true_false_and_null_are_the_allowed_values() -> None:
    msg = problems(with_waf(True, enabled="yes"))
    assert f"stages.{NAME}.api.waf.enabled: 'yes'" in msg


def test_given_an_unknown_waf_key_then_it_is_refused_with_the_known_ones() -> None:
    msg = problems(with_waf(True, rate=100))
    assert f"stages.{NAME}.api.waf.rate: unknown key" in msg and "rate_limit" in msg


@pytest.mark.parametrize("limit", [0, 7, 10, 1024, 1_048_576, 2_800_000])
def test_the_declared_length_pattern_matches_exactly_the_integers_above_the_limit(
    limit: int,
) -> None:
    import re

    pattern = re.compile(greater_than_pattern(limit))
    probes = set(range(0, 2000)) | {limit - 1, limit, limit + 1, limit * 10 + 3}
    for value in sorted(p for p in probes if p >= 0):
        assert bool(pattern.search(str(value))) is (value > limit), value
    assert len(greater_than_pattern(limit)) <= 512  # WAF's regex length quota (bc:wafv2)


def test_a_limit_within_wafs_inspection_window_is_also_measured_on_the_body() -> None:
    # Given a body limit WAF can see whole, Then the body itself is compared to it, and a body
    # too long to inspect is over the limit (so matches)
    limit = WAF_BODY_INSPECTION_BYTES // 2
    statements = body_size_statement(limit)["OrStatement"]["Statements"]
    size = next(s["SizeConstraintStatement"] for s in statements if "SizeConstraintStatement" in s)
    assert size["Size"] == limit and size["ComparisonOperator"] == "GT"
    assert size["FieldToMatch"] == {"Body": {"OversizeHandling": "MATCH"}}


def test_a_limit_above_wafs_inspection_window_is_never_measured_on_the_truncated_body() -> None:
    # A MATCH on oversize there would block bodies the API accepts (16 KB < body <= limit)
    statement = body_size_statement(WAF_BODY_INSPECTION_BYTES)
    assert "SizeConstraintStatement" not in str(statement)
    assert "RegexMatchStatement" in statement
