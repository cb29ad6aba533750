"""POST /rag through real botocore: Retrieve, then Converse through the stage's guardrail."""

from __future__ import annotations

import pytest

from kit_runtime.knowledge import SYSTEM_PROMPT
from tests.fakes import Reply
from tests.support.chat_api import catalog
from tests.support.knowledge_runtime import (
    ALICE,
    BOB,
    TENANT_KEY,
    TENANTS_ID,
    TIGHT_BUDGET,
    KnowledgeApi,
    docs_corpus,
    rag_settings,
)

ASK = {"knowledge_base": "docs", "question": "when are refunds paid"}


def priced(api: KnowledgeApi, model_id: str, input_tokens: int, output_tokens: int) -> float:
    chat = api.rag_settings.chat
    prices = catalog().models[model_id].prices_for(chat.models[model_id].profile)
    return (input_tokens * prices.input_per_mtok + output_tokens * prices.output_per_mtok) / 1e6


def test_the_answer_cites_the_retrieved_passages_with_uri_excerpt_and_score(
    knowledge_api: KnowledgeApi,
) -> None:
    # Given a model answer with known token counts
    knowledge_api.server.enqueue(
        Reply.text("Within 14 days [1].", input_tokens=900, output_tokens=12)
    )
    # When a caller asks the shared knowledge base on the fast tier
    got = knowledge_api.rag({**ASK, "tier": "fast"})
    # Then the answer comes back with citations in retrieval order, each with uri and score
    assert got.status == 200, got.body
    body = got.body
    assert body["answer"] == "Within 14 days [1]."
    retrieved = knowledge_api.server.requests[0]
    assert retrieved.operation == "Retrieve"
    citations = body["citations"]
    default = knowledge_api.retrieve_settings.knowledge_bases["docs"].default_results
    assert [c["index"] for c in citations] == list(range(1, min(default, 3) + 1))
    assert citations[0]["source_uri"] == "s3://docs/policies/refunds.md"
    assert citations[0]["excerpt"] == docs_corpus()[0].text
    assert citations[0]["score"] > citations[-1]["score"] >= 0
    # And the model, usage and the catalog-priced cost, like /chat
    model_id = knowledge_api.rag_settings.chat.tiers["fast"]
    assert body["model"] == model_id and body["tier"] == "fast"
    assert body["usage"] == {
        "input_tokens": 900,
        "output_tokens": 12,
        "total_tokens": 912,
        "cache_read_input_tokens": 0,
        "cache_write_input_tokens": 0,
    }
    assert body["cost"]["total_usd"] == pytest.approx(priced(knowledge_api, model_id, 900, 12))
    assert body["guardrail_intervened"] is False and body["request_id"]
    # And Converse went through the model's profile with the pinned guardrail, passages first
    (sent,) = knowledge_api.conversations()
    chat = knowledge_api.rag_settings.chat
    assert knowledge_api.server.last_request.model_id == chat.models[model_id].invoke_arn
    assert sent["guardrailConfig"] == {
        "guardrailIdentifier": chat.guardrail.arn,
        "guardrailVersion": chat.guardrail.version,
        "trace": "enabled",
    }
    assert sent["system"] == [{"text": SYSTEM_PROMPT}]
    passages, question = sent["messages"][0]["content"]
    assert (
        passages["text"].startswith("Passages:")
        and f"[1] {docs_corpus()[0].text}" in (passages["text"])
    )
    assert question == {"text": f"Question: {ASK['question']}"}
    assert sent["inferenceConfig"] == {"maxTokens": chat.default_max_tokens}


def test_a_long_passage_is_cited_by_an_excerpt(knowledge_api: KnowledgeApi) -> None:
    knowledge_api.use(rag_settings().model_copy(update={"excerpt_chars": 20}))
    got = knowledge_api.rag(ASK)
    assert got.status == 200
    excerpt = got.body["citations"][0]["excerpt"]
    assert len(excerpt) == 20 and excerpt.endswith("...")
    assert docs_corpus()[0].text.startswith(excerpt[:-3])


