"""Builds the CDK app for one stage; shared by ``app.py`` and the tests."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

from aws_cdk import Annotations, App, Validations
from cdk_nag import AwsSolutionsChecks, NIST80053R5Checks, ServerlessChecks

from stacks.catalog import Catalog
from stacks.config import StagePlan, load_plan
from stacks.core.nag import acknowledge
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
