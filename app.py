#!/usr/bin/env python3
"""CDK entry point: load the stage's config, build its stage, run the cdk-nag packs."""

import os
import sys

from aws_cdk import App

from stacks.app_builder import build_app
from stacks.catalog import CatalogError
from stacks.config import ConfigError

app = App()
try:
    build_app(
        app,
        context={
            "stages": app.node.try_get_context("stages"),
            "stage": app.node.try_get_context("stage"),
        },
        env=os.environ,
    )
except ConfigError as error:
    sys.exit(f"cdk.json: {error}")
except CatalogError as error:
    sys.exit(f"model catalog: {error}")
app.synth()
