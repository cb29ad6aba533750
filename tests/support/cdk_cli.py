"""Run the pinned CDK CLI and the Makefile's targets offline, and read what they select.

Everything here keeps the caller's AWS setup out: a fresh HOME and CDK_HOME (no ~/.aws, no
CLI cache read or written),
no inherited ``AWS_*`` variables, and the instance-metadata probe off.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CDK = ROOT / "node_modules" / ".bin" / "cdk"
# Every CLI call here is local; a call that hangs is a bug, not a slow machine.
TIMEOUT_S = 60

# `cdk ls` prints one "<display path> (<stack name>)" line per selected stack.
_LISTED = re.compile(r"^(?P<path>\S+) \((?P<name>[^)]+)\)$")


@dataclass(frozen=True)
class Run:
    """A finished process: its exit status and both output streams."""

    argv: list[str]
    returncode: int
    stdout: str
    stderr: str

    @property
    def output(self) -> str:
        return f"{self.stdout}\n{self.stderr}"

    def describe(self) -> str:
        """Everything needed to read a failure in a test report."""
        return f"$ {shlex.join(self.argv)}\nexit {self.returncode}\n{self.output}"


def offline_environment(home: Path, **extra: str) -> dict[str, str]:
    """The caller's environment minus its AWS setup, with ``home`` as HOME, plus ``extra``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "CDK_"))}
    env.update(
        HOME=str(home),
        PATH=f"{CDK.parent}{os.pathsep}{env.get('PATH', '')}",
        AWS_CONFIG_FILE=str(home / "no-aws-config"),
        AWS_SHARED_CREDENTIALS_FILE=str(home / "no-aws-credentials"),
        AWS_EC2_METADATA_DISABLED="true",
        CDK_DISABLE_CLI_TELEMETRY="true",
        # The CLI caches account lookups under the passwd home unless CDK_HOME says otherwise.
        CDK_HOME=str(home / ".cdk"),
    )
    env.update(extra)
    return env


def run(argv: list[str], env: dict[str, str]) -> Run:
    """Run ``argv`` from the project root with no terminal attached (stdin is empty)."""
    done = subprocess.run(
        argv,
        cwd=ROOT,
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=TIMEOUT_S,
        check=False,
    )
    return Run(argv, done.returncode, done.stdout, done.stderr)


def make_argv(target: str, variables: dict[str, str]) -> list[str]:
    """``make <target> NAME=value ...`` as a user would type it."""
    return ["make", "--no-print-directory", target, *(f"{k}={v}" for k, v in variables.items())]


def makefile_cdk_command(target: str, variables: dict[str, str], env: dict[str, str]) -> list[str]:
    """The CDK CLI command line ``make <target>`` runs, read from ``make -n`` (argv form).

    Raises
    ------
    AssertionError
        When the target's recipe runs no ``cdk <target>`` command.
    """
    dry = run(["make", "-n", *make_argv(target, variables)[1:]], env)
    assert dry.returncode == 0, dry.describe()
    for line in dry.stdout.replace("\\\n", " ").splitlines():
        # The recipe's `|| ...` only reports a failure; the command is what precedes it.
        tokens = shlex.split(line.split("||", 1)[0])
        if tokens and Path(tokens[0]).name == "cdk" and target in tokens:
            return tokens
    raise AssertionError(f"`make -n {target}` runs no `cdk {target}`:\n{dry.stdout}")


def as_list_command(command: list[str], subcommand: str) -> list[str]:
    """The same command line with ``subcommand`` replaced by ``ls``: it prints the selection.

    ``cdk ls`` ignores (with a warning) the options only the other subcommands know, so the
    stack patterns and every option they share are kept exactly as the Makefile passes them.
    """
    at = command.index(subcommand)
    return [str(CDK), *command[1:at], "ls", *command[at + 1 :]]


def listed_stacks(output: str) -> list[str]:
    """Stack names in the output of ``cdk ls``."""
    return [m["name"] for line in output.splitlines() if (m := _LISTED.match(line.strip()))]


def stage_stack_names(assembly: Path) -> list[str]:
    """Names of the stacks inside the assembly's one nested (stage) assembly.

    Raises
    ------
    AssertionError
        When the assembly does not hold exactly one stage, or holds stacks outside it.
    """
    manifest = json.loads((assembly / "manifest.json").read_text())
    artifacts = manifest.get("artifacts", {}).values()
    stages = [a for a in artifacts if a.get("type") == "cdk:cloud-assembly"]
    top_level = [a for a in artifacts if a.get("type") == "aws:cloudformation:stack"]
    assert len(stages) == 1 and not top_level, f"{assembly}: expected one stage and no other stack"
    nested = json.loads(
        (assembly / stages[0]["properties"]["directoryName"] / "manifest.json").read_text()
    )
    return [
        a["properties"]["stackName"]
        for a in nested.get("artifacts", {}).values()
        if a.get("type") == "aws:cloudformation:stack"
    ]
