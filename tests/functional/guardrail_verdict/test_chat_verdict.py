"""The chat and streaming answers say what the guardrail did, from the trace Bedrock returns,
through the real handler and botocore's parsing of the wire shapes; never the blocked text."""

from __future__ import annotations

import json

import pytest

from kit_runtime.contracts.chat_api import ChatRequest, ChatResponse
from kit_runtime.streaming import done_data
from tests.fakes import FakeBedrock, Reply
from tests.fakes import guardrail_traces as traces
from tests.support.chat_api import Api, make_service

HELLO = {"messages": [{"role": "user", "content": "hello there model"}]}
BLOCKED = "Sorry, I cannot answer that."


def test_given_a_prompt_attack_when_asked_then_input_blocked_by_that_filter(
    chat_api: Api, caplog: pytest.LogCaptureFixture
) -> None:
    # Given the guardrail blocks the request with its prompt-attack filter
    chat_api.server.enqueue(
        Reply.text(BLOCKED, stop_reason="guardrail_intervened", trace=traces.input_blocked())
    )
    # When a client asks
    got = chat_api.chat(HELLO)
    # Then the answer says: intervened on the input, content policy, PROMPT_ATTACK, blocked
    assert got.status == 200, got.body
    assert got.body["guardrail"] == {
        "intervened": True,
        "where": "input",
        "policies": [
            {
                "where": "input",
                "policy": "content",
                "type": "PROMPT_ATTACK",
                "action": "BLOCKED",
                "score": None,
                "threshold": None,
            }
        ],
        "name": None,
    }
    assert got.body["guardrail_intervened"] is True and got.body["text"] == BLOCKED
    # And the log line says where and which policy too
    (line,) = [r for r in caplog.records if r.getMessage() == "chat answered"]
    assert line.guardrail["policies"][0]["type"] == "PROMPT_ATTACK"  # type: ignore[attr-defined]


def test_given_an_answer_on_a_denied_topic_when_asked_then_output_blocked_without_it(
    chat_api: Api,
) -> None:
    # Given the model answered on a denied topic and the guardrail blocked that answer
    leaked = "Buy shares of ACME before Friday"
    chat_api.server.enqueue(
        Reply.text(
            BLOCKED,
            stop_reason="guardrail_intervened",
            trace=traces.output_blocked_by_topic("Investment advice", leaked),
        )
    )
    # When a client asks
    got = chat_api.chat(HELLO)
    # Then the verdict names the output, the topic policy and the topic, not the answer
    verdict = got.body["guardrail"]
    assert verdict["intervened"] is True and verdict["where"] == "output"
    assert [(p["where"], p["policy"], p["type"], p["action"]) for p in verdict["policies"]] == [
        ("output", "topic", "Investment advice", "BLOCKED")
    ]
    assert leaked not in json.dumps(got.body) and "ACME" not in json.dumps(got.body)


def test_given_an_email_in_the_answer_when_anonymized_then_the_entity_type_not_the_address(
    chat_api: Api,
) -> None:
    # Given the guardrail anonymized an email address in the answer
    address = "jane.doe@example.com"
    chat_api.server.enqueue(
        Reply.text(
            "Write to {EMAIL}.",
            stop_reason="guardrail_intervened",
            trace=traces.output_anonymized("EMAIL", address),
        )
    )
    # When a client asks
    got = chat_api.chat(HELLO)
    # Then the masked answer comes back with the entity type anonymized on the output
    assert got.body["text"] == "Write to {EMAIL}."
    verdict = got.body["guardrail"]
    assert (verdict["intervened"], verdict["where"]) == (True, "output")
    assert [(p["policy"], p["type"], p["action"]) for p in verdict["policies"]] == [
        ("sensitive_information", "EMAIL", "ANONYMIZED")
    ]
    assert address not in json.dumps(got.body)


def test_given_no_intervention_when_asked_then_the_verdict_is_empty(chat_api: Api) -> None:
    chat_api.server.enqueue(Reply.text("Hello!"))
    got = chat_api.chat(HELLO)
    assert got.body["guardrail"] == {
        "intervened": False,
        "where": None,
        "policies": [],
        "name": None,
    }
    assert got.body["guardrail_intervened"] is False


def test_given_a_streamed_answer_blocked_on_a_topic_then_the_done_event_carries_the_verdict(
    bedrock_server: FakeBedrock,
) -> None:
    # Given ConverseStream whose metadata event carries the guardrail trace
    bedrock_server.reset()
    service = make_service(bedrock_server)
    leaked = "Buy shares of ACME before Friday"
    bedrock_server.enqueue(
        Reply.text(
            BLOCKED,
            stop_reason="guardrail_intervened",
            trace=traces.output_blocked_by_topic("Investment advice", leaked),
        )
    )
    # When the request is streamed
    *_, final = list(service.stream(ChatRequest.model_validate(HELLO)))
    assert isinstance(final, ChatResponse)
    # Then the final event's data says where and which topic, never the model's own output
    done = done_data(final)
    assert done["guardrail"]["where"] == "output"
    assert [(p["policy"], p["type"]) for p in done["guardrail"]["policies"]] == [
        ("topic", "Investment advice")
    ]
    assert leaked not in json.dumps(done)
