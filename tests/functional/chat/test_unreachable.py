"""Bedrock unreachable: connect timeouts through real botocore against a blackholed port."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest

from kit_runtime import errors
from kit_runtime.bedrock import runtime_client
from kit_runtime.chat import ChatService
from kit_runtime.contracts.chat_api import ChatRequest
from tests.fakes import BlackholeEndpoint
from tests.support.chat_api import Api, catalog, make_settings

HELLO = {"messages": [{"role": "user", "content": "hello"}]}
CONNECT_TIMEOUT_S = 0.05


@pytest.fixture
def unreachable(chat_api: Api) -> Iterator[tuple[Api, list[str]]]:
    """The chat handler over a client whose every connect times out, and its attempt log."""
    from handlers.chat import use_service

    settings = make_settings(budget={"connect_timeout_seconds": CONNECT_TIMEOUT_S})
    with BlackholeEndpoint() as endpoint:
        client = runtime_client(
            settings.budget,
            endpoint_url=endpoint.endpoint_url,
            region_name="us-east-1",
            aws_access_key_id="test",
            aws_secret_access_key="test",
        )
        attempts: list[str] = []

        def record(event_name: str, **_: Any) -> None:
            attempts.append(event_name)

        client.meta.events.register("before-send.bedrock-runtime", record)
        use_service(ChatService(settings, catalog(), client))
        chat_api.settings = settings
        yield chat_api, attempts


def test_connect_timeouts_are_retried_then_answered_503_with_retry_after(
    unreachable: tuple[Api, list[str]],
) -> None:
    api, attempts = unreachable
    # Given an endpoint where every TCP connect times out
    # When a client chats
    started = time.monotonic()
    got = api.chat(HELLO)
    # Then every attempt is made (nothing was sent, so retrying is safe) ...
    assert len(attempts) == api.settings.budget.max_attempts
    # ... and the caller gets 503 model_unavailable with Retry-After, well within the budget
    assert got.status == 503, got.body
    assert got.body["error"]["code"] == "model_unavailable"
    assert int(got.headers["Retry-After"]) >= 1
    assert time.monotonic() - started < api.settings.budget.integration_timeout_ms / 1000


def test_the_stream_maps_connect_timeouts_the_same_way(
    unreachable: tuple[Api, list[str]],
) -> None:
    from handlers.chat import service

    _, attempts = unreachable
    # Given the same unreachable endpoint, When the runtime opens a stream
    request = ChatRequest.model_validate(HELLO)
    with pytest.raises(errors.UpstreamUnavailable) as info:
        list(service().stream(request))
    # Then it retried and raised the same 503 the handler answers with
    assert len(attempts) == service().settings.budget.max_attempts
    assert info.value.headers["Retry-After"]
