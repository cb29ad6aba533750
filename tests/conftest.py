"""Session-wide fixtures: each shipped stage is synthesized at most once per test run."""

from __future__ import annotations

import json
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[1]
CDK_CONTEXT: dict[str, Any] = json.loads((ROOT / "cdk.json").read_text())["context"]
STAGES: list[str] = sorted(CDK_CONTEXT["stages"])


@dataclass
class Synthesized:
    """One stage's synthesized templates (by stack id) and its cdk-nag report."""

    name: str
    config: Any
    templates: dict[str, dict[str, Any]]
    nag_findings: list[dict[str, Any]] = field(default_factory=list)
    synth_error: str | None = None
    template_files: dict[str, Path] = field(default_factory=dict)
    outdir: Path | None = None  # the cloud assembly directory (for `cdk --app <dir>`)

    def resources(self, type_: str, stack: str | None = None) -> dict[str, dict[str, Any]]:
        """Every resource of ``type_`` (logical id -> resource), in one stack or all."""
        found: dict[str, dict[str, Any]] = {}
        for sid, template in self.templates.items():
            if stack is None or sid == stack:
                for lid, res in template.get("Resources", {}).items():
                    if res["Type"] == type_:
                        found[f"{sid}/{lid}"] = res
        return found


def synthesize(stage: str, context: dict[str, Any] | None = None) -> Synthesized:
    """Synthesize ``stage`` the way ``cdk synth`` does, minus asset bundling."""
    from aws_cdk import App

    from stacks.app_builder import build_app

    ctx = dict(context or CDK_CONTEXT)
    stages = ctx.pop("stages")
    flags = {k: v for k, v in ctx.items() if k.startswith("@aws-cdk")}
    # Bundling is skipped in tests: the asset is hashed from source instead.
    outdir = tempfile.mkdtemp(prefix=f"cdk-{stage}-")
    app = App(outdir=outdir, context={**flags, "aws:cdk:bundling-stacks": []})
    config, kit_stage = build_app(app, context={"stages": stages, "stage": stage}, env={})
    error = None
    try:
        assembly = app.synth()
    except Exception as exc:  # cdk-nag violations fail synth: keep the report for the test
        error = str(exc)
        assembly = None
    report = Path(outdir) / "validation-report.json"
    findings: list[dict[str, Any]] = []
    if report.exists():
        findings = _violations(json.loads(report.read_text()))
    templates: dict[str, dict[str, Any]] = {}
    files: dict[str, Path] = {}
    if assembly is not None:
        nested = assembly.get_nested_assembly(f"assembly-{kit_stage.stage_name}")
        for stack in kit_stage.stacks:
            artifact = nested.get_stack_by_name(stack.stack_name)
            templates[stack.node.id] = artifact.template
            files[stack.node.id] = Path(artifact.template_full_path)
    return Synthesized(stage, config, templates, findings, error, files, Path(outdir))


def _violations(report: dict[str, Any]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for plugin in report.get("pluginReports", []):
        for violation in plugin.get("violations", []):
            out.append(violation)
    return out


_CACHE: dict[str, Synthesized] = {}


@pytest.fixture(scope="session")
def synth() -> Any:
    """``synth(stage)`` -> the stage synthesized once per run."""

    def get(stage: str) -> Synthesized:
        if stage not in _CACHE:
            _CACHE[stage] = synthesize(stage)
        return _CACHE[stage]

    return get


@pytest.fixture(scope="session", params=STAGES)
def stage(request: pytest.FixtureRequest, synth: Any) -> Synthesized:
    """Parametrizes a test over every shipped stage."""
    return synth(request.param)
