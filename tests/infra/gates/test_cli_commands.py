"""The documented `make deploy|diff|destroy` select exactly the stage's stacks, offline.

Each shipped stage's in-process assembly is handed to the pinned CDK CLI (``--app <dir>``, no
synth) through the Makefile's own command lines, so the docs, the Makefile and this test cannot
drift. Nothing leaves the machine: AWS calls go to a local recorder or a dead port.
"""

from __future__ import annotations

import re
import tempfile
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.support import cdk_cli
from tests.support.fake_aws import FakeAws

pytestmark = pytest.mark.synth

COMMANDS = ("deploy", "diff", "destroy")
# Scripts confirm a destroy with --force (README, "Tear down a stage"); without it the CLI
# refuses to run when no terminal is attached, before any AWS call.
SCRIPTED_FLAGS = {"destroy": "--force"}
# Any account will do for the recorder when a stage pins none; it must match when one is pinned.
UNPINNED_ACCOUNT = "111111111111"
DEAD_ENDPOINT = "http://127.0.0.1:9"
DIFFERENCES = re.compile(r"Number of stacks with differences: (\d+)")


@dataclass(frozen=True)
class StageRuns:
    """Everything the CLI did for one stage, per command."""

    expected: list[str]
    listed: dict[str, cdk_cli.Run]
    recorded: dict[str, tuple[cdk_cli.Run, list[str]]]
    unreachable: dict[str, cdk_cli.Run]
    no_credentials: dict[str, cdk_cli.Run]


@pytest.fixture(scope="module")
def stage(synth: Any) -> Any:
    """One test-owned stage: the commands select by pattern, not by what a stage holds."""
    return synth("basic")


@pytest.fixture(scope="module")
def homes() -> Iterator[Path]:
    with tempfile.TemporaryDirectory(prefix="cli-homes-") as path:
        yield Path(path)


@pytest.fixture(scope="module")
def runs(stage: Any, homes: Path) -> StageRuns:
    """Run every documented command for ``stage`` every way the tests read, concurrently."""
    assert stage.outdir is not None, "the synth fixture must keep its assembly directory"
    variables = {"STAGE": stage.name, "ASSEMBLY": str(stage.outdir)}

    def home() -> Path:
        # One home per run: the CLI caches the account per access key, and a cached account
        # would turn the dead-endpoint runs into retry loops instead of a quick failure.
        return Path(tempfile.mkdtemp(dir=homes))

    env = cdk_cli.offline_environment(home())

    def listed(command: str) -> cdk_cli.Run:
        line = cdk_cli.makefile_cdk_command(command, variables, env)
        return cdk_cli.run(cdk_cli.as_list_command(line, command), env)

    def recorded(command: str) -> tuple[cdk_cli.Run, list[str]]:
        scripted = {**variables, "CDK_FLAGS": SCRIPTED_FLAGS.get(command, "")}
        with FakeAws(account=stage.config.account or UNPINNED_ACCOUNT) as aws:
            done = cdk_cli.run(
                cdk_cli.make_argv(command, scripted),
                cdk_cli.offline_environment(home(), **aws.environment()),
            )
        return done, aws.stack_names()

    def unreachable(command: str) -> cdk_cli.Run:
        scripted = {**variables, "CDK_FLAGS": SCRIPTED_FLAGS.get(command, "")}
        dead = {
            "AWS_ENDPOINT_URL": DEAD_ENDPOINT,
            "AWS_ACCESS_KEY_ID": "AKIAFAKEFAKEFAKEFAKE",
            "AWS_SECRET_ACCESS_KEY": "fake-secret-for-local-tests",
            "AWS_MAX_ATTEMPTS": "1",
        }
        return cdk_cli.run(
            cdk_cli.make_argv(command, scripted), cdk_cli.offline_environment(home(), **dead)
        )

    def no_credentials(command: str) -> cdk_cli.Run:
        return cdk_cli.run(
            cdk_cli.make_argv(command, variables), cdk_cli.offline_environment(home())
        )

    with ThreadPoolExecutor(max_workers=4) as pool:
        listing = {c: pool.submit(listed, c) for c in COMMANDS}
        recording = {c: pool.submit(recorded, c) for c in COMMANDS}
        dead = {c: pool.submit(unreachable, c) for c in COMMANDS}
        bare = {c: pool.submit(no_credentials, c) for c in COMMANDS}
        return StageRuns(
            expected=cdk_cli.stage_stack_names(stage.outdir),
            listed={c: f.result() for c, f in listing.items()},
            recorded={c: f.result() for c, f in recording.items()},
            unreachable={c: f.result() for c, f in dead.items()},
            no_credentials={c: f.result() for c, f in bare.items()},
        )


