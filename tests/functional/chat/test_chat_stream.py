"""ChatService.stream over ConverseStream: real botocore decoding the local server's stream."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from kit_runtime import errors
from kit_runtime.chat import ChatService
from kit_runtime.contracts.chat_api import ChatRequest, ChatResponse
from tests.fakes import FakeBedrock, Reply
from tests.support.chat_api import make_service

REQUEST = ChatRequest.model_validate(
    {"tier": "deep", "messages": [{"role": "user", "content": "tell me a story"}]}
)


@pytest.fixture
def service(bedrock_server: FakeBedrock) -> Iterator[ChatService]:
    bedrock_server.reset()
    yield make_service(bedrock_server)


def drain(service: ChatService) -> tuple[list[str], ChatResponse]:
    *deltas, final = list(service.stream(REQUEST))
    assert isinstance(final, ChatResponse)
    return [d for d in deltas if isinstance(d, str)], final


def test_stream_yields_deltas_then_usage_and_cost(
    service: ChatService, bedrock_server: FakeBedrock
) -> None:
    # Given a scripted answer streamed in several chunks
    bedrock_server.enqueue(
        Reply.text("once upon a time there was a kit", input_tokens=40, output_tokens=9)
    )
    # When the runtime streams it
    deltas, final = drain(service)
    # Then the deltas rebuild the text and the final response carries usage and cost
    assert len(deltas) > 1 and "".join(deltas) == final.text
    assert final.text == "once upon a time there was a kit"
    assert (final.usage.input_tokens, final.usage.output_tokens) == (40, 9)
    prices = service.prices(final.model)
    assert final.cost.total_usd == pytest.approx(
        (40 * prices.input_per_mtok + 9 * prices.output_per_mtok) / 1e6
    )
    # And the request went to ConverseStream through the profile and guardrail
    sent = bedrock_server.last_request
    assert sent.operation == "ConverseStream"
    assert sent.model_id == service.settings.models[final.model].invoke_arn
    assert sent.body["guardrailConfig"]["guardrailVersion"] == service.settings.guardrail.version


def test_stream_reports_guardrail_intervention(
    service: ChatService, bedrock_server: FakeBedrock
) -> None:
    bedrock_server.enqueue(Reply.guardrail_intervened("Blocked by policy."))
    _, final = drain(service)
    assert final.guardrail_intervened and final.text == "Blocked by policy."


def test_throttle_before_the_stream_opens_is_retried_then_429(
    service: ChatService, bedrock_server: FakeBedrock
) -> None:
    # Given Bedrock throttles every attempt at opening the stream
    attempts = service.settings.budget.max_attempts
    bedrock_server.enqueue(Reply.throttle(times=attempts))
    # When the runtime streams, Then every attempt is made and the caller gets 429
    with pytest.raises(errors.Throttled) as info:
        drain(service)
    assert info.value.headers["Retry-After"]
    assert len(bedrock_server.requests) == attempts


def test_throttle_mid_stream_raises_after_the_partial_text_and_is_not_retried(
    service: ChatService, bedrock_server: FakeBedrock
) -> None:
    # Given the stream fails after some text (the model already ran)
    bedrock_server.enqueue(Reply.stream_error("throttlingException", text_before="partial"))
    seen: list[str] = []
    # When the runtime streams, Then the partial text came first, then 429, with one call
    with pytest.raises(errors.Throttled):
        for item in service.stream(REQUEST):
            seen.append(item)  # type: ignore[arg-type]
    assert "".join(seen) == "partial"
    assert len(bedrock_server.requests) == 1


def test_bad_input_is_refused_before_any_call(
    service: ChatService, bedrock_server: FakeBedrock
) -> None:
    bad = ChatRequest.model_validate(
        {"model": "nope", "messages": [{"role": "user", "content": "x"}]}
    )
    with pytest.raises(errors.UnknownModel):
        list(service.stream(bad))
    assert bedrock_server.requests == []
