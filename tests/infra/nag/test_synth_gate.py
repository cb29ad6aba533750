"""An unacknowledged cdk-nag finding stops the app under the CDK CLI too, before any AWS call.

aws-cdk-lib raises on a finding only in-process; under ``cdk synth|diff|deploy`` it sets the
exit code of jsii's Node process and the Python app would exit 0. ``synth_checked`` reads the
validation report back and the app exits non-zero with a short summary. The CLI runs the app
after one STS GetCallerIdentity (its default account) and before any other AWS call.
"""

from __future__ import annotations

import os
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from aws_cdk import App

from stacks.app_builder import synth_checked
from stacks.core.nag import REPORT_FILE
from tests.support import cdk_cli
from tests.support.fake_aws import FakeAws
from tests.support.nag_app import RULE, STACK_NAME, build

pytestmark = pytest.mark.synth

READ_IDENTITY = "GetCallerIdentity"


def test_given_a_finding_in_process_when_synth_is_checked_then_it_returns_a_summary(
    tmp_path: Path,
) -> None:
    # Given an app with one unacknowledged finding
    app = App(outdir=str(tmp_path))
    endpoint = build(app, acknowledged=False)
    # When it is synthesized through the check
    failure = synth_checked(app)
    # Then the summary names the rule, the resource and the report
    assert failure is not None
    assert RULE in failure and endpoint.node.path in failure and REPORT_FILE in failure


def test_given_the_finding_acknowledged_when_synth_is_checked_then_it_passes(
    tmp_path: Path,
) -> None:
    # Given a report left by an earlier, failing synth in the same folder
    (tmp_path / REPORT_FILE).write_text(
        '{"pluginReports": [{"pluginName": "Old", "violations": [{"ruleName": "Old-Rule"}]}]}'
    )
    app = App(outdir=str(tmp_path))
    build(app, acknowledged=True)
    # When the acknowledged app is synthesized through the check
    # Then it passes: the old report does not count
    assert synth_checked(app) is None


def _deploy(acknowledged: bool, home: Path) -> tuple[cdk_cli.Run, list[str]]:
    home.mkdir()
    app = f"{sys.executable} -m tests.support.nag_app" + (" --acknowledged" if acknowledged else "")
    with tempfile.TemporaryDirectory(dir=home) as out, FakeAws(account="111111111111") as aws:
        argv = [str(cdk_cli.CDK), "deploy", STACK_NAME, "--app", app, "--output", out]
        argv += ["--require-approval", "never", "--no-notices"]
        # app.py puts lambda/ on the path itself (the runtime's contracts); this app needs it too.
        path = os.pathsep.join([str(cdk_cli.ROOT), str(cdk_cli.ROOT / "lambda")])
        env = cdk_cli.offline_environment(home, PYTHONPATH=path, **aws.environment())
        done = cdk_cli.run(argv, env)
        return done, [r.operation for r in aws.requests]


def test_given_a_finding_when_cdk_deploy_runs_then_it_fails_with_the_summary_before_any_call(
    tmp_path: Path,
) -> None:
    # Given the pinned CLI pointed at a local AWS stand-in that records every call
    # When it deploys the app with a finding, and the same app with the finding acknowledged
    with ThreadPoolExecutor(max_workers=2) as pool:
        failing = pool.submit(_deploy, False, tmp_path / "failing")
        passing = pool.submit(_deploy, True, tmp_path / "passing")
        (failed, failed_calls), (control, control_calls) = failing.result(), passing.result()
    # Then the deploy with the finding fails and prints the summary, having called nothing but
    # STS GetCallerIdentity (which the CLI asks before it runs the app, for its default account)
    assert failed.returncode != 0, failed.describe()
    assert RULE in failed.stderr and f"{STACK_NAME}/Endpoint" in failed.stderr, failed.describe()
    assert set(failed_calls) <= {READ_IDENTITY}, failed_calls
    # And the acknowledged app goes on to deploy (the recorder does see a deploy's calls)
    assert set(control_calls) - {READ_IDENTITY}, control.describe()
