"""Per-request guardrail selection, at synth: every function's settings carry all the stage's
guardrails (default marked), and IAM allows invoking and ApplyGuardrail with each of them only.

The test-owned ``guardrails`` stage (tests/stages) has two named guardrails."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.support.guardrail_iam import (
    GUARDRAIL_KEY,
    guardrail_condition_problem,
    pinned_version_arns,
    resolve_outputs,
)
from tests.support.synth import Synthesized
from tests.support.templates import as_list, render, statements


@pytest.fixture(scope="module")
def stage(synth: Any) -> Synthesized:
    return synth("guardrails")


def _guardrail_arns(stage: Synthesized) -> set[str]:
    return {
        f"${{{lid}.GuardrailArn}}"
        for lid, res in stage.templates["Guardrails"]["Resources"].items()
        if res["Type"] == "AWS::Bedrock::Guardrail"
    }


def test_every_invoke_statement_allows_each_pinned_version_of_the_stage(
    stage: Synthesized,
) -> None:
    # Given a stage with two named guardrails, each pinned to a version
    pinned = pinned_version_arns(stage)
    assert len(pinned) == len(stage.config.guardrails) == 2
    # When the Api stack's invoke statements are read
    invokes = [
        st
        for _, st in statements(stage.templates["Api"])
        if any(str(a).startswith("bedrock:InvokeModel") for a in as_list(st["Action"]))
    ]
    # Then each allows exactly both pinned versions (chat, stream and RAG alike)
    assert invokes
    for st in invokes:
        values = as_list(st["Condition"]["StringEquals"][GUARDRAIL_KEY])
        assert {render(resolve_outputs(v, stage)) for v in values} == pinned, st


def test_apply_guardrail_is_allowed_on_every_stage_guardrail_and_nothing_else(
    stage: Synthesized,
) -> None:
    # Given the stage's guardrail ARNs
    arns = _guardrail_arns(stage)
    # When the Api stack's ApplyGuardrail statements are read
    applies = [
        st
        for _, st in statements(stage.templates["Api"])
        if "bedrock:ApplyGuardrail" in as_list(st["Action"])
    ]
    # Then each names every guardrail of the stage (the check endpoint's too)
    assert len(applies) >= 2
    for st in applies:
        assert {render(resolve_outputs(r, stage)) for r in as_list(st["Resource"])} == arns


def _settings(stage: Synthesized) -> list[dict[str, Any]]:
    found = []
    for res in stage.templates["Api"]["Resources"].values():
        if res["Type"] != "AWS::Lambda::Function":
            continue
        env = res["Properties"].get("Environment", {}).get("Variables", {})
        if "KIT_SETTINGS" in env:
            found.append(json.loads(render(resolve_outputs(env["KIT_SETTINGS"], stage))))
    return found


def test_every_function_carries_all_guardrails_with_the_default_marked(
    stage: Synthesized,
) -> None:
    # Given the stage's default and other guardrail names
    default = stage.config.guardrail.name
    others = {g.name for g in stage.config.guardrails} - {default}
    # When the settings of the functions that call Bedrock with a guardrail are read
    with_guardrails = [s.get("chat", s) for s in _settings(stage)]
    with_guardrails = [s for s in with_guardrails if "guardrail" in s]
    # Then each names the default and carries the others once, each at a pinned version
    assert len(with_guardrails) >= 3  # chat, chat stream, guardrail check
    pinned = pinned_version_arns(stage)
    for settings in with_guardrails:
        assert settings["guardrail_name"] == default
        assert set(settings["guardrails"]) == others
        refs = [settings["guardrail"], *settings["guardrails"].values()]
        assert {f"{r['arn']}:{r['version']}" for r in refs} == pinned


FOREIGN = "arn:aws:bedrock:us-east-1:111122223333:guardrail/other:1"


def _condition(kind: str, pinned: list[str]) -> dict[str, Any]:
    conditions: dict[str, dict[str, Any]] = {
        "missing": {},
        "if-exists": {"StringEqualsIfExists": {GUARDRAIL_KEY: pinned}},
        "foreign": {"StringEquals": {GUARDRAIL_KEY: [*pinned, FOREIGN]}},
        "partial": {"StringEquals": {GUARDRAIL_KEY: pinned[0]}},
        "exact": {"StringEquals": {GUARDRAIL_KEY: pinned}},
    }
    return conditions[kind]


@pytest.mark.parametrize(
    ("kind", "problem"),
    [
        ("missing", "StringEquals only"),
        ("if-exists", "StringEquals only"),
        ("foreign", "does not pin"),
        ("partial", "misses"),
        ("exact", None),
    ],
)
def test_the_iam_walk_fails_a_condition_that_is_missing_foreign_or_partial(
    stage: Synthesized, kind: str, problem: str | None
) -> None:
    # Given the stage's pinned versions and an invoke statement with this kind of condition
    pinned = sorted(pinned_version_arns(stage))
    statement = {
        "Effect": "Allow",
        "Action": "bedrock:InvokeModel",
        "Condition": _condition(kind, pinned),
    }
    # When the walk's check reads it
    found = guardrail_condition_problem(statement, set(pinned), stage)
    # Then it reports the problem (and nothing for exactly the pinned set)
    if problem is None:
        assert found is None
    else:
        assert found is not None and problem in found, found
