"""The Lambda asset's hash covers every shipped file, so any change to one redeploys."""

from __future__ import annotations

from pathlib import Path

import pytest

from stacks.core import lambda_asset


def _hash(folder: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setattr(lambda_asset, "LAMBDA_DIR", folder)
    return lambda_asset._asset_hash.__wrapped__()


def test_given_a_start_script_when_its_text_or_execute_bit_changes_then_the_hash_changes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "handlers").mkdir()
    (tmp_path / "handlers" / "entry.py").write_text("print('hi')\n")
    script = tmp_path / "run.sh"
    script.write_text("#!/bin/sh\nexec python3 -m handlers.entry\n")
    script.chmod(0o755)
    first = _hash(tmp_path, monkeypatch)

    script.write_text("#!/bin/sh\nexec python3 -m handlers.other\n")
    edited = _hash(tmp_path, monkeypatch)
    script.chmod(0o644)
    not_executable = _hash(tmp_path, monkeypatch)

    assert len({first, edited, not_executable}) == 3


def test_given_bytecode_caches_when_they_appear_then_the_hash_stays(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "mod.py").write_text("x = 1\n")
    before = _hash(tmp_path, monkeypatch)
    (tmp_path / "__pycache__").mkdir()
    (tmp_path / "__pycache__" / "mod.cpython-314.pyc").write_bytes(b"\x00")
    assert _hash(tmp_path, monkeypatch) == before
