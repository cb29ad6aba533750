"""Guardrail-check function: ``POST /guardrail/check`` behind API Gateway (REST).

The module owns its resolver and route; the logic lives in :mod:`kit_runtime.guardrail_check`.
The service is built on first use from the stage settings (``KIT_SETTINGS``) and a botocore
``bedrock-runtime`` client; tests inject their own with :func:`use_service`.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayRestResolver
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from kit_runtime.contracts.guardrail_check import GuardrailCheckRequest
from kit_runtime.guardrail_check import GuardrailCheckService
from kit_runtime.http import parse_body, read_json_body, register_error_handlers, request_deadline
from kit_runtime.observability import logger, metrics, tracer

app = APIGatewayRestResolver()
register_error_handlers(app, routes_hint="use POST /guardrail/check")

_service: GuardrailCheckService | None = None


def service() -> GuardrailCheckService:
    """The stage's service, built once per execution environment."""
    global _service
    if _service is None:
        from kit_runtime.bedrock import runtime_client
        from kit_runtime.contracts.guardrail_check import GuardrailCheckSettings
        from kit_runtime.settings import read_settings

        settings = read_settings(GuardrailCheckSettings)
        _service = GuardrailCheckService(settings, runtime_client(settings.budget))
    return _service


def use_service(new: GuardrailCheckService | None) -> None:
    """Replace the service (tests); ``None`` rebuilds the production one on next use."""
    global _service
    _service = new


def _field_path(loc: tuple[int | str, ...]) -> str:
    return ".".join(str(part) for part in loc)


@app.post("/guardrail/check")
def check() -> dict[str, Any]:
    svc = service()
    event = app.current_event
    body = read_json_body(event, max_bytes=svc.settings.max_body_bytes)
    request = parse_body(GuardrailCheckRequest, body, field_path=_field_path)
    verdict = svc.check(
        request,
        deadline=request_deadline(app, svc.settings.budget),
        request_id=event.request_context.request_id,
    )
    metrics.add_metric(
        name="GuardrailCheckInterventions", unit=MetricUnit.Count, value=int(verdict.intervened)
    )
    # The verdict only: the text (and an anonymized output) reaches the log with log_prompts.
    private = {"text": request.text} if svc.settings.log_prompts else {}
    logger.info(
        "guardrail check answered",
        extra={
            "verdict": verdict.verdict,
            "policies": [p.model_dump() for p in verdict.policies],
            **private,
        },
    )
    return verdict.model_dump(mode="json")


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    """Lambda entry point."""
    return app.resolve(event, context)
