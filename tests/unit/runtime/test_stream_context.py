"""What the streaming app learns from the headers the Lambda Web Adapter forwards."""

from __future__ import annotations

import json
import time

import pytest

from kit_runtime.streaming import LAMBDA_CONTEXT_HEADER, REQUEST_CONTEXT_HEADER, StreamContext


@pytest.mark.parametrize("field", ["deadline", "deadline_ms"])
def test_given_the_function_deadline_in_either_spelling_then_the_remaining_time_is_known(
    field: str,
) -> None:
    deadline = int(time.time() * 1000) + 60_000
    headers = {
        LAMBDA_CONTEXT_HEADER: json.dumps({field: deadline}).encode(),
        REQUEST_CONTEXT_HEADER: json.dumps({"requestId": "r-1"}).encode(),
    }

    context = StreamContext(headers)

    assert context.request_id == "r-1"
    assert context.function_remaining_ms is not None
    assert 55_000 < context.function_remaining_ms <= 60_000


def test_given_no_lambda_context_then_the_remaining_time_is_unknown() -> None:
    assert StreamContext({}).function_remaining_ms is None
