#!/usr/bin/env python3
"""CDK entry point of ``make pipeline-bootstrap``: GitHub's OIDC provider and the CI roles.

A separate app from ``app.py`` so a stage deploy can never touch the pipeline's roles and the
bootstrap never synthesizes a stage; both read the same ``cdk.json`` context.
"""

import os
import sys
from pathlib import Path

# The config package reads the runtime's contracts (lambda/kit_runtime/contracts).
sys.path.insert(0, str(Path(__file__).resolve().parent / "lambda"))

from aws_cdk import App  # noqa: E402

from stacks.config import ConfigError  # noqa: E402
from stacks.pipeline.app import build_pipeline_app  # noqa: E402

app = App()
try:
    build_pipeline_app(app, context=app.node.get_all_context(), env=os.environ)
except ConfigError as error:
    sys.exit(f"cdk.json: {error}")
app.synth()
