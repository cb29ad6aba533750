"""Every model call the runtime makes carries the stage's pinned guardrail with its trace on:
chat and stream, first attempts, retries and the tier's fallbacks (real botocore against the
local wire server; RAG: tests/functional/knowledge/test_rag_guardrail_verdict.py)."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from kit_runtime.contracts.chat import GuardrailRef
from kit_runtime.contracts.chat_api import ChatRequest
from tests.fakes import FakeBedrock, Reply
from tests.support.chat_api import Api, make_service
from tests.support.guardrail_calls import model_calls, unguarded
from tests.support.routing import arn, chained_settings, fast_chain

FAST = {"tier": "fast", "messages": [{"role": "user", "content": "hello"}]}


def test_given_chat_with_a_fallback_when_asked_then_every_attempt_carries_the_guardrail(
    chat_api: Api,
) -> None:
    # Given a fast tier of two models whose first choice throttles every attempt
    settings = chained_settings(2)
    chat_api.use(settings)
    first = fast_chain(settings)[0]
    chat_api.server.enqueue_for(arn(settings, first), Reply.throttle(times=50))
    # When a client asks the tier
    got = chat_api.chat(FAST)
    # Then the retries and the fallback all went through the pinned guardrail, traced
    assert got.status == 200, got.body
    assert len(model_calls(chat_api.server)) == settings.budget.max_attempts + 1
    assert unguarded(chat_api.server, settings.guardrail) == []


def test_given_a_stream_with_a_fallback_when_streamed_then_every_attempt_carries_it(
    bedrock_server: FakeBedrock,
) -> None:
    # Given the streaming runtime over a chain whose first model throttles
    bedrock_server.reset()
    settings = chained_settings(2)
    service = make_service(bedrock_server, settings)
    bedrock_server.enqueue_for(arn(settings, fast_chain(settings)[0]), Reply.throttle(times=50))
    # When a request is streamed to the end
    items = list(service.stream(ChatRequest.model_validate(FAST)))
    # Then every ConverseStream attempt carried the guardrail and its trace
    assert items and len(model_calls(bedrock_server)) == settings.budget.max_attempts + 1
    assert {r.operation for r in model_calls(bedrock_server)} == {"ConverseStream"}
    assert unguarded(bedrock_server, settings.guardrail) == []


@pytest.mark.parametrize("version", ["DRAFT", "draft", " DRAFT "])
def test_given_a_draft_guardrail_version_when_settings_load_then_refused(version: str) -> None:
    with pytest.raises(ValidationError, match="DRAFT"):
        GuardrailRef(arn="arn:aws:bedrock:us-east-1:111122223333:guardrail/abc", version=version)
