"""``POST /guardrail/check`` through its handler, its service talking to the local server."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from kit_runtime.bedrock import runtime_client
from kit_runtime.contracts.guardrail_check import GuardrailCheckSettings
from kit_runtime.guardrail_check import GuardrailCheckService
from tests.support.chat_api import Reply, call_route


@contextmanager
def serving_checks(settings: GuardrailCheckSettings, endpoint_url: str) -> Iterator[None]:
    """The handler's service, built from ``settings`` against the server at ``endpoint_url``,
    for the duration of the block."""
    from handlers.guardrail_check import use_service

    client = runtime_client(
        settings.budget,
        endpoint_url=endpoint_url,
        region_name="us-east-1",
        aws_access_key_id="test",
        aws_secret_access_key="test",
    )
    use_service(GuardrailCheckService(settings, client))
    try:
        yield
    finally:
        use_service(None)


def check(body: Any) -> Reply:
    """``POST /guardrail/check`` with ``body``, through the handler."""
    from handlers.guardrail_check import handler

    return call_route(handler, "POST", "/guardrail/check", body)
