"""The chat handler through real boto3 against the local Bedrock wire-protocol server."""

from __future__ import annotations

import pytest

from kit_runtime import api
from kit_runtime.chat import ChatService
from tests.fakes import Reply
from tests.runtime.conftest import Api, client_for, make_settings

HELLO = {"messages": [{"role": "user", "content": "hello there model"}]}


def expected_cost(api_: Api, model_id: str, input_tokens: int, output_tokens: int) -> float:
    prices = api_.settings.models[model_id]
    return round(
        input_tokens * prices.input_per_mtok / 1e6 + output_tokens * prices.output_per_mtok / 1e6, 8
    )


def test_chat_by_tier_invokes_profile_with_guardrail_and_reports_cost(chat_api: Api) -> None:
    # Given a scripted answer with known token counts
    chat_api.server.enqueue(Reply.text("Hi! How can I help?", input_tokens=1200, output_tokens=340))
    # When a client asks the fast tier
    status, body, _ = chat_api.chat({**HELLO, "tier": "fast"})
    # Then the answer, usage and the catalog-priced cost come back
    model_id = chat_api.settings.tiers["fast"]
    assert status == 200
    assert body["text"] == "Hi! How can I help?"
    assert body["model"] == model_id and body["tier"] == "fast"
    assert body["usage"] == {"input_tokens": 1200, "output_tokens": 340, "total_tokens": 1540}
    assert body["cost"]["total_usd"] == pytest.approx(expected_cost(chat_api, model_id, 1200, 340))
    assert body["cost"]["total_usd"] > 0
    assert body["guardrail_intervened"] is False
    # And Bedrock saw the application profile, the pinned guardrail and maxTokens
    sent = chat_api.server.last_request
    assert sent.operation == "Converse"
    assert sent.model_id == chat_api.settings.models[model_id].invoke_arn
    assert sent.body["guardrailConfig"] == {
        "guardrailIdentifier": chat_api.settings.guardrail_arn,
        "guardrailVersion": chat_api.settings.guardrail_version,
    }
    assert sent.body["inferenceConfig"]["maxTokens"] == chat_api.settings.default_max_tokens


def test_default_tier_and_explicit_model_and_parameters(chat_api: Api) -> None:
    # Given no model or tier, the stage's default tier answers
    status, body, _ = chat_api.chat(HELLO)
    assert status == 200
    assert body["model"] == chat_api.settings.tiers[chat_api.settings.default_tier]
    # When a model is named with explicit inference parameters and a system prompt
    model_id = "anthropic.claude-sonnet-4-5-20250929-v1:0"
    status, body, _ = chat_api.chat(
        {**HELLO, "model": model_id, "max_tokens": 100, "temperature": 0.2, "system": "Be brief."}
    )
    # Then they are forwarded as given
    assert status == 200 and body["model"] == model_id and body["tier"] is None
    sent = chat_api.server.last_request.body
    assert sent["inferenceConfig"] == {"maxTokens": 100, "temperature": 0.2}
    assert sent["system"] == [{"text": "Be brief."}]
    assert sent["messages"] == [{"role": "user", "content": [{"text": "hello there model"}]}]


def test_cost_follows_the_server_reported_tokens(chat_api: Api) -> None:
    # Given the default (echo) reply, whose token counts depend on the prompt
    status, body, _ = chat_api.chat({"messages": [{"role": "user", "content": "a b c d e f"}]})
    model_id = body["model"]
    # Then cost is computed from what Bedrock reported, not from the request
    usage = body["usage"]
    assert status == 200 and usage["input_tokens"] == 6
    assert body["cost"]["total_usd"] == pytest.approx(
        expected_cost(chat_api, model_id, usage["input_tokens"], usage["output_tokens"])
    )


@pytest.mark.parametrize(
    "field,value,allowed_key",
    [
        ("model", "openai.gpt-nope", "allowed_models"),
        ("tier", "turbo", "allowed_tiers"),
    ],
)
def test_unknown_model_or_tier_is_400_listing_allowed(
    chat_api: Api, field: str, value: str, allowed_key: str
) -> None:
    # When a client names a model or tier the stage does not enable
    status, body, _ = chat_api.chat({**HELLO, field: value})
    # Then 400 lists what is allowed, and Bedrock is never called
    assert status == 400
    assert body["error"]["code"] == "unknown_model"
    assert value in body["error"]["message"]
    expected = sorted(chat_api.settings.models if field == "model" else chat_api.settings.tiers)
    assert body["error"][allowed_key] == expected
    assert chat_api.server.requests == []


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
        ({**HELLO, "tier": "fast", "model": "amazon.nova-micro-v1:0"}, "(body)"),
        ({**HELLO, "maxTokens": 10}, "maxTokens"),
    ],
)
def test_invalid_body_is_422_naming_the_field(chat_api: Api, payload: dict, field: str) -> None:
    status, body, _ = chat_api.chat(payload)
    assert status == 422
    assert body["error"]["code"] == "invalid_request"
    assert any(
        e["field"] == field or e["field"].startswith(field) for e in body["error"]["errors"]
    ), body
    assert chat_api.server.requests == []


