"""Every bad request gets a clear 4xx: size, media type, JSON, schema, strict types, limits."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest

from kit_runtime import errors
from kit_runtime.contracts.chat_api import ChatRequest, Message
from tests.support.chat_api import (
    LIMITS,
    Api,
    chat_model_by_input,
    make_service,
    settings_serving,
)

HELLO = {"messages": [{"role": "user", "content": "hello"}]}


def image(size: int, fmt: str = "png") -> dict[str, Any]:
    data = base64.b64encode(b"\x89" * size).decode()
    return {"image": {"format": fmt, "source": {"bytes": data}}}


def user(*blocks: dict[str, Any]) -> dict[str, Any]:
    return {"messages": [{"role": "user", "content": list(blocks)}]}


def test_a_body_above_the_byte_limit_is_413_naming_the_limit(chat_api: Api) -> None:
    # Given a body one byte above the stage's limit
    limit = chat_api.settings.limits.max_body_bytes
    filler = "x" * limit
    # When it is sent
    got = chat_api.chat({"messages": [{"role": "user", "content": filler}]})
    # Then 413 names the limit and both values, and Bedrock is never called
    assert got.status == 413
    error = got.body["error"]
    assert error["code"] == "request_too_large"
    assert error["limit"] == "max_body_bytes" and error["allowed"] == limit
    assert error["value"] > limit and str(limit) in error["message"]
    assert chat_api.server.requests == []


@pytest.mark.parametrize(
    "content_type", ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data"]
)
def test_a_non_json_content_type_is_415(chat_api: Api, content_type: str) -> None:
    got = chat_api.chat(HELLO, headers={"Content-Type": content_type})
    assert got.status == 415
    assert got.body["error"]["code"] == "unsupported_media_type"
    assert "application/json" in got.body["error"]["message"]


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Content-Type": "application/json; charset=utf-8"},
        {"content-type": "APPLICATION/JSON"},
        {"Content-Type": "application/vnd.kit+json"},
    ],
)
def test_json_or_missing_content_type_is_served(chat_api: Api, headers: dict[str, str]) -> None:
    assert chat_api.chat(HELLO, headers=headers).status == 200


@pytest.mark.parametrize("headers", [{}, {"Content-Type": "application/json"}])
def test_the_schema_is_enforced_whatever_the_content_type(
    chat_api: Api, headers: dict[str, str]
) -> None:
    # Given a body API Gateway's model would catch only for application/json
    got = chat_api.chat({**HELLO, "temperature": 7}, headers=headers)
    # Then the handler refuses it either way
    assert got.status == 422
    assert [e["field"] for e in got.body["error"]["errors"]] == ["temperature"]


@pytest.mark.parametrize("raw", ["{not json", "", "[1, 2", "\u00ff\u00fe"])
def test_malformed_or_empty_json_is_400(chat_api: Api, raw: str) -> None:
    got = chat_api.call("POST", "/chat", raw=raw)
    assert got.status == 400
    assert got.body["error"]["code"] == "invalid_json"


@pytest.mark.parametrize(
    "payload,field",
    [
        ({}, "messages"),
        ({"messages": []}, "messages"),
        ({"messages": [{"role": "assistant", "content": "hi"}]}, "messages"),
        (
            {"messages": [{"role": "user", "content": "a"}, {"role": "user", "content": "b"}]},
            "messages",
        ),
        ({**HELLO, "max_tokens": 0}, "max_tokens"),
        ({**HELLO, "temperature": 3}, "temperature"),
        ({**HELLO, "tier": "fast", "model": "any-model"}, "(body)"),
        ({**HELLO, "maxTokens": 10}, "maxTokens"),
        ({**HELLO, "stop_sequences": [""]}, "stop_sequences[0]"),
        ({**HELLO, "temperature": True}, "temperature"),
        ({**HELLO, "top_p": "0.5"}, "top_p"),
        ({**HELLO, "max_tokens": "5"}, "max_tokens"),
        ({**HELLO, "max_tokens": 5.0}, "max_tokens"),
        (
            {"messages": [{"role": "user", "content": [{"text": ""}]}]},
            "messages[0].content[0].text",
        ),
        ({"messages": [{"role": "user", "content": [{"video": {}}]}]}, "messages[0].content[0]"),
        (user(image(4, fmt="bmp")), "messages[0].content[0].image.format"),
        (
            user({"image": {"format": "png", "source": {"bytes": "not base64!"}}}),
            "messages[0].content[0].image.source",
        ),
        (
            {
                "messages": [
                    {"role": "user", "content": "hi"},
                    {"role": "assistant", "content": [image(4)]},
                ]
            },
            "messages[1]",
        ),
        ([1, 2], "(body)"),
        ("just a string", "(body)"),
    ],
)
def test_a_body_outside_the_schema_is_422_naming_the_field(
    chat_api: Api, payload: Any, field: str
) -> None:
    # When a body breaks the schema
    got = chat_api.chat(payload)
    # Then 422 names the field to fix, and Bedrock is never called
    assert got.status == 422, got.body
    assert got.body["error"]["code"] == "invalid_request"
    assert field in [e["field"] for e in got.body["error"]["errors"]], got.body
    assert chat_api.server.requests == []


LIMIT_CASES: list[tuple[str, dict[str, Any], str]] = [
    (
        "max_messages",
        {
            "messages": [
                {"role": "user" if i % 2 == 0 else "assistant", "content": "hi"}
                for i in range(LIMITS["max_messages"] + 1)
            ]
        },
        "messages",
    ),
    (
        "max_content_blocks",
        user(*[{"text": "hi"}] * (LIMITS["max_content_blocks"] + 1)),
        "messages[0].content",
    ),
    (
        "max_text_chars",
        user({"text": "y" * (LIMITS["max_text_chars"] + 1)}),
        "messages[0].content[0].text",
    ),
    ("max_text_chars", {**HELLO, "system": "s" * (LIMITS["max_text_chars"] + 1)}, "system"),
    (
        "max_stop_sequences",
        {**HELLO, "stop_sequences": ["a"] * (LIMITS["max_stop_sequences"] + 1)},
        "stop_sequences",
    ),
    (
        "max_stop_sequence_chars",
        {**HELLO, "stop_sequences": ["z" * (LIMITS["max_stop_sequence_chars"] + 1)]},
        "stop_sequences[0]",
    ),
    (
        "max_images",
        user(*[image(4)] * (LIMITS["max_images"] + 1)),
        "messages[].content[].image",
    ),
    (
        "max_image_bytes",
        user({"text": "what is it?"}, image(LIMITS["max_image_bytes"] + 1)),
        "messages[0].content[1].image.source.bytes",
    ),
]


@pytest.mark.parametrize("limit,payload,field", LIMIT_CASES)
def test_a_body_above_a_stage_limit_is_400_naming_field_limit_and_value(
    chat_api: Api, limit: str, payload: dict[str, Any], field: str
) -> None:
    # Given a body one unit above one of the stage's limits
    allowed = getattr(chat_api.settings.limits, limit)
    # When it is sent
    got = chat_api.chat(payload)
    # Then 400 names the field, the limit, its value and what was sent
    assert got.status == 400, got.body
    error = got.body["error"]
    assert error["code"] == "limit_exceeded"
    assert {"field": field, "limit": limit, "allowed": allowed, "value": allowed + 1} in error[
        "errors"
    ]
    assert limit in error["message"] and str(allowed) in error["message"]
    assert chat_api.server.requests == []


def test_a_body_at_every_limit_is_served(chat_api: Api) -> None:
    # Given a model that takes images, and a body exactly at the per-block, stop-sequence
    # and image limits
    model_id = chat_model_by_input("image", accepts=True)
    if model_id is None:
        pytest.skip("the catalog has no streaming chat model with image input")
    chat_api.use(settings_serving(model_id))
    payload = {
        "messages": [
            {
                "role": "user",
                "content": [
                    {"text": "y" * LIMITS["max_text_chars"]},
                    image(LIMITS["max_image_bytes"]),
                    image(8),
                ],
            }
        ],
        "stop_sequences": ["z" * LIMITS["max_stop_sequence_chars"]] * LIMITS["max_stop_sequences"],
    }
    # Then it is answered
    got = chat_api.chat(payload)
    assert got.status == 200, got.body


def test_echoed_input_is_truncated(chat_api: Api) -> None:
    # Given names and values far longer than anything an error should repeat
    long_model = "m" * 5_000
    got = chat_api.chat({**HELLO, "model": long_model})
    # Then the unknown-model message repeats a clipped prefix only
    assert got.status == 400
    assert long_model[: errors.ECHO_CHARS] not in got.body["error"]["message"]
    assert len(got.body["error"]["message"]) < 2 * errors.ECHO_CHARS
    # And a schema error's echoed input is clipped too
    got = chat_api.chat({**HELLO, "tier": 12345, "temperature": "x" * 5_000})
    assert got.status == 422
    echoed = [e.get("input", "") for e in got.body["error"]["errors"]]
    assert all(len(str(value)) <= errors.ECHO_CHARS for value in echoed)


def test_botocore_client_side_validation_is_400_not_500(chat_api: Api) -> None:
    # Given a request that slipped past the schema (built without validation) with a value
    # botocore's service model refuses: an empty stop sequence
    service = make_service(chat_api.server, chat_api.settings)
    request = ChatRequest.model_construct(
        messages=[Message.model_validate({"role": "user", "content": "hi"})],
        stop_sequences=[""],
        system=None,
        model=None,
        tier=None,
        max_tokens=None,
        temperature=None,
        top_p=None,
    )
    # When the service calls Bedrock, Then botocore's refusal is the caller's 400
    with pytest.raises(errors.BedrockRejected) as info:
        service.chat(request)
    assert info.value.status == 400
    assert "stopSequences" in info.value.message
    assert chat_api.server.requests == []


def test_every_error_body_has_the_same_shape(chat_api: Api) -> None:
    for got in (
        chat_api.chat({}),
        chat_api.call("POST", "/chat", raw="{"),
        chat_api.chat(HELLO, headers={"Content-Type": "text/plain"}),
        chat_api.call("DELETE", "/chat"),
    ):
        assert set(got.body) == {"error", "request_id"}
        assert got.body["request_id"]
        assert {"code", "message"} <= set(got.body["error"])
        json.dumps(got.body)
