"""Builds the pipeline bootstrap app; shared by ``app_pipeline.py`` and the tests."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from aws_cdk import Annotations, App, Validations
from cdk_nag import AwsSolutionsChecks

from stacks.config.pipeline import PipelinePlan, load_pipeline
from stacks.pipeline.stack import PipelineBootstrapStack


def build_pipeline_app(
    app: App, *, context: Mapping[str, Any], env: Mapping[str, str]
) -> tuple[PipelinePlan, PipelineBootstrapStack]:
    """Validate ``context.pipeline`` and add the account's bootstrap stack and cdk-nag to ``app``.

    Raises
    ------
    ConfigError
        When ``context.pipeline`` or the stages' account and region are invalid.
    """
    plan = load_pipeline(context, env)
    stack = PipelineBootstrapStack(app, plan=plan)
    for note in plan.skipped:
        Annotations.of(stack).add_warning_v2("kit:pipeline", note)
    Validations.of(app).add_plugins(AwsSolutionsChecks(app))
    return plan, stack
