"""Builds the CDK app for one stage; shared by ``app.py`` and the tests."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from pathlib import Path
from typing import Any

from aws_cdk import Annotations, App, Validations
from cdk_nag import AwsSolutionsChecks, NIST80053R5Checks, ServerlessChecks

from stacks.catalog import Catalog
from stacks.config import StagePlan, load_plan
from stacks.core.nag import REPORT_FILE, acknowledge, findings_summary, report_findings
from stacks.nag_bedrock import BedrockChecks
from stacks.stage import KitStage


def build_app(
    app: App,
    *,
    context: Mapping[str, Any],
    env: Mapping[str, str],
    catalog: Catalog | None = None,
    today: date | None = None,
) -> tuple[StagePlan, KitStage]:
    """Validate the chosen stage's config and add its stage and the cdk-nag packs to ``app``."""
    plan = load_plan(context, env, catalog, today=today)
    stage = KitStage(app, plan=plan)
    for warning in plan.warnings:
        # On the stack the models belong to: the CLI prints stack annotations at synth.
        Annotations.of(stage.platform).add_warning_v2("kit:config", warning)
    Validations.of(app).add_plugins(*nag_packs(app, plan))
    acknowledge(
        stage,
        "NIST.800.53.R5-IAMNoInlinePolicy",
        "CDK writes each role's grants as one AWS::IAM::Policy attached to that role only and "
        "deployed and deleted with it; a customer-managed policy would hold the same statements "
        "as a separately shareable object.",
    )
    return plan, stage


def nag_packs(app: App, plan: StagePlan) -> list[Any]:
    """The cdk-nag packs a stage is checked with: AwsSolutions, Serverless and the Bedrock pack
    everywhere, NIST 800-53 R5 in production (docs/decisions.md)."""
    production = plan.production
    private = plan.private
    packs: list[Any] = [
        AwsSolutionsChecks(app),
        ServerlessChecks(app),
        BedrockChecks(app, private_network=private, production=production),
    ]
    if production:
        packs.append(NIST80053R5Checks(app))
    return packs


def synth_checked(app: App) -> str | None:
    """Synthesize ``app``; return a summary of the cdk-nag findings no acknowledgment covers,
    or ``None`` when there are none.

    aws-cdk-lib fails on a finding only outside the CLI (it raises ``ValidationFailed``); under
    ``cdk synth|diff|deploy`` it sets the exit code of jsii's Node process and the Python app
    still exits 0, so the CLI would deploy. The report CDK writes into the assembly is read
    back instead, and the caller exits non-zero with the summary.
    """
    report = Path(app.outdir) / REPORT_FILE
    report.unlink(missing_ok=True)  # a report left by an earlier synth must not count
    try:
        app.synth()
    except Exception:
        if not report.exists() or not report_findings(report):
            raise
    if not report.exists():
        # Every stage registers the packs, so a missing report means validation did not run.
        return f"cdk-nag: synth wrote no {REPORT_FILE} into {app.outdir}; the packs did not run"
    findings = report_findings(report)
    return findings_summary(findings, report) if findings else None
