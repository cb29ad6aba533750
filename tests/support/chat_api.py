"""Helpers for the chat runtime tests: test-owned settings, events and the handler caller.

Settings are built here (never read from a shipped stage) and models are picked generically
from the catalog, so a fork that renames stages or retires models keeps these tests green.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from typing import Any

# Powertools reads these when the runtime is imported (the stack sets them in Lambda).
os.environ.setdefault("POWERTOOLS_SERVICE_NAME", "chat")
os.environ.setdefault("POWERTOOLS_METRICS_NAMESPACE", "BedrockKitTest")
os.environ.setdefault("POWERTOOLS_TRACE_DISABLED", "true")
os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")

from kit_runtime.bedrock import runtime_client  # noqa: E402
from kit_runtime.chat import ChatService  # noqa: E402
from kit_runtime.contracts.catalog import RuntimeCatalog  # noqa: E402
from kit_runtime.contracts.chat import ChatSettings, TimeBudget  # noqa: E402
from stacks.tools.serve import proxy_event
from tests.fakes import FakeBedrock  # noqa: E402
from tests.support.lambda_context import LambdaContext  # noqa: E402

PROFILE_ARN = "arn:aws:bedrock:us-east-1:123456789012:application-inference-profile/{}"
GUARDRAIL_ARN = "arn:aws:bedrock:us-east-1:123456789012:guardrail/gr123"

LIMITS: dict[str, int] = {
    "max_body_bytes": 64_000,
    "max_messages": 12,
    "max_content_blocks": 4,
    "max_text_chars": 4_000,
    "max_stop_sequences": 3,
    "max_stop_sequence_chars": 16,
    "max_images": 2,
    "max_image_bytes": 2_048,
}
"""Small limits so every one of them is cheap to exceed in a test."""

BUDGET: dict[str, Any] = {
    "integration_timeout_ms": 4_000,
    "safety_margin_ms": 300,
    "connect_timeout_seconds": 0.5,
    "read_timeout_seconds": 2.0,
    "max_attempts": 3,
    "backoff_base_ms": 2,
    "backoff_max_ms": 10,
}
"""A short budget with millisecond backoff: retry and deadline tests stay fast."""


@cache
def catalog() -> RuntimeCatalog:
    """The catalog's runtime facts, built the way the bundler builds them."""
    from stacks.catalog import load_catalog
    from stacks.catalog.runtime_facts import runtime_catalog

    return runtime_catalog(load_catalog())


def chat_model_ids(count: int = 3) -> list[str]:
    """``count`` streaming chat models of the catalog (any: tests assert nothing model-specific)."""
    ids = sorted(
        mid for mid, facts in catalog().models.items() if facts.kind == "chat" and facts.streaming
    )
    assert len(ids) >= count, "the catalog needs at least three streaming chat models"
    return ids[:count]


def chat_model_by_input(kind: str, *, accepts: bool) -> str | None:
    """Any streaming chat model whose catalog input modalities include ``kind`` (or lack it)."""
    ids = sorted(
        mid
        for mid, facts in catalog().models.items()
        if facts.kind == "chat" and facts.streaming and (kind in facts.input_modalities) == accepts
    )
    return ids[0] if ids else None


def settings_serving(*model_ids: str, **overrides: Any) -> ChatSettings:
    """Test settings that enable ``model_ids`` only; every tier routes to the first."""
    models = {
        mid: {"invoke_arn": PROFILE_ARN.format(i), "profile": None}
        for i, mid in enumerate(model_ids)
    }
    tiers = dict.fromkeys(("fast", "balanced", "deep"), model_ids[0])
    return make_settings(models=models, tiers=tiers, **overrides)


def make_settings(**overrides: Any) -> ChatSettings:
    """Stage settings shaped like the ones the stack writes (three models, three tiers)."""
    fast, balanced, deep = chat_model_ids(3)
    doc: dict[str, Any] = {
        "stage": "test",
        "models": {
            mid: {"invoke_arn": PROFILE_ARN.format(i), "profile": None}
            for i, mid in enumerate((fast, balanced, deep))
        },
        "tiers": {"fast": fast, "balanced": balanced, "deep": deep},
        "default_tier": "balanced",
        "default_max_tokens": 256,
        "max_tokens_limit": 1024,
        "guardrail": {"arn": GUARDRAIL_ARN, "version": "3"},
        "log_prompts": False,
        "limits": dict(LIMITS),
        "budget": dict(BUDGET),
    }
    for key, value in overrides.items():
        if isinstance(value, dict) and isinstance(doc.get(key), dict) and key != "models":
            doc[key] = {**doc[key], **value}
        else:
            doc[key] = value
    return ChatSettings.model_validate(doc)


