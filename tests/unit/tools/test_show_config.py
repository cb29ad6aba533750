"""``make config``: what a stage resolves to, from cdk.json alone."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from stacks.tools.show_config import main
from tests.stages import test_stages


def _write_cdk_json(folder: Path, stages: dict[str, object]) -> None:
    (folder / "cdk.json").write_text(json.dumps({"context": {"stages": stages}}))


def test_given_a_stage_with_knowledge_bases_when_shown_then_each_is_listed_with_store_and_idle_cost(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    stages = test_stages()
    _write_cdk_json(tmp_path, {"knowledge": stages["knowledge"]})
    monkeypatch.chdir(tmp_path)

    assert main(["--stage", "knowledge"]) == 0

    lines = [
        line for line in capsys.readouterr().out.splitlines() if line.startswith("knowledge base:")
    ]
    kbs = stages["knowledge"]["knowledge_bases"]
    assert len(lines) == len(kbs)
    for line, kb in zip(lines, kbs, strict=True):
        assert f"knowledge base: {kb['name']} " in line
        assert f"store: {kb.get('vector_store', {}).get('type', 's3vectors')} " in line
        assert "idle: ~$" in line


def test_given_a_bad_knowledge_base_when_shown_then_exit_2_names_the_key(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    stage = dict(test_stages()["knowledge"])
    stage["knowledge_bases"] = [{**stage["knowledge_bases"][0], "vector_store": {"type": "x"}}]
    _write_cdk_json(tmp_path, {"knowledge": stage})
    monkeypatch.chdir(tmp_path)

    assert main(["--stage", "knowledge"]) == 2

    assert "knowledge_bases[0].vector_store.type: 'x' is not allowed" in capsys.readouterr().err


@pytest.mark.parametrize(("name", "shown"), [("full", True), ("basic", False)])
def test_given_a_stage_when_shown_then_its_network_and_hardening_idle_cost_is_printed_if_any(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    name: str,
    shown: bool,
) -> None:
    # Given a private production stage (endpoints, WAF, keys) or a plain one (none of them)
    from stacks.catalog.idle_costs import network_idle_cost
    from stacks.config import load_plan

    stages = test_stages()
    _write_cdk_json(tmp_path, {name: stages[name]})
    monkeypatch.chdir(tmp_path)
    expected = network_idle_cost(load_plan({"stages": {name: stages[name]}, "stage": name}, {}))
    # When shown
    assert main(["--stage", name]) == 0
    lines = [
        line
        for line in capsys.readouterr().out.splitlines()
        if line.startswith("network and hardening idle:")
    ]
    # Then the line appears exactly when something costs at idle, with the computed total
    assert bool(lines) == shown == bool(expected.lines)
    if shown:
        assert f"~${expected.monthly_usd:,.2f}/month" in lines[0]
        assert f"{len(expected.interface_endpoints)} interface endpoints" in lines[0]
