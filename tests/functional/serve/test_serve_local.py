"""``make serve-local`` over real HTTP: the chat route answers, the stream streams, bad input is
refused; the server runs as a subprocess against the local Bedrock stand-in."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from stacks.catalog import load_catalog
from tests.stages import basic_stage
from tests.support.serve_local import LocalServer, read_events, serve_local

STAGE = "serve-test"
EVENT_DELAY_S = 0.15
STORY = "once upon a time a kit streamed its first answer to a curious newcomer"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalServer]:
    cdk_json = Path(tmp_path_factory.mktemp("serve")) / "cdk.json"
    context = {"stages": {STAGE: basic_stage(load_catalog())}, "kit": {"default_stage": STAGE}}
    cdk_json.write_text(json.dumps({"context": context}))
    with serve_local(cdk_json, event_delay_s=EVENT_DELAY_S) as running:
        yield running


def user(text: str) -> dict[str, object]:
    return {"messages": [{"role": "user", "content": text}]}


def test_chat_answers_with_a_model_the_stage_serves(server: LocalServer) -> None:
    # Given the local server, When a client posts a chat request
    answer = server.post("/chat", user("hello kit"))
    body = json.loads(answer.read())
    # Then it answers 200 with the stand-in's echo, metered, from one of /models' models
    models = server.connection()
    models.request("GET", "/models")
    served = json.loads(models.getresponse().read())
    assert answer.status == 200
    assert body["text"] == "Echo: hello kit"
    assert body["model"] in served["models"]
    assert body["usage"]["output_tokens"] > 0 and body["cost"]["total_usd"] > 0


def test_stream_sends_each_delta_before_the_answer_ends(server: LocalServer) -> None:
    # Given the stand-in sends a stream event every EVENT_DELAY_S
    response = server.post("/chat/stream", user(STORY))
    # When the client reads the server-sent events as they arrive
    assert response.status == 200
    assert response.getheader("content-type", "").startswith("text/event-stream")
    events = list(read_events(response))
    names = [name for name, _, _ in events]
    # Then deltas come first and one done event ends the stream
    assert names[-1] == "done" and set(names[:-1]) == {"delta"} and len(names) > 3
    assert "".join(data["text"] for name, data, _ in events if name == "delta") == f"Echo: {STORY}"
    # And the first delta arrived well before the last (it was not buffered to the end)
    first, last = events[0][2], events[-1][2]
    assert last - first >= (len(events) - 2) * EVENT_DELAY_S * 0.5
    done = events[-1][1]
    assert "text" not in done
    assert done["usage"]["output_tokens"] > 0 and done["stop_reason"] == "end_turn"


@pytest.mark.parametrize("path", ["/chat", "/chat/stream"])
def test_bad_request_is_refused_with_the_same_json_error(server: LocalServer, path: str) -> None:
    # Given a body with no messages, When it is posted to either chat route
    response = server.post(path, {"messages": []})
    body = json.loads(response.read())
    # Then both refuse it with 422 and the API's error body naming the field
    assert response.status == 422
    assert response.getheader("content-type", "").startswith("application/json")
    assert body["error"]["code"] == "invalid_request"
    assert body["error"]["errors"][0]["field"] == "messages"
    assert body["request_id"]
