"""Builds the CDK app for one stage; shared by ``app.py`` and the tests."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

from aws_cdk import Annotations, App, Validations
from cdk_nag import AwsSolutionsChecks, ServerlessChecks

from stacks.catalog import Catalog
from stacks.config import StagePlan, load_plan
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
    Validations.of(app).add_plugins(AwsSolutionsChecks(app), ServerlessChecks(app))
    return plan, stage
