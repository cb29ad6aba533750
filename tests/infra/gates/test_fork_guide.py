"""docs/fork-guide.md works as written: its ``bash`` blocks run, in order, in a copy of the repo.

The copy holds the files git tracks or would track (modification times kept, so ``make`` sees
nothing to install) and links to this checkout's ``.venv``, ``node_modules`` and ``.build``;
the guide's commands are cheap by design (``make config``), so this stays a few seconds.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.support.synth import ROOT

pytestmark = pytest.mark.synth

GUIDE = ROOT / "docs" / "fork-guide.md"
BLOCK = re.compile(r"^```bash\n(.*?)^```", re.S | re.M)
SHARED = (".venv", "node_modules", ".build")


def guide_blocks() -> list[str]:
    return BLOCK.findall(GUIDE.read_text(encoding="utf-8"))


def repo_copy(target: Path) -> Path:
    """The tracked files of this checkout (as on disk) plus links to its installed tools."""
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT,
        capture_output=True,
        check=True,
        text=True,
    ).stdout
    for name in filter(None, listed.split("\0")):
        source = ROOT / name
        if source.is_file():
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target / name)
    for name in SHARED:
        (target / name).symlink_to(ROOT / name)
    return target


def test_the_guide_has_a_runnable_command_for_each_step() -> None:
    # Given the guide: every numbered step that changes something ends in a bash block
    assert len(guide_blocks()) >= 6


def test_given_a_fresh_copy_when_the_guides_commands_run_then_each_succeeds(
    tmp_path: Path,
) -> None:
    repo = repo_copy(tmp_path / "repo")
    for number, block in enumerate(guide_blocks(), start=1):
        # When a user pastes the block into a shell at the repository's root
        done = subprocess.run(
            ["bash", "-euo", "pipefail", "-c", block],
            cwd=repo,
            capture_output=True,
            text=True,
            timeout=120,
        )
        # Then it succeeds (a failing check line fails the block)
        assert done.returncode == 0, (
            f"docs/fork-guide.md bash block {number} failed ({done.returncode}):\n{block}\n"
            f"--- stdout\n{done.stdout}\n--- stderr\n{done.stderr}"
        )
