"""Test-owned pipeline configs and an in-process synth of the pipeline bootstrap app."""

from __future__ import annotations

import json
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.support.synth import FEATURE_FLAGS, work_dir

ACCOUNT = "210987654321"
OTHER_ACCOUNT = "123412341234"
REPOSITORY = "example-owner/example-repo"


def pipeline_context(**pipeline: Any) -> dict[str, Any]:
    """A context with two test-owned stages in one account and a third in another.

    The stages' keys other than account and region do not matter to the pipeline app.
    """
    return {
        "pipeline": {"repository": REPOSITORY, **pipeline},
        "stages": {
            "alpha": {"region": "eu-west-1"},
            "beta-1": {"region": "us-west-2", "account": ACCOUNT},
            "gamma": {"region": "eu-central-1", "account": OTHER_ACCOUNT},
        },
    }


@dataclass
class PipelineSynth:
    """The bootstrap stack's template, its file, the plan and cdk-nag's findings."""

    plan: Any
    template: dict[str, Any]
    template_file: Path
    nag_findings: list[dict[str, Any]] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def synth_pipeline(context: dict[str, Any], env: dict[str, str] | None = None) -> PipelineSynth:
    """Synthesize the pipeline app for ``context`` (``CDK_DEFAULT_ACCOUNT`` = ``ACCOUNT``)."""
    from aws_cdk import App

    from stacks.pipeline.app import build_pipeline_app

    out = Path(tempfile.mkdtemp(prefix="pipeline-", dir=work_dir()))
    app = App(outdir=str(out), context=dict(FEATURE_FLAGS))
    plan, stack = build_pipeline_app(
        app, context=context, env={"CDK_DEFAULT_ACCOUNT": ACCOUNT} if env is None else env
    )
    assembly = app.synth()
    artifact = assembly.get_stack_by_name(stack.stack_name)
    findings: list[dict[str, Any]] = []
    report = out / "validation-report.json"
    if report.exists():
        for plugin in json.loads(report.read_text()).get("pluginReports", []):
            findings += plugin.get("violations", [])
    warnings = [str(m.entry.data) for m in artifact.messages if "WARN" in str(m.level)]
    return PipelineSynth(
        plan, artifact.template, Path(artifact.template_full_path), findings, warnings
    )
