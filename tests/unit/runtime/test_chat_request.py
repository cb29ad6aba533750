"""The chat request schema, its error paths and the stage limits (pure)."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest
from pydantic import ValidationError

from kit_runtime.chat import limit_violations
from kit_runtime.contracts.chat import RequestLimits
from kit_runtime.contracts.chat_api import ChatRequest, field_path

LIMITS = RequestLimits(
    max_body_bytes=10_000,
    max_messages=3,
    max_content_blocks=2,
    max_text_chars=10,
    max_stop_sequences=1,
    max_stop_sequence_chars=3,
    max_images=1,
    max_image_bytes=4,
)


def request(**fields: Any) -> ChatRequest:
    return ChatRequest.model_validate({"messages": [{"role": "user", "content": "hi"}], **fields})


def paths(payload: Any) -> list[str]:
    with pytest.raises(ValidationError) as info:
        ChatRequest.model_validate_json(json.dumps(payload))
    return [field_path(tuple(e["loc"])) for e in info.value.errors()]


def test_error_paths_read_as_the_caller_wrote_the_body() -> None:
    bad_image = {"image": {"format": "tiff", "source": {"bytes": "AAAA"}}}
    body = {"messages": [{"role": "user", "content": [{"text": "ok"}, bad_image]}]}
    assert paths(body) == ["messages[0].content[1].image.format"]
    assert paths({"messages": [{"role": "user", "content": [{"text": ""}]}]}) == [
        "messages[0].content[0].text"
    ]
    assert paths({"messages": [{"role": "user", "content": ""}]}) == ["messages[0].content"]
    assert paths([]) == ["(body)"]


@pytest.mark.parametrize(
    "field,value",
    [("temperature", True), ("max_tokens", "5"), ("max_tokens", 2.0), ("top_p", "1")],
)
def test_types_are_strict(field: str, value: Any) -> None:
    assert paths({"messages": [{"role": "user", "content": "x"}], field: value}) == [field]


def test_an_integer_is_a_valid_number() -> None:
    assert request(temperature=1).temperature == 1.0


def test_image_bytes_are_decoded_once_from_base64() -> None:
    data = b"\x00\x01binary"
    block = {"image": {"format": "webp", "source": {"bytes": base64.b64encode(data).decode()}}}
    parsed = ChatRequest.model_validate({"messages": [{"role": "user", "content": [block]}]})
    assert parsed.messages[0].images()[0].source.data == data


def test_the_json_schema_is_derivable_for_the_gateway_model() -> None:
    schema = ChatRequest.model_json_schema()
    assert schema["required"] == ["messages"]
    assert schema["additionalProperties"] is False
    stop = schema["properties"]["stop_sequences"]["anyOf"][0]
    assert stop["items"]["minLength"] == 1


def test_within_limits_nothing_is_reported() -> None:
    assert limit_violations(request(stop_sequences=["a"]), LIMITS) == []


def test_every_violation_is_reported_with_field_limit_allowed_and_value() -> None:
    image = {"image": {"format": "png", "source": {"bytes": base64.b64encode(b"12345").decode()}}}
    big = request(
        system="s" * 11,
        stop_sequences=["abcd", "b"],
        messages=[
            {"role": "user", "content": [{"text": "t" * 11}, image, image]},
            {"role": "assistant", "content": "ok"},
            {"role": "user", "content": "x"},
            {"role": "assistant", "content": "y"},
        ],
    )
    found = {
        (v["field"], v["limit"]): (v["allowed"], v["value"]) for v in limit_violations(big, LIMITS)
    }
    assert found == {
        ("messages", "max_messages"): (3, 4),
        ("system", "max_text_chars"): (10, 11),
        ("messages[0].content", "max_content_blocks"): (2, 3),
        ("messages[0].content[0].text", "max_text_chars"): (10, 11),
        ("messages[0].content[1].image.source.bytes", "max_image_bytes"): (4, 5),
        ("messages[0].content[2].image.source.bytes", "max_image_bytes"): (4, 5),
        ("messages[].content[].image", "max_images"): (1, 2),
        ("stop_sequences", "max_stop_sequences"): (1, 2),
        ("stop_sequences[0]", "max_stop_sequence_chars"): (3, 4),
    }
