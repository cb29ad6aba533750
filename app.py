#!/usr/bin/env python3
"""CDK entry point: load the chosen stage's config, build its stage, attach the cdk-nag packs."""

import os
import sys
from pathlib import Path

# The deploy code reads the runtime's contracts (lambda/kit_runtime/contracts), defined once.
sys.path.insert(0, str(Path(__file__).resolve().parent / "lambda"))

from aws_cdk import App  # noqa: E402

from stacks.app_builder import build_app, synth_checked  # noqa: E402
from stacks.catalog import CatalogError  # noqa: E402
from stacks.config import ConfigError  # noqa: E402
from stacks.core.settings import EnvironmentTooLarge  # noqa: E402

app = App()
try:
    build_app(app, context=app.node.get_all_context(), env=os.environ)
except ConfigError as error:
    sys.exit(f"cdk.json: {error}")
except CatalogError as error:
    sys.exit(f"model catalog: {error}")
except EnvironmentTooLarge as error:
    sys.exit(f"cdk.json: {error}")
# A cdk-nag finding fails `make synth|diff|deploy` (the CLI alone would exit 0).
if failure := synth_checked(app):
    sys.exit(failure)
