"""Retrieve function: ``POST /retrieve`` behind API Gateway (REST).

The module owns its resolver and route; the logic lives in :mod:`kit_runtime.knowledge`. The
service is built on first use from the stage settings (``KIT_SETTINGS``) and a botocore
``bedrock-agent-runtime`` client; tests inject their own with :func:`use_service`.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayRestResolver
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from kit_runtime.contracts.knowledge import RetrieveRequest, RetrieveResponse, field_path
from kit_runtime.http import (
    parse_body,
    read_json_body,
    register_error_handlers,
    request_deadline,
)
from kit_runtime.knowledge import KnowledgeService, caller_identity
from kit_runtime.metering import record_retrieval
from kit_runtime.observability import logger, metrics, tracer

app = APIGatewayRestResolver()
register_error_handlers(app, routes_hint="use POST /retrieve")

_service: KnowledgeService | None = None


def service() -> KnowledgeService:
    """The stage's service, built once per execution environment."""
    global _service
    if _service is None:
        from kit_runtime.bedrock import agent_runtime_client
        from kit_runtime.contracts.knowledge import RetrieveSettings
        from kit_runtime.settings import read_settings

        settings = read_settings(RetrieveSettings)
        _service = KnowledgeService(settings, agent_runtime_client(settings.budget))
    return _service


def use_service(new: KnowledgeService | None) -> None:
    """Replace the service (tests); ``None`` rebuilds the production one on next use."""
    global _service
    _service = new


@app.post("/retrieve")
def retrieve() -> dict[str, Any]:
    svc = service()
    event = app.current_event
    body = read_json_body(event, max_bytes=svc.settings.limits.max_body_bytes)
    request = parse_body(RetrieveRequest, body, field_path=field_path)
    passages = svc.retrieve(
        request.knowledge_base,
        request.query,
        caller_filter=request.filter,
        results=request.results,
        tenant=caller_identity(event.request_context.get("identity")),
        deadline=request_deadline(app, svc.settings.budget),
    )
    log_prompts = svc.settings.log_prompts
    record_retrieval(
        knowledge_base=request.knowledge_base,
        results=len(passages),
        log_prompts=log_prompts,
        query=request.model_dump(mode="json", by_alias=True) if log_prompts else None,
    )
    return RetrieveResponse(
        results=passages,
        knowledge_base=request.knowledge_base,
        request_id=event.request_context.request_id,
    ).model_dump(mode="json")


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    """Lambda entry point."""
    return app.resolve(event, context)
