"""Chat function: ``POST /chat`` and ``GET /models`` behind API Gateway (REST).

The module owns its resolver and routes; the logic lives in :mod:`kit_runtime.chat`. The
service is built on first use from the stage settings (``KIT_SETTINGS``), the catalog facts
shipped in the asset and a botocore client; tests inject their own with :func:`use_service`.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayRestResolver
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from kit_runtime.chat import ChatService, stage_chat_service
from kit_runtime.contracts.chat_api import ChatRequest, field_path
from kit_runtime.http import (
    parse_body,
    read_json_body,
    register_error_handlers,
    request_deadline,
)
from kit_runtime.metering import record_answer
from kit_runtime.observability import logger, metrics, tracer

app = APIGatewayRestResolver()
register_error_handlers(app, routes_hint="use POST /chat, POST /chat/stream or GET /models")

_service: ChatService | None = None


def service() -> ChatService:
    """The stage's service, built once per execution environment."""
    global _service
    if _service is None:
        _service = stage_chat_service()
    return _service


def use_service(new: ChatService | None) -> None:
    """Replace the service (tests); ``None`` rebuilds the production one on next use."""
    global _service
    _service = new


# Routes are not wrapped in ``tracer.capture_method``: it logs every exception with its trace,
# refused requests included; the handler's segment and botocore's subsegments suffice.
@app.post("/chat")
def chat() -> dict[str, Any]:
    svc = service()
    event = app.current_event
    body = read_json_body(event, max_bytes=svc.settings.limits.max_body_bytes)
    request = parse_body(ChatRequest, body, field_path=field_path)
    response = svc.chat(request, deadline=request_deadline(app, svc.settings.budget))
    tracer.put_annotation(key="model", value=response.model)
    log_prompts = svc.settings.log_prompts
    record_answer(
        response,
        log_prompts=log_prompts,
        prompt=request.model_dump(mode="json", by_alias=True) if log_prompts else None,
    )
    return response.model_dump(mode="json")


@app.get("/models")
def models() -> dict[str, Any]:
    settings = service().settings
    return {
        "models": sorted(settings.models),
        "tiers": dict(settings.tiers),
        "fallbacks": dict(settings.fallbacks),
        "default_tier": settings.default_tier,
        "limits": settings.limits.model_dump(),
    }


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    """Lambda entry point."""
    return app.resolve(event, context)
