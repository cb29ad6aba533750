"""Checks ``make deploy|diff|destroy|bootstrap`` runs before the CDK CLI, without a network call.

Usage::

    python -m stacks.tools.preflight --stage dev [--assembly cdk.out]
    python -m stacks.tools.preflight --stage ""            # kit.default_stage of ./cdk.json
    python -m stacks.tools.preflight --stage dev --cli-failed   # after the CLI failed: explain

It fails (exit status 2, one message on stderr naming the fix) when

- botocore's credential chain finds no credentials (environment, shared files, SSO, assume-role
  and process profiles, container credentials; the instance-metadata probe only when the caller
  sets ``AWS_EC2_METADATA_DISABLED=false``), or names a profile that does not exist;
- ``--assembly`` points at a cloud assembly that is missing or holds another stage.

Resolving the chain reads files only: SSO and assume-role credentials are deferred until first
use, so an expired SSO session surfaces in the CDK CLI's own error, which the Makefile reports.
"""

from __future__ import annotations

import argparse
import json
import shlex
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import botocore.session
from botocore.exceptions import BotoCoreError

# Every stack of a stage carries this tag (see cost_tags): it tells which stage an assembly holds.
STAGE_TAG = "stage"

HOW_TO_PROVIDE = """\
Provide credentials for the stage's account in one of these ways, then run the command again:
  - a named profile:  export AWS_PROFILE=<profile>   (see ~/.aws/config)
  - IAM Identity Center (SSO):  aws sso login --profile <profile> && export AWS_PROFILE=<profile>
  - environment variables:  AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY (+ AWS_SESSION_TOKEN)
  - on EC2 with an instance profile:  add AWS_EC2_METADATA_DISABLED=false to the make command
Check them with:  aws sts get-caller-identity"""


CLI_FAILED = """\
the CDK CLI failed; its own message is above. When it lists cdk-nag findings (rule id and
resource), the app stopped before any change: fix them or acknowledge them with a reason
(README, "cdk-nag rule packs"). When it says it could not resolve the account, found no
credentials, or could not connect, the credentials found are expired (run `aws sso login` for
an SSO profile), belong to another account, or AWS is unreachable.
Check with `aws sts get-caller-identity`. Nothing was compared or changed beyond what the CLI
printed above."""


DESTROY_HINT = """
If it says no terminal (TTY) is attached, the destroy needs confirming: run it in a terminal,
or confirm in a script with CDK_FLAGS=--force."""


class PreflightError(Exception):
    """A problem to fix before the CDK CLI runs; the message says what to do."""


def cli_profile(cdk_flags: str) -> str | None:
    """The ``--profile`` the CDK CLI will use when ``CDK_FLAGS`` names one."""
    words = shlex.split(cdk_flags)
    for i, word in enumerate(words):
        if word == "--profile" and i + 1 < len(words):
            return words[i + 1]
        if word.startswith("--profile="):
            return word.split("=", 1)[1]
    return None


def forced(cdk_flags: str) -> bool:
    """Whether ``CDK_FLAGS`` confirms a destroy up front (``--force``/``-f``), so the CLI asks
    nothing and a missing terminal cannot be the reason it failed."""
    words = shlex.split(cdk_flags)
    return any(
        word in ("--force", "-f")
        or (word.startswith("--force=") and word.split("=", 1)[1] not in ("false", "0"))
        for word in words
    )


def credential_source(profile: str | None = None) -> str:
    """How botocore would authenticate (e.g. ``env``, ``sso``), without calling AWS.

    Parameters
    ----------
    profile:
        The profile the CLI is told to use (``--profile``); default: botocore's own choice
        (``AWS_PROFILE``, then the default profile).

    Raises
    ------
    PreflightError
        When no credentials are configured or the configured profile is unusable.
    """
    try:
        session = botocore.session.Session(profile=profile)
        credentials = session.get_credentials()
    except BotoCoreError as error:  # e.g. ProfileNotFound, a malformed config file
        raise PreflightError(f"AWS credentials: {error}\n{HOW_TO_PROVIDE}") from None
    if credentials is None:
        raise PreflightError(f"no AWS credentials found.\n{HOW_TO_PROVIDE}")
    profile = session.get_config_variable("profile")
    return f"{credentials.method} (profile {profile})" if profile else str(credentials.method)


