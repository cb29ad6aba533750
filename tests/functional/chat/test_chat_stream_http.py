"""``POST /chat/stream`` over real HTTP: the ASGI app under uvicorn, Bedrock the local server."""

from __future__ import annotations

import http.client
import json
from collections.abc import Iterator

import pytest

from handlers.chat_stream import app, use_service
from tests.fakes import FakeBedrock, Reply
from tests.support.chat_api import make_service
from tests.support.serve_local import asgi_on_localhost, read_events

REQUEST = {"tier": "fast", "messages": [{"role": "user", "content": "tell me a story"}]}


@pytest.fixture(scope="module")
def port() -> Iterator[int]:
    with asgi_on_localhost(app) as found:
        yield found


@pytest.fixture
def bedrock(bedrock_server: FakeBedrock) -> Iterator[FakeBedrock]:
    bedrock_server.reset()
    use_service(make_service(bedrock_server))
    yield bedrock_server
    use_service(None)


def post(port: int, body: object, **headers: str) -> http.client.HTTPResponse:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    raw = body if isinstance(body, str) else json.dumps(body)
    conn.request(
        "POST", "/chat/stream", body=raw, headers={"content-type": "application/json", **headers}
    )
    return conn.getresponse()


def test_error_event_before_the_first_delta_is_retried(port: int, bedrock: FakeBedrock) -> None:
    # Given the first stream fails with a throttling event before any text, the second succeeds
    bedrock.enqueue(
        Reply.stream_error("throttlingException", text_before=""), Reply.text("all good now")
    )
    # When a client streams
    response = post(port, REQUEST)
    events = list(read_events(response))
    # Then it gets the second attempt's answer only, after two calls
    assert response.status == 200
    assert [n for n, _, _ in events][-1] == "done"
    assert "".join(d["text"] for n, d, _ in events if n == "delta") == "all good now"
    assert len(bedrock.requests) == 2


def test_error_after_the_first_delta_ends_the_stream_with_an_error_event(
    port: int, bedrock: FakeBedrock
) -> None:
    # Given the stream fails after some text
    bedrock.enqueue(Reply.stream_error("throttlingException", text_before="partial words"))
    # When a client streams
    response = post(port, REQUEST)
    events = list(read_events(response))
    # Then the deltas so far arrive, then one error event in the API's error shape; no retry
    names = [n for n, _, _ in events]
    assert response.status == 200 and names[0] == "delta" and names[-1] == "error"
    error = events[-1][1]
    assert error["error"]["code"] == "throttled" and error["request_id"]
    assert len(bedrock.requests) == 1


def test_bedrock_refusal_before_any_byte_is_a_json_status(port: int, bedrock: FakeBedrock) -> None:
    # Given Bedrock throttles every attempt at opening the stream
    bedrock.enqueue(Reply.throttle(times=10))
    # When a client streams, Then it gets the same 429 JSON answer POST /chat gives
    response = post(port, REQUEST)
    body = json.loads(response.read())
    assert response.status == 429 and response.getheader("retry-after")
    assert body["error"]["code"] == "throttled"


@pytest.mark.parametrize(
    ("raw", "headers", "status", "code"),
    [
        ("{not json", {}, 400, "invalid_json"),
        ('{"messages": []}', {"content-type": "text/plain"}, 415, "unsupported_media_type"),
        (json.dumps({"model": "nope", "messages": REQUEST["messages"]}), {}, 400, "unknown_model"),
    ],
)
def test_bad_input_gets_the_chat_routes_error(
    port: int, bedrock: FakeBedrock, raw: str, headers: dict[str, str], status: int, code: str
) -> None:
    response = post(port, raw, **headers)
    body = json.loads(response.read())
    assert (response.status, body["error"]["code"]) == (status, code)
    assert bedrock.requests == []


def test_other_routes_answer_the_apis_404(port: int) -> None:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    conn.request("GET", "/nope")
    response = conn.getresponse()
    assert response.status == 404
    assert json.loads(response.read())["error"]["code"] == "not_found"
