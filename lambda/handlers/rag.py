"""RAG function: ``POST /rag`` behind API Gateway (REST).

The module owns its resolver and route; the logic lives in :mod:`kit_runtime.knowledge`
(Retrieve, then Converse through the stage's guardrail). The service is built on first use
from the stage settings (``KIT_SETTINGS``), the catalog facts shipped in the asset and two
botocore clients; tests inject their own with :func:`use_service`.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayRestResolver
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from kit_runtime.contracts.knowledge import RagRequest, field_path
from kit_runtime.http import (
    parse_body,
    read_json_body,
    register_error_handlers,
    request_deadline,
)
from kit_runtime.knowledge import RagService, caller_identity
from kit_runtime.metering import record_answer, record_retrieval
from kit_runtime.observability import logger, metrics, tracer

app = APIGatewayRestResolver()
register_error_handlers(app, routes_hint="use POST /rag")

_service: RagService | None = None


def service() -> RagService:
    """The stage's service, built once per execution environment."""
    global _service
    if _service is None:
        from kit_runtime.bedrock import agent_runtime_client, runtime_client
        from kit_runtime.contracts.knowledge import RagSettings
        from kit_runtime.settings import load_runtime_catalog, read_settings

        settings = read_settings(RagSettings)
        budget = settings.chat.budget
        _service = RagService(
            settings,
            load_runtime_catalog(),
            runtime_client(budget),
            agent_runtime_client(budget),
        )
    return _service


def use_service(new: RagService | None) -> None:
    """Replace the service (tests); ``None`` rebuilds the production one on next use."""
    global _service
    _service = new


@app.post("/rag")
def rag() -> dict[str, Any]:
    svc = service()
    settings = svc.settings.retrieval
    event = app.current_event
    body = read_json_body(event, max_bytes=settings.limits.max_body_bytes)
    request = parse_body(RagRequest, body, field_path=field_path)
    outcome = svc.answer(
        request,
        tenant=caller_identity(event.request_context.get("identity")),
        deadline=request_deadline(app, settings.budget),
    )
    log_prompts = settings.log_prompts
    record_retrieval(
        knowledge_base=request.knowledge_base,
        results=len(outcome.passages),
        log_prompts=False,  # the prompt below holds the question and the passages
    )
    if outcome.generation is not None:
        tracer.put_annotation(key="model", value=outcome.generation.model)
        prompt = None
        if log_prompts:
            prompt = request.model_dump(mode="json", by_alias=True)
            prompt["passages"] = [p.text for p in outcome.passages]
        record_answer(
            outcome.generation,
            log_prompts=log_prompts,
            prompt=prompt,
            event="rag answered",
            extra={"knowledge_base": request.knowledge_base},
        )
    response = outcome.response.model_copy(update={"request_id": event.request_context.request_id})
    return response.model_dump(mode="json")


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    """Lambda entry point."""
    return app.resolve(event, context)
