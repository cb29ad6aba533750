"""Fixtures for the runtime tests: real boto3 against the local Bedrock wire-protocol server."""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

# Powertools reads these when the runtime is imported (the stack sets them in Lambda).
os.environ.setdefault("POWERTOOLS_SERVICE_NAME", "chat")
os.environ.setdefault("POWERTOOLS_METRICS_NAMESPACE", "BedrockKitTest")
os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")

from kit_runtime import api  # noqa: E402
from kit_runtime.bedrock import runtime_client  # noqa: E402
from kit_runtime.chat import ChatService  # noqa: E402
from kit_runtime.settings import Settings  # noqa: E402
from tests.fakes import FakeBedrock  # noqa: E402

PROFILE_ARN = "arn:aws:bedrock:us-east-1:123456789012:application-inference-profile/{}"


def make_settings(**overrides: Any) -> Settings:
    """Stage settings shaped like the ones the API stack writes (three models, three tiers)."""
    doc: dict[str, Any] = {
        "stage": "test",
        "models": {
            "amazon.nova-micro-v1:0": {
                "invoke_arn": PROFILE_ARN.format("micro"),
                "input_per_mtok": 0.035,
                "output_per_mtok": 0.14,
                "max_output_tokens": 10000,
                "streaming": True,
            },
            "anthropic.claude-haiku-4-5-20251001-v1:0": {
                "invoke_arn": PROFILE_ARN.format("haiku"),
                "input_per_mtok": 1.1,
                "output_per_mtok": 5.5,
                "max_output_tokens": 64000,
                "streaming": True,
            },
            "anthropic.claude-sonnet-4-5-20250929-v1:0": {
                "invoke_arn": PROFILE_ARN.format("sonnet"),
                "input_per_mtok": 3.3,
                "output_per_mtok": 16.5,
                "max_output_tokens": 64000,
                "streaming": True,
            },
        },
        "tiers": {
            "fast": "amazon.nova-micro-v1:0",
            "balanced": "anthropic.claude-haiku-4-5-20251001-v1:0",
            "deep": "anthropic.claude-sonnet-4-5-20250929-v1:0",
        },
        "default_tier": "balanced",
        "default_max_tokens": 512,
        "max_tokens_limit": 2048,
        "guardrail_arn": "arn:aws:bedrock:us-east-1:123456789012:guardrail/gr123",
        "guardrail_version": "3",
        "log_prompts": False,
        "max_attempts": 2,
    }
    doc.update(overrides)
    return Settings.model_validate(doc)


@dataclass
class LambdaContext:
    function_name: str = "kit-test-chat"
    memory_limit_in_mb: int = 512
    invoked_function_arn: str = "arn:aws:lambda:us-east-1:123456789012:function:kit-test-chat"
    aws_request_id: str = "req-1"


def rest_event(method: str, path: str, body: Any = None, *, raw: str | None = None) -> dict:
    """An API Gateway REST proxy event as Lambda receives it."""
    if raw is None and body is not None:
        raw = json.dumps(body)
    return {
        "resource": path,
        "path": path,
        "httpMethod": method,
        "headers": {"content-type": "application/json"},
        "multiValueHeaders": {"content-type": ["application/json"]},
        "queryStringParameters": None,
        "multiValueQueryStringParameters": None,
        "pathParameters": None,
        "stageVariables": None,
        "requestContext": {
            "requestId": str(uuid.uuid4()),
            "stage": "test",
            "resourcePath": path,
            "httpMethod": method,
            "identity": {"sourceIp": "127.0.0.1"},
        },
        "body": raw,
        "isBase64Encoded": False,
    }


@dataclass
class Api:
    """Calls the real handler entry point and decodes its proxy response."""

    server: FakeBedrock
    settings: Settings

    def call(
        self, method: str, path: str, body: Any = None, *, raw: str | None = None
    ) -> tuple[int, dict, dict]:
        from handlers.chat import handler

        result = handler(rest_event(method, path, body, raw=raw), LambdaContext())
        headers = dict(result.get("headers") or {})
        headers.update({k: v[-1] for k, v in (result.get("multiValueHeaders") or {}).items()})
        return result["statusCode"], json.loads(result["body"]), headers

    def chat(self, body: Any) -> tuple[int, dict, dict]:
        return self.call("POST", "/chat", body)


@pytest.fixture(scope="session")
def bedrock_server() -> Iterator[FakeBedrock]:
    with FakeBedrock() as server:
        yield server


def client_for(server: FakeBedrock, max_attempts: int) -> Any:
    return runtime_client(
        max_attempts=max_attempts,
        endpoint_url=server.endpoint_url,
        region_name="us-east-1",
        aws_access_key_id="test",
        aws_secret_access_key="test",
    )


@pytest.fixture
def chat_api(bedrock_server: FakeBedrock) -> Iterator[Api]:
    bedrock_server.reset()
    settings = make_settings()
    api.use_service(ChatService(settings, client_for(bedrock_server, settings.max_attempts)))
    yield Api(bedrock_server, settings)
    api.use_service(None)
