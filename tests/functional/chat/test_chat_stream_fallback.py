"""``POST /chat/stream`` along a tier's fallback chain, over real HTTP: the ASGI app under
uvicorn on localhost, Bedrock the local wire server scripted per model.

Before the first byte a stream is one routed attempt (retries, then the next model); after the
first delta nothing is retried or moved, and the stream ends with ``event: error``.
"""

from __future__ import annotations

import http.client
import json
from collections.abc import Iterator
from typing import Any

import pytest

from handlers.chat_stream import app, use_service
from kit_runtime.contracts.chat import ChatSettings
from tests.fakes import FakeBedrock, Reply
from tests.support.chat_api import catalog, make_service
from tests.support.model_options import rules_for
from tests.support.routing import arn, chained_settings, fast_chain
from tests.support.serve_local import asgi_on_localhost, read_events

FAST = {"tier": "fast", "messages": [{"role": "user", "content": "tell me about fallbacks"}]}


@pytest.fixture(scope="module")
def port() -> Iterator[int]:
    with asgi_on_localhost(app) as found:
        yield found


@pytest.fixture
def chain(bedrock_server: FakeBedrock) -> Iterator[ChatSettings]:
    """The streaming app serving a fast tier of three models over the local server."""
    bedrock_server.reset()
    settings = chained_settings(3)
    bedrock_server.set_rules(rules_for(settings, catalog()))
    use_service(make_service(bedrock_server, settings))
    yield settings
    use_service(None)


def stream(port: int, body: Any) -> tuple[int, list[tuple[str, Any]]]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    conn.request(
        "POST", "/chat/stream", body=json.dumps(body), headers={"content-type": "application/json"}
    )
    response = conn.getresponse()
    assert response.getheader("content-type", "").startswith("text/event-stream")
    events = [(name, data) for name, data, _ in read_events(response)]
    conn.close()
    return response.status, events


def text_of(events: list[tuple[str, Any]]) -> str:
    return "".join(data["text"] for name, data in events if name == "delta")


@pytest.mark.parametrize(
    "refusal",
    [
        Reply.throttle(times=50),
        # An error event before any text: botocore raises EventStreamError on the first read.
        Reply.stream_error("throttlingException", text_before="", times=50),
    ],
    ids=["http-429", "error-event-before-first-delta"],
)
def test_given_the_first_model_throttles_before_the_first_byte_then_the_next_model_streams(
    port: int, bedrock_server: FakeBedrock, chain: ChatSettings, refusal: Reply
) -> None:
    # Given the tier's first model refuses every ConverseStream before sending any text
    first, second, _ = fast_chain(chain)
    bedrock_server.enqueue_for(arn(chain, first), refusal)
    # When a client streams from the tier
    status, events = stream(port, FAST)
    # Then the second model's text streams, and done names it, the attempts and the fallback
    names = [name for name, _ in events]
    assert status == 200 and names[-1] == "done" and set(names[:-1]) == {"delta"}
    assert text_of(events) == "Echo: tell me about fallbacks"
    done = events[-1][1]
    attempts = chain.budget.max_attempts
    assert (done["model"], done["tier"]) == (second, "fast")
    assert (done["attempts"], done["fallbacks"]) == (attempts + 1, 1)
    # And Bedrock saw every allowed attempt on the first model, then one on the second
    sent = [(r.operation, r.model_id) for r in bedrock_server.requests]
    assert sent == [("ConverseStream", arn(chain, first))] * attempts + [
        ("ConverseStream", arn(chain, second))
    ]


@pytest.mark.parametrize(
    ("exception_type", "code"),
    [("throttlingException", "throttled"), ("modelStreamErrorException", "model_stream_error")],
)
def test_given_an_error_event_after_the_first_delta_then_the_stream_ends_with_it_and_no_fallback(
    port: int, bedrock_server: FakeBedrock, chain: ChatSettings, exception_type: str, code: str
) -> None:
    # Given the first model streams some text, then an error event
    first = fast_chain(chain)[0]
    bedrock_server.enqueue_for(
        arn(chain, first), Reply.stream_error(exception_type, text_before="half an answer")
    )
    # When a client streams from the tier
    status, events = stream(port, FAST)
    # Then the text so far arrives, then one error event in the API's error shape; no done
    names = [name for name, _ in events]
    assert status == 200 and names[0] == "delta" and names[-1] == "error"
    assert "done" not in names
    assert text_of(events) == "half an answer"
    error = events[-1][1]
    assert error["error"]["code"] == code and error["request_id"]
    # And no other attempt was made, on that model or the next
    assert [r.model_id for r in bedrock_server.requests] == [arn(chain, first)]


def test_given_random_throttling_then_every_stream_ends_with_one_answer(
    port: int, bedrock_server: FakeBedrock, chain: ChatSettings
) -> None:
    # Given 30% of ConverseStream calls throttled at random (seeded)
    bedrock_server.throttle_randomly(0.3, seed=8)
    requests = 12
    # When clients stream one after another
    outcomes = [stream(port, FAST) for _ in range(requests)]
    # Then each ends in exactly one done with the whole text, from a model of the chain
    for status, events in outcomes:
        names = [name for name, _ in events]
        assert status == 200 and names.count("done") == 1 and names[-1] == "done"
        assert text_of(events) == "Echo: tell me about fallbacks"
        assert events[-1][1]["model"] in fast_chain(chain)
    # And the refusals cost only extra attempts (there were some): one answer per request
    assert len(bedrock_server.requests) > requests
    answered = len(bedrock_server.requests) - sum(
        events[-1][1]["attempts"] - 1 for _, events in outcomes
    )
    assert answered == requests
