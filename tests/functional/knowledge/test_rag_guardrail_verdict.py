"""POST /rag and the guardrail: every Converse carries it (traced), the answer says what it
did, and the grounding check marks the passages and the question for contextual grounding."""

from __future__ import annotations

import pytest

from tests.fakes import Reply
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
