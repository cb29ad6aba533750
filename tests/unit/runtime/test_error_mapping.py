"""The shared Bedrock error table: a broken model stream is its own retryable 502, every other
mapping is the API's documented contract (README, "API" errors table)."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError, EventStreamError

from kit_runtime import errors
from kit_runtime.bedrock import map_error


def mid_stream(code: str) -> EventStreamError:
    # What iterating a ConverseStream raises: the event's type in lower camel case.
    return EventStreamError(
        {"Error": {"Code": code, "Message": "The model stream failed."}}, "ConverseStream"
    )


def client_error(code: str) -> ClientError:
    return ClientError({"Error": {"Code": code, "Message": "no"}}, "Converse")


@pytest.mark.parametrize(
    "failure",
    [mid_stream("modelStreamErrorException"), client_error("ModelStreamErrorException")],
    ids=["mid-stream event", "http error"],
)
def test_given_a_broken_model_stream_when_mapped_then_a_502_says_it_may_be_retried(
    failure: ClientError,
) -> None:
    # Given Bedrock's modelStreamErrorException, mid-stream or as an HTTP error
    # When the shared table maps it
    mapped = map_error(failure)
    # Then it is a 502 of its own, saying the stream failed and the request may be retried,
    # and it no longer sends the caller to model access and IAM
    assert mapped is not None
    assert (mapped.status, mapped.code) == (502, "model_stream_error")
    assert "stream failed" in mapped.message and "may be retried" in mapped.message
    assert "IAM" not in mapped.message
    assert mapped.body("r")["error"]["bedrock_code"] == "ModelStreamErrorException"


@pytest.mark.parametrize(
    ("failure", "status", "code"),
    [
        (client_error("ThrottlingException"), 429, "throttled"),
        (mid_stream("throttlingException"), 429, "throttled"),
        (client_error("ServiceQuotaExceededException"), 429, "throttled"),
        (client_error("ModelNotReadyException"), 429, "throttled"),
        (client_error("ValidationException"), 400, "bedrock_validation"),
        (mid_stream("validationException"), 400, "bedrock_validation"),
        (client_error("ModelTimeoutException"), 504, "model_timeout"),
        (client_error("ServiceUnavailableException"), 503, "model_unavailable"),
        (mid_stream("serviceUnavailableException"), 503, "model_unavailable"),
        (client_error("InternalServerException"), 503, "model_unavailable"),
        (mid_stream("internalServerException"), 503, "model_unavailable"),
        (client_error("ModelErrorException"), 503, "model_unavailable"),
        (client_error("AccessDeniedException"), 502, "bedrock_error"),
        (client_error("ResourceNotFoundException"), 502, "bedrock_error"),
    ],
)
def test_given_any_other_bedrock_error_when_mapped_then_the_documented_answer_is_unchanged(
    failure: ClientError, status: int, code: str
) -> None:
    mapped = map_error(failure)
    assert mapped is not None and (mapped.status, mapped.code) == (status, code)


def test_given_an_access_problem_when_mapped_then_the_platform_team_is_still_told_to_look() -> None:
    mapped = map_error(client_error("AccessDeniedException"))
    assert isinstance(mapped, errors.UpstreamFailure)
    assert "model access and IAM" in mapped.message
