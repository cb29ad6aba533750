"""The chat REST routes: a Powertools resolver over the runtime's ``ChatService``.

Handlers stay one line: ``lambda/handlers/chat.py`` only wires this resolver to Lambda.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response, content_types
from aws_lambda_powertools.metrics import MetricUnit
from pydantic import ValidationError

from kit_runtime import errors
from kit_runtime.bedrock import runtime_client
from kit_runtime.chat import ChatService
from kit_runtime.observability import logger, metrics
from kit_runtime.schemas import ChatRequest
from kit_runtime.settings import load_settings

app = APIGatewayRestResolver()
_service: ChatService | None = None


def service() -> ChatService:
    """The stage's service, built on first use (tests inject their own with ``use_service``)."""
    global _service
    if _service is None:
        settings = load_settings()
        _service = ChatService(settings, runtime_client(max_attempts=settings.max_attempts))
    return _service


def use_service(new: ChatService | None) -> None:
    global _service
    _service = new


@app.post("/chat")
def chat() -> dict[str, Any]:
    svc = service()
    request = _parse(app.current_event.body)
    if svc.settings.log_prompts:
        logger.info("chat request", extra={"prompt": request.model_dump(mode="json")})
    response = svc.chat(request)
    metrics.add_dimension(name="model", value=response.model)
    metrics.add_metric(name="InputTokens", unit=MetricUnit.Count, value=response.usage.input_tokens)
    metrics.add_metric(
        name="OutputTokens", unit=MetricUnit.Count, value=response.usage.output_tokens
    )
    metrics.add_metric(
        name="CostMicroUSD",
        unit=MetricUnit.Count,
        value=round(response.cost.total_usd * 1_000_000, 2),
    )
    if response.guardrail_intervened:
        metrics.add_metric(name="GuardrailInterventions", unit=MetricUnit.Count, value=1)
    logger.info(
        "chat answered",
        extra={
            "model": response.model,
            "tier": response.tier,
            "stop_reason": response.stop_reason,
            "input_tokens": response.usage.input_tokens,
            "output_tokens": response.usage.output_tokens,
            "cost_usd": response.cost.total_usd,
            **({"completion": response.text} if svc.settings.log_prompts else {}),
        },
    )
    return response.model_dump(mode="json")


@app.get("/models")
def models() -> dict[str, Any]:
    settings = service().settings
    return {
        "models": sorted(settings.models),
        "tiers": dict(settings.tiers),
        "default_tier": settings.default_tier,
    }


def _parse(body: str | None) -> ChatRequest:
    if not body:
        raise errors.InvalidJson("the request body is empty; send a JSON object with 'messages'")
    try:
        return ChatRequest.model_validate_json(body)
    except ValidationError as exc:
        if any(e["type"] == "json_invalid" for e in exc.errors()):
            raise errors.InvalidJson("the request body is not valid JSON") from None
        raise errors.InvalidRequest(
            "the request body does not match the chat schema",
            errors=[
                {"field": ".".join(str(p) for p in e["loc"]) or "(body)", "message": e["msg"]}
                for e in exc.errors(include_url=False)
            ],
        ) from None


def _json_error(error: errors.KitError) -> Response:
    return Response(
        status_code=error.status,
        content_type=content_types.APPLICATION_JSON,
        body=error.body(app.current_event.request_context.request_id),
        headers=error.headers,
    )


@app.exception_handler(errors.KitError)
def _kit_error(error: errors.KitError) -> Response:
    logger.info("request refused", extra={"code": error.code, "status": error.status})
    return _json_error(error)


@app.not_found
def _not_found(_: Exception) -> Response:
    return _json_error(errors.NotFound("no such route; use POST /chat or GET /models"))


@app.exception_handler(Exception)
def _unexpected(error: Exception) -> Response:
    # The trace goes to the log, never to the caller.
    logger.exception("unexpected error")
    return _json_error(errors.KitError("internal error; see the function log for the request id"))
