"""Ordinary changes deploy in one go: no export in use changes, every consumer sees new values.

For each before/after pair of configs, the checks are generic: they read the two synthesized
stages, not the kit's code. A strong export (``Fn::ImportValue``) whose value changes or
vanishes would be refused by CloudFormation; a weak reference (``Fn::GetStackOutput``) is
re-read only when the consuming resource itself changes, so a consumer that reads a value
from a producer resource that changed must change too.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from stacks.catalog import load_catalog
from tests.stages import basic_stage, options
from tests.support.synth import Synthesized, synthesize

CATALOG = load_catalog()
Change = Callable[[dict[str, Any]], None]


def _change_guardrail(stage: dict[str, Any]) -> None:
    stage["guardrails"] = [
        {"name": "default", "default": True, "pii_entities": [{"type": "EMAIL", "action": "BLOCK"}]}
    ]


def _remove_model(stage: dict[str, Any]) -> None:
    removed = stage["models"].pop()
    kept = stage["models"][0]["id"]
    stage["tiers"] = {t: (kept if m == removed["id"] else m) for t, m in stage["tiers"].items()}


def _switch_profile(stage: dict[str, Any]) -> None:
    for model in stage["models"]:
        others = [o for o in options(CATALOG.models[model["id"]], stage["region"])]
        others = [o for o in others if o != model["profile"]]
        if others:
            model["profile"] = others[0]
            return
    pytest.skip("no model of the basic stage is offered two ways from its region")


CHANGES: dict[str, Change] = {
    "guardrail-changed": _change_guardrail,
    "model-removed": _remove_model,
    "profile-switched": _switch_profile,
}


def _pair(change: Change) -> tuple[Synthesized, Synthesized]:
    before = basic_stage(CATALOG)
    after = copy.deepcopy(before)
    change(after)
    return synthesize("upd", {"upd": before}), synthesize("upd", {"upd": after})


def _weak_refs(node: Any) -> Iterator[tuple[str, str]]:
    if isinstance(node, dict):
        if "Fn::GetStackOutput" in node:
            ref = node["Fn::GetStackOutput"]
            yield ref["StackName"], ref["OutputName"]
        for value in node.values():
            yield from _weak_refs(value)
    elif isinstance(node, list):
        for value in node:
            yield from _weak_refs(value)


def _imports(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        if "Fn::ImportValue" in node:
            yield json.dumps(node["Fn::ImportValue"], sort_keys=True)
        for value in node.values():
            yield from _imports(value)
    elif isinstance(node, list):
        for value in node:
            yield from _imports(value)


def _by_name(stage: Synthesized) -> dict[str, dict[str, Any]]:
    return {stage.stack_names[sid]: t for sid, t in stage.templates.items()}


def _producer(template: dict[str, Any] | None, output: str) -> str | None:
    """The producing resource's properties as text, or ``None`` when the output is gone."""
    if template is None or output not in template.get("Outputs", {}):
        return None
    value = template["Outputs"][output]["Value"]
    logical = value.get("Fn::GetAtt", [None])[0] if isinstance(value, dict) else None
    logical = logical or (value.get("Ref") if isinstance(value, dict) else None)
    resource = template["Resources"].get(logical, {}) if logical else {}
    return json.dumps(resource.get("Properties", value), sort_keys=True)


@pytest.fixture(scope="module", params=sorted(CHANGES))
def pair(request: pytest.FixtureRequest) -> tuple[str, Synthesized, Synthesized]:
    before, after = _pair(CHANGES[request.param])
    assert before.synth_error is None and after.synth_error is None
    return request.param, before, after


def test_no_export_in_use_changes_or_vanishes(pair: tuple[str, Synthesized, Synthesized]) -> None:
    # Given a stage before and after an ordinary config change
    _, before, after = pair
    exports_after = {
        json.dumps(o["Export"]["Name"], sort_keys=True): json.dumps(o["Value"], sort_keys=True)
        for t in after.templates.values()
        for o in t.get("Outputs", {}).values()
        if "Export" in o
    }
    exports_before = {
        json.dumps(o["Export"]["Name"], sort_keys=True): json.dumps(o["Value"], sort_keys=True)
        for t in before.templates.values()
        for o in t.get("Outputs", {}).values()
        if "Export" in o
    }
    # When CloudFormation would update the producers first
    in_use = {name for t in before.templates.values() for name in _imports(t.get("Resources"))}
    # Then every export a consumer imports keeps its value
    for name in in_use:
        assert exports_after.get(name) == exports_before.get(name), name


def test_every_consumer_of_a_changed_value_changes(
    pair: tuple[str, Synthesized, Synthesized],
) -> None:
    # Given a stage before and after an ordinary config change
    name, before, after = pair
    old, new = _by_name(before), _by_name(after)
    consumers = changed = 0
    for stack_name, template in old.items():
        for lid, resource in template.get("Resources", {}).items():
            refs = set(_weak_refs(resource.get("Properties")))
            if not refs:
                continue
            consumers += 1
            stale = [
                (producer, output)
                for producer, output in refs
                if _producer(old.get(producer), output) != _producer(new.get(producer), output)
            ]
            if not stale:
                continue
            changed += 1
            # Then a consumer reading a value whose producer changed is itself changed (so
            # CloudFormation re-reads the value), or removed
            now = new.get(stack_name, {}).get("Resources", {}).get(lid)
            assert now is None or json.dumps(now, sort_keys=True) != json.dumps(
                resource, sort_keys=True
            ), f"{name}: {stack_name}/{lid} reads {stale} but its template did not change"
    assert consumers > 0, "expected cross-stack consumers"
    assert changed > 0, f"{name}: expected the change to reach at least one consumer"
