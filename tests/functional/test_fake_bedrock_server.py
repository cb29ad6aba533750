"""Proves real boto3/botocore can talk to the in-process fake Bedrock Runtime server."""

from __future__ import annotations

import json
import struct
from binascii import crc32

import boto3
import pytest
from botocore.config import Config
from botocore.eventstream import (
    ChecksumMismatch,
    EventStreamBuffer,
    EventStreamMessage,
)
from botocore.exceptions import ClientError, EventStreamError

from tests.fakes.bedrock_server import FakeBedrock, Reply
from tests.fakes.eventstream import encode_event, encode_exception

PROFILE_ARN = "arn:aws:bedrock:us-east-1:123456789012:application-inference-profile/abc123"
MODEL_ID = "anthropic.claude-3-haiku-20240307-v1:0"


@pytest.fixture(scope="module")
def server():
    with FakeBedrock() as fake:
        yield fake


@pytest.fixture(autouse=True)
def _clean(server):
    server.reset()
    yield
    server.reset()


@pytest.fixture(scope="module")
def client(server):
    return boto3.client(
        "bedrock-runtime",
        endpoint_url=server.endpoint_url,
        region_name="us-east-1",
        aws_access_key_id="x",
        aws_secret_access_key="y",
        # NB: botocore's retries["max_attempts"] counts *retries* (1 -> 2 HTTP calls);
        # total_max_attempts=1 means exactly one HTTP call, so scripted errors surface as-is.
        config=Config(retries={"total_max_attempts": 1}, read_timeout=5, connect_timeout=2),
    )


def _user(text: str) -> list[dict]:
    return [{"role": "user", "content": [{"text": text}]}]


def _decode_all(data: bytes) -> list[EventStreamMessage]:
    buffer = EventStreamBuffer()
    buffer.add_data(data)
    return list(buffer)


# --------------------------------------------------------------------------- encoder


def test_encode_event_round_trips_through_botocore_decoder():
    # Given an event with a unicode JSON payload
    payload = {"delta": {"text": "héllo wörld ✓"}, "contentBlockIndex": 0}

    # When it is encoded and fed to botocore's own decoder (which verifies both CRCs)
    (message,) = _decode_all(encode_event("contentBlockDelta", payload))

    # Then headers, payload and CRCs all survive
    assert message.headers == {
        ":event-type": "contentBlockDelta",
        ":content-type": "application/json",
        ":message-type": "event",
    }
    assert json.loads(message.payload) == payload
    raw = encode_event("contentBlockDelta", payload)
    total, headers_len = struct.unpack(">II", raw[:8])
    assert total == len(raw)
    assert struct.unpack(">I", raw[8:12])[0] == crc32(raw[:8])
    assert message.crc == crc32(raw[:-4]) == struct.unpack(">I", raw[-4:])[0]
    assert message.to_response_dict()["status_code"] == 200


def test_encode_exception_round_trips_and_is_an_error_message():
    # Given an exception event followed by a normal event in the same buffer
    data = encode_exception("throttlingException", {"message": "slow down"}) + encode_event(
        "messageStop", {"stopReason": "end_turn"}
    )

    # When decoded
    first, second = _decode_all(data)

    # Then the exception headers are intact and botocore treats it as an error
    assert first.headers == {
        ":exception-type": "throttlingException",
        ":content-type": "application/json",
        ":message-type": "exception",
    }
    assert json.loads(first.payload) == {"message": "slow down"}
    assert first.to_response_dict()["status_code"] == 400
    assert second.headers[":event-type"] == "messageStop"


def test_corrupted_frame_fails_botocore_crc_check():
    # Given a valid frame with one payload byte flipped
    raw = bytearray(encode_event("messageStart", {"role": "assistant"}))
    raw[-6] ^= 0xFF

    # When / Then botocore's decoder rejects it, proving the CRC is actually checked
    with pytest.raises(ChecksumMismatch):
        _decode_all(bytes(raw))


# --------------------------------------------------------------------------- converse


def test_converse_success_is_parsed_by_boto3(server, client):
    # Given a scripted answer
    server.enqueue(Reply.text("hello", input_tokens=12, output_tokens=5, stop_reason="end_turn"))

    # When boto3 calls converse
    response = client.converse(modelId=MODEL_ID, messages=_user("hi there"))

    # Then text, usage, stop reason, metrics and request id are parsed
    assert response["output"]["message"] == {"role": "assistant", "content": [{"text": "hello"}]}
    assert response["stopReason"] == "end_turn"
    assert response["usage"] == {"inputTokens": 12, "outputTokens": 5, "totalTokens": 17}
    assert response["metrics"]["latencyMs"] >= 1
    assert response["ResponseMetadata"]["RequestId"]
    assert response["ResponseMetadata"]["HTTPStatusCode"] == 200


