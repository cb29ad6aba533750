"""The chat handler through real botocore against the local Bedrock wire-protocol server."""

from __future__ import annotations

import pytest

from handlers import chat as chat_handler
from kit_runtime.chat import ChatService
from tests.fakes import Reply
from tests.support.chat_api import (
    Api,
    catalog,
    chat_model_by_input,
    make_settings,
    settings_serving,
)

HELLO = {"messages": [{"role": "user", "content": "hello there model"}]}


def expected_cost(model_id: str, input_tokens: int, output_tokens: int) -> float:
    prices = chat_handler.service().prices(model_id)
    return round(
        input_tokens * prices.input_per_mtok / 1e6 + output_tokens * prices.output_per_mtok / 1e6, 8
    )


def test_chat_by_tier_invokes_profile_with_guardrail_and_reports_cost(chat_api: Api) -> None:
    # Given a scripted answer with known token counts
    chat_api.server.enqueue(Reply.text("Hi! How can I help?", input_tokens=1200, output_tokens=340))
    # When a client asks the fast tier
    got = chat_api.chat({**HELLO, "tier": "fast"})
    # Then the answer, usage and the catalog-priced cost come back
    model_id = chat_api.settings.tiers["fast"]
    assert got.status == 200
    assert got.body["text"] == "Hi! How can I help?"
    assert got.body["model"] == model_id and got.body["tier"] == "fast"
    assert got.body["usage"] == {
        "input_tokens": 1200,
        "output_tokens": 340,
        "total_tokens": 1540,
        "cache_read_input_tokens": 0,
        "cache_write_input_tokens": 0,
    }
    assert got.body["cost"]["total_usd"] == pytest.approx(expected_cost(model_id, 1200, 340))
    assert got.body["guardrail_intervened"] is False
    # And Bedrock saw the application profile, the pinned guardrail and maxTokens
    sent = chat_api.server.last_request
    assert sent.operation == "Converse"
    assert sent.model_id == chat_api.settings.models[model_id].invoke_arn
    assert sent.body["guardrailConfig"] == {
        "guardrailIdentifier": chat_api.settings.guardrail.arn,
        "guardrailVersion": chat_api.settings.guardrail.version,
        "trace": "enabled",
    }
    assert sent.body["inferenceConfig"]["maxTokens"] == chat_api.settings.default_max_tokens


def test_default_tier_and_explicit_model_and_parameters(chat_api: Api) -> None:
    # Given no model or tier, the stage's default tier answers
    got = chat_api.chat(HELLO)
    assert got.status == 200
    assert got.body["model"] == chat_api.settings.tiers[chat_api.settings.default_tier]
    # When a model is named with explicit inference parameters and a system prompt
    model_id = chat_api.settings.tiers["deep"]
    got = chat_api.chat(
        {**HELLO, "model": model_id, "max_tokens": 100, "temperature": 0.2, "system": "Be brief."}
    )
    # Then they are forwarded as given
    assert got.status == 200 and got.body["model"] == model_id and got.body["tier"] is None
    sent = chat_api.server.last_request.body
    assert sent["inferenceConfig"] == {"maxTokens": 100, "temperature": 0.2}
    assert sent["system"] == [{"text": "Be brief."}]
    assert sent["messages"] == [{"role": "user", "content": [{"text": "hello there model"}]}]


def test_an_image_block_reaches_bedrock_as_the_same_bytes(chat_api: Api) -> None:
    # Given a model that takes images, and a user message with a text and a small
    # PNG-labelled image (base64 in JSON)
    model_id = chat_model_by_input("image", accepts=True)
    if model_id is None:
        pytest.skip("the catalog has no streaming chat model with image input")
    chat_api.use(settings_serving(model_id))
    image = {"format": "png", "source": {"bytes": "iVBORw0KGgo="}}
    body = {
        "messages": [{"role": "user", "content": [{"text": "what is this?"}, {"image": image}]}]
    }
    # When it is sent
    got = chat_api.chat(body)
    # Then Bedrock receives the image block with the same bytes (botocore re-encodes them)
    assert got.status == 200, got.body
    sent = chat_api.server.last_request.body["messages"][0]["content"]
    assert sent == [{"text": "what is this?"}, {"image": image}]


def test_cost_follows_the_server_reported_tokens(chat_api: Api) -> None:
    # Given the default (echo) reply, whose token counts depend on the prompt
    got = chat_api.chat({"messages": [{"role": "user", "content": "a b c d e f"}]})
    # Then cost is computed from what Bedrock reported, not from the request
    usage = got.body["usage"]
    assert got.status == 200 and usage["input_tokens"] == 6
    assert got.body["cost"]["total_usd"] == pytest.approx(
        expected_cost(got.body["model"], usage["input_tokens"], usage["output_tokens"])
    )


