"""``python -m stacks.catalog.idle_costs``: run as documented, with no PYTHONPATH."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from stacks.catalog.idle_costs import DOC, idle_cost_table, network_cost_table, shipped_context
from tests.stages import test_stages

ROOT = Path(__file__).resolve().parents[3]
BEGIN, END = "<!-- idle-costs:begin -->", "<!-- idle-costs:end -->"
NET_BEGIN, NET_END = "<!-- network-costs:begin -->", "<!-- network-costs:end -->"


def idle_costs(*args: str) -> subprocess.CompletedProcess[str]:
    """The command from the repository root, with no PYTHONPATH (as a user types it)."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    return subprocess.run(
        [sys.executable, "-m", "stacks.catalog.idle_costs", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_given_no_pythonpath_when_run_then_the_table_is_printed() -> None:
    done = idle_costs()

    assert done.returncode == 0, done.stderr
    assert done.stdout == idle_cost_table()
    assert done.stderr == ""


def test_given_a_stale_page_when_run_with_write_then_its_table_is_the_data_and_the_rest_kept(
    tmp_path: Path,
) -> None:
    # Given a copy of the docs page whose table a fork pasted long ago
    text = DOC.read_text(encoding="utf-8")
    head, rest = text.split(BEGIN + "\n")
    _, tail = rest.split(END)
    page = tmp_path / "knowledge-bases.md"
    page.write_text(f"{head}{BEGIN}\n| stale | table |\n{END}{tail}", encoding="utf-8")

    # When the command rewrites it, twice
    first = idle_costs(f"--write={page}")
    second = idle_costs(f"--write={page}")

    # Then the page is the documented one, and the second run changes nothing
    assert first.returncode == 0, first.stderr
    assert "rewritten" in first.stdout
    assert page.read_text(encoding="utf-8") == f"{head}{BEGIN}\n{idle_cost_table()}{END}{tail}"
    assert second.returncode == 0 and "already current" in second.stdout


def test_given_a_page_without_markers_when_run_with_write_then_status_2_and_no_trace(
    tmp_path: Path,
) -> None:
    page = tmp_path / "page.md"
    page.write_text("# nothing to replace\n", encoding="utf-8")

    done = idle_costs(f"--write={page}")

    assert done.returncode == 2
    assert f"{page}: no <!-- idle-costs:begin --> line" in done.stderr
    assert "Traceback" not in done.stderr
    assert page.read_text(encoding="utf-8") == "# nothing to replace\n"


def test_given_a_cdk_json_when_run_with_write_network_then_the_page_gets_its_stages_table(
    tmp_path: Path,
) -> None:
    # Given a cdk.json of one test-owned stage (with a web ACL) and a page with the markers
    cdk_json = tmp_path / "cdk.json"
    stage = {**test_stages()["basic"], "api": {"waf": {"enabled": True}}}
    cdk_json.write_text(json.dumps({"context": {"stages": {"solo": stage}}}), encoding="utf-8")
    page = tmp_path / "README.md"
    page.write_text(f"# Kit\n{NET_BEGIN}\n| stale |\n{NET_END}\n", encoding="utf-8")

    # When the command prints, then writes, the network table of that cdk.json
    printed = idle_costs("--network", f"--cdk-json={cdk_json}")
    written = idle_costs(f"--write-network={page}", f"--cdk-json={cdk_json}")

    # Then both are the table of that stage, and only the middle of the page changed
    table = network_cost_table(shipped_context(cdk_json))
    assert printed.returncode == 0, printed.stderr
    assert printed.stdout == table and "`solo`" in table
    assert written.returncode == 0 and "rewritten" in written.stdout, written.stderr
    assert page.read_text(encoding="utf-8") == f"# Kit\n{NET_BEGIN}\n{table}{NET_END}\n"


def test_given_an_invalid_stage_when_run_with_network_then_status_2_naming_it(
    tmp_path: Path,
) -> None:
    cdk_json = tmp_path / "cdk.json"
    cdk_json.write_text(json.dumps({"context": {"stages": {"odd": {"region": "x"}}}}))

    done = idle_costs("--network", f"--cdk-json={cdk_json}")

    assert done.returncode == 2
    assert "stage odd" in done.stderr and "Traceback" not in done.stderr
