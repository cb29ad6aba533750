"""Chat function entry point (POST /chat, GET /models)."""

from aws_lambda_powertools.utilities.typing import LambdaContext

from kit_runtime.api import app
from kit_runtime.observability import logger, metrics


@logger.inject_lambda_context
@metrics.log_metrics
def handler(event: dict, context: LambdaContext) -> dict:
    return app.resolve(event, context)