def test_a_guardrail_intervention_is_reported_without_citations(
    knowledge_api: KnowledgeApi, capsys: pytest.CaptureFixture
) -> None:
    # Given the guardrail blocks the exchange (trace holds what it assessed)
    knowledge_api.server.enqueue(Reply.guardrail_intervened("Blocked by policy."))
    got = knowledge_api.rag(ASK)
    # Then the guardrail's message, flagged, and no excerpt that could repeat blocked content
    assert got.status == 200
    assert got.body["guardrail_intervened"] is True
    assert got.body["answer"] == "Blocked by policy." and got.body["citations"] == []
    assert "trace" not in got.body
    assert [p["type"] for p in got.body["guardrail"]["policies"]] == ["VIOLENCE"]
    assert "GuardrailInterventions" in capsys.readouterr().out


def test_the_grounding_switch_sends_passages_and_question_as_guard_content(
    knowledge_api: KnowledgeApi,
) -> None:
    knowledge_api.use(rag_settings(grounding_check=True))
    got = knowledge_api.rag(ASK)
    assert got.status == 200, got.body
    (sent,) = knowledge_api.conversations()
    guarded = [
        b["guardContent"]["text"] for b in sent["messages"][0]["content"] if "guardContent" in b
    ]
    assert [g["qualifiers"] for g in guarded] == [["grounding_source"], ["query", "guard_content"]]
    assert docs_corpus()[0].text in guarded[0]["text"] and guarded[1]["text"] == ASK["question"]


def test_a_named_model_and_max_tokens_are_used(knowledge_api: KnowledgeApi) -> None:
    model_id = knowledge_api.rag_settings.chat.tiers["deep"]
    got = knowledge_api.rag({**ASK, "model": model_id, "max_tokens": 64})
    assert got.status == 200 and got.body["model"] == model_id and got.body["tier"] is None
    assert knowledge_api.conversations()[0]["inferenceConfig"] == {"maxTokens": 64}


@pytest.mark.parametrize(
    ("change", "status", "code"),
    [
        ({"model": "no-such-model"}, 400, "unknown_model"),
        ({"tier": "ludicrous"}, 400, "unknown_model"),
        ({"max_tokens": 10**6}, 422, "invalid_request"),
        ({"knowledge_base": "nope"}, 400, "unknown_knowledge_base"),
        ({"results": 99}, 400, "limit_exceeded"),
        ({"filter": {"andAll": []}}, 422, "invalid_request"),
        ({"model": "x", "tier": "fast"}, 422, "invalid_request"),
    ],
)
def test_a_request_the_stage_cannot_serve_is_refused_before_any_bedrock_call(
    knowledge_api: KnowledgeApi, change: dict, status: int, code: str
) -> None:
    got = knowledge_api.rag({**ASK, **change})
    assert got.status == status, got.body
    assert got.body["error"]["code"] == code
    assert knowledge_api.server.requests == []


def test_no_matching_passage_answers_without_calling_the_model(
    knowledge_api: KnowledgeApi,
) -> None:
    got = knowledge_api.rag({**ASK, "filter": {"equals": {"key": "team", "value": "nobody"}}})
    assert got.status == 200
    assert got.body["citations"] == [] and got.body["stop_reason"] == "no_passages"
    assert got.body["cost"]["total_usd"] == 0
    assert knowledge_api.conversations() == []


def test_throttled_retrieve_is_retried_then_429(knowledge_api: KnowledgeApi) -> None:
    attempts = knowledge_api.retrieve_settings.budget.max_attempts
    knowledge_api.server.script_retrieve(Reply.throttle(times=1))
    assert knowledge_api.rag(ASK).status == 200
    assert len(knowledge_api.retrievals()) == 2
    knowledge_api.server.reset()
    knowledge_api.server.add_knowledge_base("KBDOCS0001", docs_corpus())
    knowledge_api.server.script_retrieve(Reply.throttle(times=attempts))
    got = knowledge_api.rag(ASK)
    assert got.status == 429 and int(got.headers["Retry-After"]) >= 1
    assert knowledge_api.conversations() == []


