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
