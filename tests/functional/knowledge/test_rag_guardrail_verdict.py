"""POST /rag and the guardrail: every Converse carries it (traced), the answer says what it
did, and the grounding check marks the passages and the question for contextual grounding."""

from __future__ import annotations

import pytest

from tests.fakes import Reply
from tests.fakes import guardrail_traces as traces
from tests.support.guardrail_calls import model_calls, unguarded
from tests.support.knowledge_runtime import KnowledgeApi, rag_settings
from tests.support.routing import arn, fast_chain

ASK = {"knowledge_base": "docs", "question": "when are refunds paid", "tier": "fast"}


@pytest.mark.parametrize("grounding_check", [False, True])
def test_given_rag_with_a_fallback_when_asked_then_every_converse_carries_it(
    knowledge_api: KnowledgeApi, grounding_check: bool
) -> None:
    # Given RAG whose fast tier falls back to a second model, the first throttling
    base = rag_settings(grounding_check=grounding_check)
    chat = base.chat.model_copy(update={"fallbacks": {"fast": [base.chat.tiers["balanced"]]}})
    knowledge_api.use(base.model_copy(update={"chat": chat}))
    knowledge_api.server.enqueue_for(arn(chat, fast_chain(chat)[0]), Reply.throttle(times=50))
    # When a caller asks
    got = knowledge_api.rag(ASK)
    # Then every Converse of the answer carried the guardrail, traced
    assert got.status == 200, got.body
    assert len(model_calls(knowledge_api.server)) == chat.budget.max_attempts + 1
    assert unguarded(knowledge_api.server, chat.guardrail) == []


def test_given_an_answer_below_the_grounding_threshold_then_rag_says_grounding_blocked_it(
    knowledge_api: KnowledgeApi,
) -> None:
    # Given the grounding check on, and a guardrail that finds the answer poorly grounded
    knowledge_api.use(rag_settings(grounding_check=True))
    knowledge_api.server.enqueue(
        Reply.text(
            "Sorry, I cannot answer that from the documents.",
            stop_reason="guardrail_intervened",
            trace=traces.grounding_below_threshold(score=0.21, threshold=0.7),
        )
    )
    # When a caller asks
    got = knowledge_api.rag(ASK)
    # Then the answer says the contextual grounding policy blocked the output, with the score
    assert got.status == 200, got.body
    verdict = got.body["guardrail"]
    assert (verdict["intervened"], verdict["where"]) == (True, "output")
    assert verdict["policies"] == [
        {
            "where": "output",
            "policy": "contextual_grounding",
            "type": "GROUNDING",
            "action": "BLOCKED",
            "score": 0.21,
            "threshold": 0.7,
        }
    ]
    # And no citation excerpt repeats what the blocked answer relied on
    assert got.body["citations"] == [] and got.body["guardrail_intervened"] is True


def test_given_a_prompt_attack_in_the_question_then_rag_says_the_input_was_blocked(
    knowledge_api: KnowledgeApi,
) -> None:
    knowledge_api.server.enqueue(
        Reply.text("Blocked.", stop_reason="guardrail_intervened", trace=traces.input_blocked())
    )
    got = knowledge_api.rag(ASK)
    assert got.body["guardrail"]["where"] == "input"
    assert [p["type"] for p in got.body["guardrail"]["policies"]] == ["PROMPT_ATTACK"]


def test_given_no_passage_then_the_verdict_is_empty(knowledge_api: KnowledgeApi) -> None:
    got = knowledge_api.rag({**ASK, "filter": {"equals": {"key": "team", "value": "nobody"}}})
    assert got.status == 200, got.body
    assert got.body["stop_reason"] == "no_passages"
    assert got.body["guardrail"] == {
        "intervened": False,
        "where": None,
        "policies": [],
        "name": None,
    }


def test_given_the_grounding_check_then_passages_are_the_grounding_source_question_the_query(
    knowledge_api: KnowledgeApi,
) -> None:
    # Given the grounding check on
    knowledge_api.use(rag_settings(grounding_check=True))
    # When a caller asks
    got = knowledge_api.rag(ASK)
    assert got.status == 200, got.body
    # Then the Converse the server received marks each cited passage as grounding source and the
    # question, alone, as the query; no unguarded block repeats either
    (sent,) = knowledge_api.conversations()
    blocks = sent["messages"][0]["content"]
    guarded = [b["guardContent"]["text"] for b in blocks if "guardContent" in b]
    plain = " ".join(b["text"] for b in blocks if "text" in b)
    sources = [g["text"] for g in guarded if g["qualifiers"] == ["grounding_source"]]
    queries = [g["text"] for g in guarded if "query" in g["qualifiers"]]
    assert queries == [ASK["question"]] and len(sources) == 1
    for citation in got.body["citations"]:
        assert citation["excerpt"].removesuffix("...") in sources[0]
        assert citation["excerpt"].removesuffix("...") not in plain
    assert ASK["question"] not in plain
    # And the guardrail is the stage's pinned one with its trace on
    assert unguarded(knowledge_api.server, knowledge_api.rag_settings.chat.guardrail) == []
