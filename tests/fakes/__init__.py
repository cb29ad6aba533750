"""Local fakes for tests (no network beyond 127.0.0.1)."""

from tests.fakes.bedrock_server import FakeBedrock, ModelRules, RecordedRequest, Reply
from tests.fakes.blackhole import BlackholeEndpoint
from tests.fakes.eventstream import encode_event, encode_exception
from tests.fakes.guardrail_verdicts import Finding, GuardrailRule

__all__ = [
    "BlackholeEndpoint",
    "FakeBedrock",
    "Finding",
    "GuardrailRule",
    "ModelRules",
    "RecordedRequest",
    "Reply",
    "encode_event",
    "encode_exception",
]
