"""`app.py` turns a bad config into a clear message and exit code 1, never a trace."""

from __future__ import annotations

import copy
import json
import os
import subprocess
import sys

from tests.conftest import CDK_CONTEXT, ROOT


def test_a_typo_in_cdk_json_fails_synth_with_the_key_path_and_no_trace() -> None:
    # Given the shipped context with a misspelt key in the dev stage
    context = copy.deepcopy(CDK_CONTEXT)
    context["stages"]["dev"]["runtime"]["memroy_mb"] = 512
    context["stage"] = "dev"
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
    assert "stages.dev.runtime.memroy_mb: unknown key" in result.stderr
    assert "memory_mb" in result.stderr.split("allowed keys here:")[1]
    assert "Traceback" not in result.stderr