@pytest.mark.parametrize("command", COMMANDS)
def test_given_a_stage_when_the_make_command_selects_stacks_then_it_selects_all_of_them_only(
    runs: StageRuns, stage: Any, command: str
) -> None:
    # Given the stage's stacks, one per stack the app built
    assert len(runs.expected) == len(stage.templates)
    # When the Makefile's command line lists its selection
    done = runs.listed[command]
    # Then it selects every stack of the stage and nothing else
    assert done.returncode == 0, done.describe()
    assert sorted(cdk_cli.listed_stacks(done.stdout)) == sorted(runs.expected), done.describe()


@pytest.mark.parametrize("command", ("diff", "destroy"))
def test_given_no_stack_deployed_when_diff_or_destroy_runs_then_it_asks_about_every_stack(
    runs: StageRuns, command: str
) -> None:
    # Given AWS (a local recorder) where none of the stage's stacks exists
    # When `make diff` / `make destroy` (scripted) runs
    done, asked = runs.recorded[command]
    # Then the CLI looked up exactly the stage's stacks
    assert sorted(asked) == sorted(runs.expected), done.describe()


def test_given_no_stack_deployed_when_diff_runs_then_every_stack_differs(
    runs: StageRuns,
) -> None:
    # Given AWS (a local recorder) where none of the stage's stacks exists
    # When `make diff` runs
    done, _ = runs.recorded["diff"]
    # Then it succeeds and reports every stack as different
    assert done.returncode == 0, done.describe()
    assert DIFFERENCES.findall(done.output) == [str(len(runs.expected))], done.describe()


def test_given_no_stack_deployed_when_deploy_runs_then_it_starts_with_a_stage_stack(
    runs: StageRuns,
) -> None:
    # Given AWS (a local recorder) that denies creating a change set
    # When `make deploy` runs
    done, asked = runs.recorded["deploy"]
    # Then it tried to deploy one of the stage's stacks (deploy stops at the first failure),
    # and the Makefile reports the failure
    assert asked and set(asked) <= set(runs.expected), done.describe()
    assert done.returncode != 0, done.describe()
    assert "the CDK CLI failed" in done.stderr, done.describe()


@pytest.mark.parametrize("command", COMMANDS)
def test_given_no_credentials_when_a_make_command_runs_then_it_fails_saying_how_to_provide_them(
    runs: StageRuns, command: str
) -> None:
    # Given no AWS credentials anywhere (no env variables, no ~/.aws)
    # When the make command runs
    done = runs.no_credentials[command]
    # Then it fails before the CLI, naming the ways to provide credentials
    assert done.returncode != 0, done.describe()
    assert "no AWS credentials found" in done.stderr, done.describe()
    for way in ("AWS_PROFILE", "aws sso login", "AWS_ACCESS_KEY_ID"):
        assert way in done.stderr, done.describe()
    assert not DIFFERENCES.search(done.output), done.describe()


@pytest.mark.parametrize("command", COMMANDS)
def test_given_unreachable_aws_when_a_make_command_runs_then_it_fails_and_says_so(
    runs: StageRuns, command: str
) -> None:
    # Given credentials but an AWS endpoint nobody listens on
    # When the make command runs
    done = runs.unreachable[command]
    # Then it fails with the Makefile's explanation and never reports differences
    assert done.returncode != 0, done.describe()
    assert "the CDK CLI failed" in done.stderr, done.describe()
    assert not DIFFERENCES.search(done.output), done.describe()


def test_given_a_destroy_confirmed_with_force_when_the_cli_fails_then_no_terminal_hint(
    runs: StageRuns,
) -> None:
    # Given `make destroy CDK_FLAGS=--force` (the CLI asks nothing) and AWS unreachable
    done = runs.unreachable["destroy"]
    # Then the failure is explained without the hint about a missing terminal
    assert "the CDK CLI failed" in done.stderr, done.describe()
    assert "TTY" not in done.stderr and "confirm in a script" not in done.stderr, done.describe()