def test_throttled_converse_is_retried_then_429(knowledge_api: KnowledgeApi) -> None:
    attempts = knowledge_api.rag_settings.chat.budget.max_attempts
    knowledge_api.server.enqueue(Reply.throttle(times=1), Reply.text("fine"))
    got = knowledge_api.rag(ASK)
    assert got.status == 200 and got.body["answer"] == "fine"
    assert len(knowledge_api.conversations()) == 2
    knowledge_api.server.enqueue(Reply.throttle(times=attempts))
    got = knowledge_api.rag(ASK)
    assert got.status == 429 and got.body["error"]["code"] == "throttled"
    assert "Retry-After" in got.headers


def test_a_converse_failure_that_may_have_run_the_model_is_not_retried(
    knowledge_api: KnowledgeApi,
) -> None:
    knowledge_api.server.enqueue(Reply.service_error("InternalServerException"), Reply.text("x"))
    got = knowledge_api.rag(ASK)
    assert got.status == 503 and len(knowledge_api.conversations()) == 1


def test_retrieve_and_converse_share_one_deadline(knowledge_api: KnowledgeApi) -> None:
    # Given a slow store that leaves too little of the budget for the model
    settings = rag_settings(budget=TIGHT_BUDGET)
    knowledge_api.use(settings)
    knowledge_api.server.script_retrieve(Reply.text("", delay_s=0.9))
    knowledge_api.server.enqueue(Reply.text("late", delay_s=0.9))
    got, elapsed_ms = knowledge_api.timed("/rag", ASK)
    # Then the kit answers 504 before the gateway's cut
    assert got.status == 504 and got.body["error"]["code"] == "deadline_exceeded"
    assert elapsed_ms < settings.retrieval.budget.integration_timeout_ms


def test_the_tenant_is_bound_on_the_retrieve_behind_rag(knowledge_api: KnowledgeApi) -> None:
    got = knowledge_api.rag(
        {
            "knowledge_base": "tenants",
            "question": "salary",
            "filter": {"equals": {"key": TENANT_KEY, "value": BOB}},
        },
        caller=ALICE,
    )
    assert got.status == 200
    # Bob's value is ANDed with Alice's binding: nothing matches, nothing is generated
    assert got.body["citations"] == [] and knowledge_api.conversations() == []
    (sent,) = knowledge_api.retrievals()
    assert knowledge_api.server.requests[0].model_id == TENANTS_ID
    bound = sent["retrievalConfiguration"]["vectorSearchConfiguration"]["filter"]
    assert bound["andAll"][0] == {"equals": {"key": TENANT_KEY, "value": ALICE}}
    got = knowledge_api.rag({"knowledge_base": "tenants", "question": "salary"}, caller=ALICE)
    assert got.status == 200
    assert {c["source_uri"].split("/")[3] for c in got.body["citations"]} == {"alice"}


def test_rag_on_a_tenant_base_without_identity_is_403(knowledge_api: KnowledgeApi) -> None:
    got = knowledge_api.rag({"knowledge_base": "tenants", "question": "salary"}, caller=None)
    assert got.status == 403 and knowledge_api.server.requests == []


def test_questions_and_passages_are_not_logged_unless_the_stage_opts_in(
    knowledge_api: KnowledgeApi, capsys: pytest.CaptureFixture, caplog: pytest.LogCaptureFixture
) -> None:
    secret = "refund-question-5521"
    completion = "the-rag-completion-8812"

    def logged() -> str:
        text = capsys.readouterr().out + "".join(str(r.__dict__) for r in caplog.records)
        caplog.clear()
        return text

    knowledge_api.server.enqueue(Reply.text(completion, input_tokens=50, output_tokens=3))
    assert knowledge_api.rag({**ASK, "question": f"refunds {secret}"}).status == 200
    text = logged()
    assert "rag answered" in text and "InputTokens" in text and "CostMicroUSD" in text
    assert secret not in text and completion not in text and "14 days" not in text
    knowledge_api.use(rag_settings(log_prompts=True))
    knowledge_api.server.enqueue(Reply.text(completion))
    assert knowledge_api.rag({**ASK, "question": f"refunds {secret}"}).status == 200
    text = logged()
    assert secret in text and completion in text and "14 days" in text