def test_max_tokens_above_stage_limit_is_422_with_the_range(chat_api: Api) -> None:
    limit = chat_api.settings.max_tokens_limit
    status, body, _ = chat_api.chat({**HELLO, "max_tokens": limit + 1})
    assert status == 422
    assert body["error"]["errors"] == [{"field": "max_tokens", "message": f"allowed: 1 to {limit}"}]


@pytest.mark.parametrize("raw", ["{not json", "", "[1, 2"])
def test_malformed_json_is_400(chat_api: Api, raw: str) -> None:
    status, body, _ = chat_api.call("POST", "/chat", raw=raw)
    assert status == 400
    assert body["error"]["code"] == "invalid_json"


def test_throttling_after_retries_is_429_with_retry_after(chat_api: Api) -> None:
    # Given Bedrock throttles every attempt the client is allowed
    attempts = chat_api.settings.max_attempts
    chat_api.server.enqueue(Reply.throttle(times=attempts))
    # When a client asks
    status, body, headers = chat_api.chat(HELLO)
    # Then every attempt was made, and the caller gets 429 with Retry-After
    assert len(chat_api.server.requests) == attempts
    assert status == 429
    assert body["error"]["code"] == "throttled"
    assert int(headers["Retry-After"]) >= 1


def test_a_throttle_within_the_retry_budget_is_absorbed(chat_api: Api) -> None:
    chat_api.server.enqueue(Reply.throttle(times=1), Reply.text("ok after retry"))
    status, body, _ = chat_api.chat(HELLO)
    assert status == 200 and body["text"] == "ok after retry"
    assert len(chat_api.server.requests) == 2


def test_guardrail_intervention_is_reported(chat_api: Api, capsys: pytest.CaptureFixture) -> None:
    # Given the guardrail blocks the prompt
    chat_api.server.enqueue(Reply.guardrail_intervened("Sorry, this request was blocked."))
    # When a client asks
    status, body, _ = chat_api.chat(HELLO)
    # Then the blocked message comes back flagged as a guardrail intervention, and metered
    assert status == 200
    assert body["guardrail_intervened"] is True
    assert body["stop_reason"] == "guardrail_intervened"
    assert body["text"] == "Sorry, this request was blocked."
    assert "GuardrailInterventions" in capsys.readouterr().out


@pytest.mark.parametrize(
    "code,status,api_code",
    [
        ("ValidationException", 400, "bedrock_validation"),
        ("AccessDeniedException", 502, "bedrock_error"),
        ("ResourceNotFoundException", 502, "bedrock_error"),
        ("ModelTimeoutException", 504, "model_timeout"),
        ("ServiceUnavailableException", 503, "model_unavailable"),
        ("ModelErrorException", 503, "model_unavailable"),
    ],
)
def test_bedrock_errors_are_mapped_without_traces(
    chat_api: Api, code: str, status: int, api_code: str
) -> None:
    chat_api.server.enqueue(
        Reply.service_error(code, "upstream said no", times=chat_api.settings.max_attempts)
    )
    got_status, body, _ = chat_api.chat(HELLO)
    assert got_status == status
    assert body["error"]["code"] == api_code
    assert "Traceback" not in str(body)


def test_unexpected_failure_is_json_without_trace(chat_api: Api) -> None:
    # Given a runtime fault that no mapping knows (a broken client)
    class Broken:
        def converse(self, **_: object) -> None:
            raise RuntimeError("secret internal detail")

    api.use_service(ChatService(chat_api.settings, Broken()))
    status, body, _ = chat_api.chat(HELLO)
    assert status == 500
    assert body["error"]["code"] == "internal_error"
    assert "secret internal detail" not in str(body) and "Traceback" not in str(body)


def test_unknown_route_is_404_json(chat_api: Api) -> None:
    status, body, _ = chat_api.call("GET", "/nope")
    assert status == 404 and body["error"]["code"] == "not_found"


def test_models_route_lists_models_and_tiers(chat_api: Api) -> None:
    status, body, _ = chat_api.call("GET", "/models")
    assert status == 200
    assert body["models"] == sorted(chat_api.settings.models)
    assert body["tiers"] == dict(chat_api.settings.tiers)


def test_prompts_are_not_logged_unless_the_stage_opts_in(
    chat_api: Api, caplog: pytest.LogCaptureFixture, capsys: pytest.CaptureFixture
) -> None:
    secret = "my-account-number-9931"
    body = {"messages": [{"role": "user", "content": f"remember {secret}"}]}

    def logged() -> str:
        text = capsys.readouterr().out + "".join(str(r.__dict__) for r in caplog.records)
        caplog.clear()
        return text

    # Given the default stage settings, the prompt never reaches logs or metrics
    assert chat_api.chat(body)[0] == 200
    text = logged()
    assert "chat answered" in text  # the request was logged ...
    assert secret not in text  # ... without its prompt
    # Given a stage that opts in, it does
    settings = make_settings(log_prompts=True)
    api.use_service(ChatService(settings, client_for(chat_api.server, 1)))
    assert chat_api.chat(body)[0] == 200
    assert secret in logged()