def client_for(server: FakeBedrock, settings: ChatSettings) -> Any:
    """A production-configured client pointed at the local server (one per budget)."""
    return _client(server.endpoint_url, settings.budget)


@cache
def _client(endpoint_url: str, budget: TimeBudget) -> Any:
    # Building a client parses the service model (~0.1 s): share one per budget.
    return runtime_client(
        budget,
        endpoint_url=endpoint_url,
        region_name="us-east-1",
        aws_access_key_id="test",
        aws_secret_access_key="test",
    )


def make_service(server: FakeBedrock, settings: ChatSettings | None = None) -> ChatService:
    """The chat service over the local server, with test settings and the catalog facts."""
    settings = settings or make_settings()
    return ChatService(settings, catalog(), client_for(server, settings))


JSON_HEADERS = {"content-type": "application/json"}


def rest_event(
    method: str,
    path: str,
    body: Any = None,
    *,
    raw: str | None = None,
    headers: dict[str, str] | None = None,
    request_time_epoch_ms: int | None = None,
) -> dict[str, Any]:
    """An API Gateway REST proxy event as Lambda receives it (received now by default); the
    same builder ``make serve-local`` uses."""
    if raw is None and body is not None:
        raw = json.dumps(body)
    event = proxy_event(
        method,
        path,
        dict(JSON_HEADERS if headers is None else headers),
        b"",
        stage="test",
        request_time_epoch_ms=request_time_epoch_ms,
    )
    # The text as given (a test may send what is not valid UTF-8 once encoded).
    event["body"] = raw
    return event


@dataclass
class Reply:
    """The handler's proxy response, decoded."""

    status: int
    body: dict[str, Any]
    headers: dict[str, str]


def call_handler(
    handler: Callable[[dict[str, Any], Any], dict[str, Any]],
    event: dict[str, Any],
    context: LambdaContext | None = None,
) -> Reply:
    """Run a Lambda entry point on a REST proxy event; its response decoded."""
    result = handler(event, context or LambdaContext())
    got = dict(result.get("headers") or {})
    got.update({k: v[-1] for k, v in (result.get("multiValueHeaders") or {}).items()})
    return Reply(result["statusCode"], json.loads(result["body"]), got)


def call_route(
    handler: Callable[[dict[str, Any], Any], dict[str, Any]],
    method: str,
    path: str,
    body: Any = None,
    *,
    raw: str | None = None,
    headers: dict[str, str] | None = None,
    caller: str | None = None,
    request_time_epoch_ms: int | None = None,
    context: LambdaContext | None = None,
) -> Reply:
    """``method path`` through ``handler`` as API Gateway delivers it, signed by ``caller`` (an
    IAM ARN as API Gateway reports it in ``requestContext.identity.userArn``; ``None``:
    unsigned)."""
    event = rest_event(
        method,
        path,
        body,
        raw=raw,
        headers=headers,
        request_time_epoch_ms=request_time_epoch_ms,
    )
    if caller is not None:
        event["requestContext"]["identity"]["userArn"] = caller
    return call_handler(handler, event, context)


@dataclass
class Api:
    """Calls the real handler entry point and decodes its proxy response."""

    server: FakeBedrock
    settings: ChatSettings

    def call(
        self,
        method: str,
        path: str,
        body: Any = None,
        *,
        raw: str | None = None,
        headers: dict[str, str] | None = None,
        request_time_epoch_ms: int | None = None,
        context: LambdaContext | None = None,
    ) -> Reply:
        from handlers.chat import handler

        return call_route(
            handler,
            method,
            path,
            body,
            raw=raw,
            headers=headers,
            request_time_epoch_ms=request_time_epoch_ms,
            context=context,
        )

    def chat(self, body: Any, **kwargs: Any) -> Reply:
        return self.call("POST", "/chat", body, **kwargs)

    def use(self, settings: ChatSettings) -> None:
        """Serve with other settings (same local server)."""
        from handlers.chat import use_service
        from tests.support.model_options import rules_for

        self.settings = settings
        self.server.set_rules(rules_for(settings, catalog()))
        use_service(make_service(self.server, settings))
