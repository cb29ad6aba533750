"""Builds the CDK app for one stage; shared by ``app.py`` and the tests."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from aws_cdk import App, Validations
from cdk_nag import AwsSolutionsChecks, ServerlessChecks

from stacks.catalog import load_catalog
from stacks.config import StageConfig, load_stage_config
from stacks.stage import KitStage


def build_app(
    app: App, *, context: Mapping[str, Any], env: Mapping[str, str]
) -> tuple[StageConfig, KitStage]:
    """Validate the chosen stage's config and add its stage and the cdk-nag packs to ``app``."""
    catalog = load_catalog()
    config = load_stage_config(context, env, catalog)
    stage = KitStage(app, config=config, catalog=catalog)
    Validations.of(app).add_plugins(AwsSolutionsChecks(app), ServerlessChecks(app))
    return config, stage
