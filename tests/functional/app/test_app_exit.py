"""`app.py` turns a bad config into a clear message and exit code 1, never a trace."""

from __future__ import annotations

import copy
import json
import os
import subprocess
import sys

from stacks.catalog import load_catalog
from tests.stages import basic_stage
from tests.support.synth import CDK_CONTEXT, ROOT


def test_a_typo_in_cdk_json_fails_synth_with_the_key_path_and_no_trace() -> None:
    # Given a context with a misspelt key in its stage
    stage = basic_stage(load_catalog())
    stage["runtime"] = {"memroy_mb": 512}
    flags = {k: v for k, v in CDK_CONTEXT.items() if k.startswith("@aws-cdk")}
    context = {**copy.deepcopy(flags), "stages": {"qa": stage}, "stage": "qa"}
    env = {**os.environ, "CDK_CONTEXT_JSON": json.dumps(context), "CDK_OUTDIR": "/nonexistent"}
    # When the app runs as the CDK CLI runs it
    result = subprocess.run(
        [sys.executable, "app.py"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    # Then it exits 1 with the key path and the allowed keys, and no Python trace
    assert result.returncode == 1
    assert "stages.qa.runtime.memroy_mb: unknown key" in result.stderr
    assert "memory_mb" in result.stderr.split("allowed keys here:")[1]
    assert "Traceback" not in result.stderr
