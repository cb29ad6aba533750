"""Synthesize a stage in-process the way ``cdk synth`` does, minus asset bundling."""

from __future__ import annotations

import json
import shutil
import tempfile
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
CDK_CONTEXT: dict[str, Any] = json.loads((ROOT / "cdk.json").read_text())["context"]
FEATURE_FLAGS = {k: v for k, v in CDK_CONTEXT.items() if k.startswith("@aws-cdk")}
_WORK_DIR: list[Path] = []


def work_dir() -> Path:
    """This test run's own temporary folder (other runs on the machine use theirs)."""
    if not _WORK_DIR:
        _WORK_DIR.append(Path(tempfile.mkdtemp(prefix="bedrock-cdk-kit-tests-")))
    return _WORK_DIR[0]


@dataclass
class Synthesized:
    """One stage's synthesized templates (by stack id) and its cdk-nag report."""

    name: str
    plan: Any
    templates: dict[str, dict[str, Any]]
    nag_findings: list[dict[str, Any]] = field(default_factory=list)
    synth_error: str | None = None
    template_files: dict[str, Path] = field(default_factory=dict)
    stack_names: dict[str, str] = field(default_factory=dict)
    outdir: Path | None = None
    warnings: list[str] = field(default_factory=list)

    @property
    def config(self) -> Any:
        return self.plan.config

    def resources(self, type_: str, stack: str | None = None) -> dict[str, dict[str, Any]]:
        """Every resource of ``type_`` (``stack/logical id`` -> resource), in one stack or all."""
        found: dict[str, dict[str, Any]] = {}
        for sid, template in self.templates.items():
            if stack is None or sid == stack:
                for lid, res in template.get("Resources", {}).items():
                    if res["Type"] == type_:
                        found[f"{sid}/{lid}"] = res
        return found


def synthesize(
    stage: str,
    stages: dict[str, Any],
    *,
    today: date | None = None,
    outdir: Path | None = None,
    catalog: Any | None = None,
    kit: dict[str, Any] | None = None,
) -> Synthesized:
    """Synthesize ``stage`` of ``stages`` with the kit's app builder (bundling skipped).

    ``kit`` is the context's ``kit`` block (the fork's name); absent, the default name.

    The assembly is written under one temporary folder per test run (removed at the end).
    """
    from aws_cdk import App

    from stacks.app_builder import build_app

    out = outdir or Path(tempfile.mkdtemp(prefix=f"{stage}-", dir=work_dir()))
    app = App(outdir=str(out), context={**FEATURE_FLAGS, "aws:cdk:bundling-stacks": []})
    context: dict[str, Any] = {"stages": stages, "stage": stage}
    if kit is not None:
        context["kit"] = kit
    plan, kit_stage = build_app(app, context=context, env={}, today=today, catalog=catalog)
    assembly, error, findings = synth_with_findings(app, out)
    result = Synthesized(stage, plan, {}, findings, error, outdir=out)
    if assembly is not None:
        nested = assembly.get_nested_assembly(f"assembly-{kit_stage.stage_name}")
        for stack in kit_stage.stacks:
            artifact = nested.get_stack_by_name(stack.stack_name)
            result.templates[stack.node.id] = artifact.template
            result.template_files[stack.node.id] = Path(artifact.template_full_path)
            result.stack_names[stack.node.id] = stack.stack_name
            result.warnings += [
                str(m.entry.data)
                for m in artifact.messages
                if str(m.level).endswith("WARN") or "WARNING" in str(m.level)
            ]
    return result


def synth_with_findings(app: Any, out: Path) -> tuple[Any | None, str | None, list[dict[str, Any]]]:
    """Synthesize ``app`` into ``out``: its assembly (``None`` when synth failed), the failure,
    and every cdk-nag violation of the validation report (kept even when synth failed)."""
    error = None
    try:
        assembly = app.synth()
    except Exception as exc:  # cdk-nag violations fail synth: keep the report for the test
        error, assembly = str(exc), None
    findings: list[dict[str, Any]] = []
    report = out / "validation-report.json"
    if report.exists():
        for plugin in json.loads(report.read_text()).get("pluginReports", []):
            findings += plugin.get("violations", [])
    return assembly, error, findings


def clean_work_dir() -> None:
    """Remove every assembly this test run wrote."""
    while _WORK_DIR:
        shutil.rmtree(_WORK_DIR.pop(), ignore_errors=True)
