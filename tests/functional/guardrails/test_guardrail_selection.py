"""A request names one of the stage's guardrails (``guardrail``) or gets the default, on
``/chat``, ``/chat/stream`` and ``/guardrail/check``: the real handlers, real boto3, and the
local Bedrock server seeing which guardrail id and version each call carried (RAG:
tests/functional/knowledge/test_rag_guardrail_selection.py)."""

from __future__ import annotations

import http.client
import json
from collections.abc import Iterator
from typing import Any

import pytest

from kit_runtime.contracts.guardrail_check import GuardrailCheckSettings
from tests.fakes import FakeBedrock, Reply
from tests.support.chat_api import (
    BUDGET,
    GUARDRAIL_ARN,
    Api,
    make_service,
    make_settings,
)
from tests.support.guardrail_check import check, serving_checks
from tests.support.guardrail_choices import (
    DEFAULT,
    OTHER,
    OTHER_ARN,
    OTHER_VERSION,
    sent_guardrails,
    two_guardrails,
)
from tests.support.serve_local import asgi_on_localhost, read_events

HELLO = {"messages": [{"role": "user", "content": "hello there"}]}
DEFAULT_SENT = (GUARDRAIL_ARN, "3")
OTHER_SENT = (OTHER_ARN, OTHER_VERSION)


@pytest.fixture
def two(chat_api: Api) -> Api:
    chat_api.use(make_settings(**two_guardrails()))
    return chat_api


@pytest.mark.parametrize(
    ("chosen", "sent", "named"),
    [({"guardrail": OTHER}, OTHER_SENT, OTHER), ({}, DEFAULT_SENT, DEFAULT)],
)
def test_given_two_guardrails_when_chat_names_one_or_none_then_converse_carries_it(
    two: Api, chosen: dict[str, str], sent: tuple[str, str], named: str
) -> None:
    # Given a stage with two guardrails and a model that answers
    two.server.enqueue(Reply.text("hi"))
    # When a client asks, naming a guardrail or not
    got = two.chat({**HELLO, **chosen})
    # Then Converse carried that guardrail's pinned version, and the answer names it
    assert got.status == 200, got.body
    assert sent_guardrails(two.server, "Converse") == [sent]
    assert got.body["guardrail"]["name"] == named


def test_given_an_unknown_guardrail_when_chat_asks_then_400_lists_the_allowed_ones(
    two: Api,
) -> None:
    # When a client names a guardrail the stage does not have
    got = two.chat({**HELLO, "guardrail": "nonexistent"})
    # Then a 400 in the error contract lists both names, and no model was called
    assert got.status == 400, got.body
    error = got.body["error"]
    assert error["code"] == "unknown_guardrail" and "nonexistent" in error["message"]
    assert error["allowed_guardrails"] == sorted([DEFAULT, OTHER])
    assert got.body["request_id"] and two.server.requests == []


# ------------------------------------------------------------------------------ /chat/stream


@pytest.fixture(scope="module")
def port() -> Iterator[int]:
    from handlers.chat_stream import app

    with asgi_on_localhost(app) as found:
        yield found


@pytest.fixture
def streaming(bedrock_server: FakeBedrock) -> Iterator[FakeBedrock]:
    from handlers.chat_stream import use_service

    bedrock_server.reset()
    use_service(make_service(bedrock_server, make_settings(**two_guardrails())))
    yield bedrock_server
    use_service(None)


def _stream(port: int, body: object) -> http.client.HTTPResponse:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    conn.request(
        "POST", "/chat/stream", body=json.dumps(body), headers={"content-type": "application/json"}
    )
    return conn.getresponse()


def test_given_a_named_guardrail_when_streamed_then_converse_stream_carries_it(
    port: int, streaming: FakeBedrock
) -> None:
    # Given a model that answers
    streaming.enqueue(Reply.text("once upon a time"))
    # When a client streams naming the other guardrail
    response = _stream(port, {**HELLO, "guardrail": OTHER})
    events = list(read_events(response))
    # Then ConverseStream carried it, and the final answer names it
    assert response.status == 200 and events[-1][0] == "done"
    assert sent_guardrails(streaming, "ConverseStream") == [OTHER_SENT]
    assert events[-1][1]["guardrail"]["name"] == OTHER


def test_given_an_unknown_guardrail_when_streamed_then_400_before_any_call(
    port: int, streaming: FakeBedrock
) -> None:
    response = _stream(port, {**HELLO, "guardrail": "nonexistent"})
    body = json.loads(response.read())
    assert response.status == 400 and body["error"]["code"] == "unknown_guardrail"
    assert body["error"]["allowed_guardrails"] == sorted([DEFAULT, OTHER])
    assert streaming.requests == []


# --------------------------------------------------------------------------- /guardrail/check


@pytest.fixture
def check_api(bedrock_server: FakeBedrock) -> Iterator[FakeBedrock]:

    bedrock_server.reset()
    bedrock_server.add_guardrail(GUARDRAIL_ARN, "3").add_guardrail(OTHER_ARN, OTHER_VERSION)
    doc: dict[str, Any] = {
        "stage": "test",
        "max_body_bytes": 8_000,
        "max_text_chars": 200,
        "budget": dict(BUDGET),
        **two_guardrails(),
    }
    with serving_checks(GuardrailCheckSettings.model_validate(doc), bedrock_server.endpoint_url):
        yield bedrock_server


@pytest.mark.parametrize(
    ("chosen", "sent", "named"),
    [({"guardrail": OTHER}, OTHER_SENT, OTHER), ({}, DEFAULT_SENT, DEFAULT)],
)
def test_given_two_guardrails_when_a_check_names_one_or_none_then_apply_guardrail_uses_it(
    check_api: FakeBedrock, chosen: dict[str, str], sent: tuple[str, str], named: str
) -> None:
    # When a text is checked, naming a guardrail or not
    got = check({"text": "a harmless sentence", **chosen})
    # Then ApplyGuardrail was called on that guardrail's pinned version, and the verdict says so
    assert got.status == 200, got.body
    assert sent_guardrails(check_api, "ApplyGuardrail") == [sent]
    assert (got.body["guardrail"], got.body["guardrail_version"]) == (named, sent[1])


def test_given_an_unknown_guardrail_when_checked_then_400_lists_the_allowed_ones(
    check_api: FakeBedrock,
) -> None:
    got = check({"text": "a harmless sentence", "guardrail": "nonexistent"})
    assert got.status == 400 and got.body["error"]["code"] == "unknown_guardrail"
    assert got.body["error"]["allowed_guardrails"] == sorted([DEFAULT, OTHER])
    assert check_api.requests == []