def test_default_reply_has_deterministic_token_counts(server, client):
    # Given an empty script and a two-turn conversation of 3 + 1 + 4 words
    messages = [
        {"role": "user", "content": [{"text": "one two three"}]},
        {"role": "assistant", "content": [{"text": "ok"}]},
        {"role": "user", "content": [{"text": "four five six seven"}]},
    ]

    # When boto3 calls converse
    response = client.converse(modelId=MODEL_ID, messages=messages)

    # Then the echo answer and token counts are derived from the request
    assert response["output"]["message"]["content"][0]["text"] == "Echo: four five six seven"
    assert response["usage"] == {"inputTokens": 8, "outputTokens": 5, "totalTokens": 13}
    assert response["stopReason"] == "end_turn"


def test_default_reply_honours_max_tokens(server, client):
    # Given a maxTokens smaller than the echo
    # When boto3 calls converse
    response = client.converse(
        modelId=MODEL_ID, messages=_user("a b c d e"), inferenceConfig={"maxTokens": 3}
    )

    # Then the answer is truncated with stopReason max_tokens
    assert response["output"]["message"]["content"][0]["text"] == "Echo: a b"
    assert response["stopReason"] == "max_tokens"
    assert response["usage"]["outputTokens"] == 3


def test_request_is_recorded_with_decoded_arn_and_body(server, client):
    # Given an application inference profile ARN as model id
    guardrail = {"guardrailIdentifier": "gr-1", "guardrailVersion": "1", "trace": "enabled"}

    # When boto3 calls converse with guardrail and inference config
    client.converse(
        modelId=PROFILE_ARN,
        messages=_user("hello"),
        inferenceConfig={"maxTokens": 256, "temperature": 0.2},
        guardrailConfig=guardrail,
    )

    # Then the fake recorded the URL-decoded ARN and the parsed JSON body
    (recorded,) = server.requests
    assert recorded.operation == "Converse"
    assert recorded.model_id == PROFILE_ARN
    assert "%3A" in recorded.path  # boto3 really did URL-encode it on the wire
    assert recorded.body["guardrailConfig"] == guardrail
    assert recorded.body["inferenceConfig"] == {"maxTokens": 256, "temperature": 0.2}
    assert recorded.headers["authorization"].startswith("AWS4-HMAC-SHA256")
    assert "modelId" not in recorded.body


def test_throttling_surfaces_as_client_error(server, client):
    # Given two throttles then a success
    server.enqueue(Reply.throttle(times=2), Reply.text("finally"))

    # When boto3 calls converse (no retries) three times
    errors = []
    for _ in range(2):
        with pytest.raises(ClientError) as excinfo:
            client.converse(modelId=MODEL_ID, messages=_user("hi"))
        errors.append(excinfo.value)
    response = client.converse(modelId=MODEL_ID, messages=_user("hi"))

    # Then the first two are ThrottlingException (HTTP 429) and the third succeeds
    assert len(server.requests) == 3
    for error in errors:
        assert error.response["Error"]["Code"] == "ThrottlingException"
        assert error.response["ResponseMetadata"]["HTTPStatusCode"] == 429
        assert error.response["Error"]["Message"]
    assert isinstance(errors[0], client.exceptions.ThrottlingException)
    assert response["output"]["message"]["content"][0]["text"] == "finally"
    assert server.pending == 0


@pytest.mark.parametrize(
    ("status", "code"),
    [
        (400, "ValidationException"),
        (403, "AccessDeniedException"),
        (408, "ModelTimeoutException"),
        (429, "ModelNotReadyException"),
        (503, "ServiceUnavailableException"),
    ],
)
def test_scripted_errors_map_to_modeled_exceptions(server, client, status, code):
    # Given a scripted error
    server.enqueue(Reply.error(status, code, "nope"))

    # When boto3 calls converse
    with pytest.raises(ClientError) as excinfo:
        client.converse(modelId=MODEL_ID, messages=_user("hi"))

    # Then botocore raises the modeled exception with code, status and message
    assert excinfo.value.response["Error"] == {"Code": code, "Message": "nope"}
    assert excinfo.value.response["ResponseMetadata"]["HTTPStatusCode"] == status
    assert isinstance(excinfo.value, getattr(client.exceptions, code))


def test_empty_messages_is_a_validation_error(server, client):
    # Given a request without messages
    # When boto3 calls converse
    with pytest.raises(ClientError) as excinfo:
        client.converse(modelId=MODEL_ID, messages=[])

    # Then the server rejects it like Bedrock does
    assert excinfo.value.response["Error"]["Code"] == "ValidationException"
    assert excinfo.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400


