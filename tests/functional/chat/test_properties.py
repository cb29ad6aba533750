"""Property-based: whatever body arrives, the handler answers without a 5xx, and every 4xx
is JSON with ``error.code`` and ``error.message``.

Bodies are random JSON, and valid bodies with one field mutated (wrong type, out of range,
extra key, removed key). Example counts stay small: the whole suite has a 60 s budget.
"""

from __future__ import annotations

import json
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.support.chat_api import Api

SETTINGS = settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

scalars = st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20)
json_values = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)

text = st.text(min_size=1, max_size=40)
blocks = st.lists(st.builds(lambda t: {"text": t}, text), min_size=1, max_size=3)
valid_bodies = st.fixed_dictionaries(
    {"messages": st.builds(lambda c: [{"role": "user", "content": c}], text | blocks)},
    optional={
        "tier": st.sampled_from(["fast", "balanced", "deep"]),
        "max_tokens": st.integers(1, 200),
        "temperature": st.floats(0, 1),
        "top_p": st.floats(0, 1),
        "stop_sequences": st.lists(st.text(min_size=1, max_size=8), max_size=3),
        "system": text,
    },
)
FIELDS = ["messages", "tier", "model", "max_tokens", "temperature", "top_p", "stop_sequences"]


@st.composite
def mutated_bodies(draw: st.DrawFn) -> dict[str, Any]:
    body = dict(draw(valid_bodies))
    how = draw(st.sampled_from(["replace", "remove", "extra", "deep"]))
    key = draw(st.sampled_from(FIELDS))
    if how == "replace":
        body[key] = draw(json_values)
    elif how == "remove":
        body.pop(key, None)
    elif how == "extra":
        body[draw(st.text(min_size=1, max_size=10))] = draw(json_values)
    else:
        body["messages"] = [{"role": draw(json_values), "content": draw(json_values)}]
    return body


def assert_clear_answer(api: Api, raw: str) -> None:
    got = api.call("POST", "/chat", raw=raw)
    assert got.status < 500, (raw, got.body)
    if got.status >= 400:
        error = got.body["error"]
        assert isinstance(error["code"], str) and error["code"]
        assert isinstance(error["message"], str) and error["message"]


@SETTINGS
@given(body=json_values)
def test_random_json_never_gets_a_5xx(chat_api: Api, body: Any) -> None:
    assert_clear_answer(chat_api, json.dumps(body))


@SETTINGS
@given(body=mutated_bodies())
def test_mutated_valid_bodies_never_get_a_5xx(chat_api: Api, body: dict[str, Any]) -> None:
    assert_clear_answer(chat_api, json.dumps(body))


@SETTINGS
@given(raw=st.text(max_size=60))
def test_arbitrary_text_never_gets_a_5xx(chat_api: Api, raw: str) -> None:
    assert_clear_answer(chat_api, raw)