@pytest.mark.parametrize(
    "field,value,allowed_key",
    [("model", "openai.gpt-nope", "allowed_models"), ("tier", "turbo", "allowed_tiers")],
)
def test_unknown_model_or_tier_is_400_listing_allowed(
    chat_api: Api, field: str, value: str, allowed_key: str
) -> None:
    # When a client names a model or tier the stage does not enable
    got = chat_api.chat({**HELLO, field: value})
    # Then 400 lists what is allowed, and Bedrock is never called
    assert got.status == 400
    assert got.body["error"]["code"] == "unknown_model"
    assert value in got.body["error"]["message"]
    expected = sorted(chat_api.settings.models if field == "model" else chat_api.settings.tiers)
    assert got.body["error"][allowed_key] == expected
    assert chat_api.server.requests == []


def test_max_tokens_above_stage_limit_is_422_with_the_range(chat_api: Api) -> None:
    limit = chat_api.settings.max_tokens_limit
    got = chat_api.chat({**HELLO, "max_tokens": limit + 1})
    assert got.status == 422
    assert got.body["error"]["errors"] == [
        {"field": "max_tokens", "message": f"allowed: 1 to {limit}"}
    ]


def test_guardrail_intervention_is_reported(chat_api: Api, capsys: pytest.CaptureFixture) -> None:
    # Given the guardrail blocks the prompt
    chat_api.server.enqueue(Reply.guardrail_intervened("Sorry, this request was blocked."))
    # When a client asks
    got = chat_api.chat(HELLO)
    # Then the blocked message comes back flagged as a guardrail intervention, and metered
    assert got.status == 200
    assert got.body["guardrail_intervened"] is True
    assert got.body["stop_reason"] == "guardrail_intervened"
    assert got.body["text"] == "Sorry, this request was blocked."
    assert "GuardrailInterventions" in capsys.readouterr().out


@pytest.mark.parametrize(
    "code,status,api_code",
    [
        ("ValidationException", 400, "bedrock_validation"),
        ("AccessDeniedException", 502, "bedrock_error"),
        ("ResourceNotFoundException", 502, "bedrock_error"),
        ("ModelTimeoutException", 504, "model_timeout"),
        ("ServiceUnavailableException", 503, "model_unavailable"),
        ("InternalServerException", 503, "model_unavailable"),
        ("ModelErrorException", 503, "model_unavailable"),
    ],
)
def test_bedrock_errors_are_mapped_without_traces(
    chat_api: Api, code: str, status: int, api_code: str
) -> None:
    # Given Bedrock fails every attempt with one error code
    chat_api.server.enqueue(
        Reply.service_error(code, "upstream said no", times=chat_api.settings.budget.max_attempts)
    )
    # When a client asks
    got = chat_api.chat(HELLO)
    # Then the caller gets the mapped status and code, as JSON without a trace
    assert got.status == status
    assert got.body["error"]["code"] == api_code
    assert "Traceback" not in str(got.body)


def test_unexpected_failure_is_json_without_trace(chat_api: Api) -> None:
    # Given a runtime fault that no mapping knows (a broken client)
    class Broken:
        def converse(self, **_: object) -> None:
            raise RuntimeError("secret internal detail")

    chat_handler.use_service(ChatService(chat_api.settings, catalog(), Broken()))
    # When a client asks
    got = chat_api.chat(HELLO)
    # Then 500 says where to look, and leaks nothing
    assert got.status == 500
    assert got.body["error"]["code"] == "internal_error"
    assert got.body["request_id"]
    assert "secret internal detail" not in str(got.body) and "Traceback" not in str(got.body)


def test_unknown_route_is_404_json(chat_api: Api) -> None:
    got = chat_api.call("GET", "/nope")
    assert got.status == 404 and got.body["error"]["code"] == "not_found"


def test_models_route_lists_models_tiers_and_limits(chat_api: Api) -> None:
    got = chat_api.call("GET", "/models")
    assert got.status == 200
    assert got.body["models"] == sorted(chat_api.settings.models)
    assert got.body["tiers"] == dict(chat_api.settings.tiers)
    assert got.body["limits"] == chat_api.settings.limits.model_dump()


def test_prompts_are_not_logged_unless_the_stage_opts_in(
    chat_api: Api, caplog: pytest.LogCaptureFixture, capsys: pytest.CaptureFixture
) -> None:
    secret = "my-account-number-9931"
    answer = "the-completion-4471"
    body = {"messages": [{"role": "user", "content": f"remember {secret}"}]}

    def logged() -> str:
        text = capsys.readouterr().out + "".join(str(r.__dict__) for r in caplog.records)
        caplog.clear()
        return text

    # Given the default stage settings, neither prompt nor completion reaches logs or metrics
    chat_api.server.enqueue(Reply.text(answer))
    assert chat_api.chat(body).status == 200
    text = logged()
    assert "chat answered" in text  # the request was logged ...
    assert secret not in text and answer not in text  # ... without its prompt or completion
    # Given a stage that opts in, both are logged
    chat_api.use(make_settings(log_prompts=True))
    chat_api.server.enqueue(Reply.text(answer))
    assert chat_api.chat(body).status == 200
    text = logged()
    assert secret in text and answer in text