def test_guardrail_intervention_on_converse(server, client):
    # Given a guardrail intervention
    server.enqueue(Reply.guardrail_intervened(text="Sorry, blocked."))

    # When boto3 calls converse
    response = client.converse(modelId=PROFILE_ARN, messages=_user("bad stuff"))

    # Then the stop reason and guardrail trace are surfaced
    assert response["stopReason"] == "guardrail_intervened"
    assert response["output"]["message"]["content"][0]["text"] == "Sorry, blocked."
    assert response["trace"]["guardrail"]["actionReason"]
    assert response["usage"]["outputTokens"] == 0


# --------------------------------------------------------------------------- converse_stream


def test_converse_stream_events_in_order(server, client):
    # Given a scripted multi-word answer
    text = "The quick brown fox jumps over the lazy dog."
    server.enqueue(Reply.text(text, input_tokens=7, output_tokens=9))

    # When boto3 streams it
    response = client.converse_stream(modelId=PROFILE_ARN, messages=_user("tell me"))
    events = list(response["stream"])

    # Then the real event sequence is decoded, text reassembles and metadata carries usage
    kinds = [next(iter(e)) for e in events]
    assert kinds[0] == "messageStart"
    assert kinds[-3:] == ["contentBlockStop", "messageStop", "metadata"]
    deltas = [e["contentBlockDelta"] for e in events if "contentBlockDelta" in e]
    assert len(deltas) > 1
    assert all(d["contentBlockIndex"] == 0 for d in deltas)
    assert "".join(d["delta"]["text"] for d in deltas) == text
    assert events[0]["messageStart"] == {"role": "assistant"}
    assert events[-2]["messageStop"]["stopReason"] == "end_turn"
    metadata = events[-1]["metadata"]
    assert metadata["usage"] == {"inputTokens": 7, "outputTokens": 9, "totalTokens": 16}
    assert metadata["metrics"]["latencyMs"] >= 1
    assert response["ResponseMetadata"]["HTTPHeaders"]["content-type"] == (
        "application/vnd.amazon.eventstream"
    )
    assert response["ResponseMetadata"]["RequestId"]
    assert server.last_request.operation == "ConverseStream"
    assert server.last_request.model_id == PROFILE_ARN


def test_converse_stream_guardrail_intervened(server, client):
    # Given a guardrail intervention
    server.enqueue(Reply.guardrail_intervened())

    # When boto3 streams it
    events = list(client.converse_stream(modelId=MODEL_ID, messages=_user("x"))["stream"])

    # Then messageStop carries the guardrail stop reason and metadata the trace
    stop = next(e["messageStop"] for e in events if "messageStop" in e)
    assert stop["stopReason"] == "guardrail_intervened"
    assert "guardrail" in events[-1]["metadata"]["trace"]


def test_mid_stream_exception_raises_on_iteration(server, client):
    # Given a stream that fails after some text
    server.enqueue(Reply.stream_error("modelStreamErrorException", "boom", text_before="a b c"))

    # When boto3 iterates the stream
    response = client.converse_stream(modelId=MODEL_ID, messages=_user("x"))
    received = []
    with pytest.raises(EventStreamError) as excinfo:
        for event in response["stream"]:
            received.append(event)

    # Then the events before the failure were delivered and the error is modeled
    assert next(iter(received[0])) == "messageStart"
    assert "".join(e["contentBlockDelta"]["delta"]["text"] for e in received[1:]) == "a b c"
    assert excinfo.value.response["Error"] == {
        "Code": "modelStreamErrorException",
        "Message": "boom",
    }


def test_mid_stream_throttling_exception(server, client):
    # Given a throttling exception event inside the stream
    server.enqueue(Reply.stream_error("throttlingException", "slow down", text_before=""))

    # When / Then iteration raises a ClientError subclass with that code
    response = client.converse_stream(modelId=MODEL_ID, messages=_user("x"))
    with pytest.raises(ClientError) as excinfo:
        list(response["stream"])
    assert excinfo.value.response["Error"]["Code"] == "throttlingException"


def test_converse_stream_http_throttle_before_stream(server, client):
    # Given a throttle
    server.enqueue(Reply.throttle())

    # When boto3 opens a stream
    with pytest.raises(ClientError) as excinfo:
        client.converse_stream(modelId=MODEL_ID, messages=_user("x"))

    # Then it fails before any event with ThrottlingException
    assert excinfo.value.response["Error"]["Code"] == "ThrottlingException"


def test_keep_alive_many_sequential_calls_are_fast(server, client):
    # Given the default echo reply
    # When 50 calls are made over the pooled connection
    for i in range(50):
        response = client.converse(modelId=MODEL_ID, messages=_user(f"ping {i}"))
        assert response["output"]["message"]["content"][0]["text"] == f"Echo: ping {i}"

    # Then every call was recorded
    assert len(server.requests) == 50