def assembly_stages(assembly: Path) -> set[str]:
    """The values of the ``stage`` tag on every stack of a synthesized cloud assembly.

    Raises
    ------
    PreflightError
        When ``assembly`` is not a cloud assembly directory.
    """
    if not (assembly / "manifest.json").is_file():
        raise PreflightError(
            f"{assembly} is not a synthesized cloud assembly (no manifest.json): "
            "run `make synth STAGE=<name>` first, or leave ASSEMBLY unset"
        )
    return {str(tags.get(STAGE_TAG)) for tags in _stack_tags(assembly)}


def _stack_tags(assembly: Path) -> list[dict[str, Any]]:
    manifest = json.loads((assembly / "manifest.json").read_text())
    found: list[dict[str, Any]] = []
    for artifact in manifest.get("artifacts", {}).values():
        properties = artifact.get("properties", {})
        if artifact.get("type") == "aws:cloudformation:stack":
            found.append(properties.get("tags", {}))
        elif artifact.get("type") == "cdk:cloud-assembly":
            found.extend(_stack_tags(assembly / properties["directoryName"]))
    return found


def default_stage(cdk_json: Path) -> str:
    """The stage the app builds when ``STAGE`` is empty: ``kit.default_stage`` of ``cdk_json``.

    Raises
    ------
    PreflightError
        When the file cannot be read or its ``kit`` block is invalid.
    """
    # The config package reads the runtime's contracts (lambda/), as app.py arranges.
    sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "lambda"))
    from stacks.config.base import ConfigError
    from stacks.config.project import chosen_stage

    try:
        context = json.loads(cdk_json.read_text(encoding="utf-8")).get("context", {})
        return chosen_stage(context)
    except (OSError, ValueError, AttributeError) as error:
        raise PreflightError(f"{cdk_json}: {error}") from None
    except ConfigError as error:
        raise PreflightError(f"{cdk_json}: {error}") from None


def check(stage: str, assembly: Path | None, cdk_flags: str = "") -> str:
    """Run every check; return a one-line summary of what will be used.

    Raises
    ------
    PreflightError
        On the first problem found.
    """
    if assembly is not None:
        stages = assembly_stages(assembly)
        if stages != {stage}:
            held = ", ".join(sorted(stages)) or "no stacks"
            raise PreflightError(
                f"{assembly} holds {held}, not stage '{stage}': "
                f"run `make synth STAGE={stage}` first, or leave ASSEMBLY unset"
            )
    return f"stage '{stage}', AWS credentials from {credential_source(cli_profile(cdk_flags))}"


def main(argv: Sequence[str] | None = None) -> int:
    """Command-line entry: exit status 0 when ready, 2 with a message otherwise."""
    parser = argparse.ArgumentParser(prog="python -m stacks.tools.preflight")
    parser.add_argument("--stage", default="", help="empty: kit.default_stage of ./cdk.json")
    parser.add_argument("--assembly", type=Path, default=None)
    parser.add_argument("--command", default="the CDK CLI", help="named in messages")
    parser.add_argument("--cdk-flags", default="", help="CDK_FLAGS (its --profile is honoured)")
    parser.add_argument(
        "--cli-failed", action="store_true", help="explain a failed CDK CLI run; exit 1"
    )
    args = parser.parse_args(argv)
    if args.cli_failed:
        hint = DESTROY_HINT if "destroy" in args.command and not forced(args.cdk_flags) else ""
        print(f"\n{args.command}: {CLI_FAILED}{hint}", file=sys.stderr)
        return 1
    try:
        stage = args.stage or default_stage(Path("cdk.json"))
        summary = check(stage, args.assembly, args.cdk_flags)
    except PreflightError as error:
        print(f"{args.command}: {error}", file=sys.stderr)
        return 2
    print(f"{args.command}: {summary}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
