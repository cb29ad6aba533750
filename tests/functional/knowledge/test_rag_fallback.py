"""POST /rag shares the chat routing: its Converse call falls back along the tier's chain."""

from __future__ import annotations

from tests.fakes import Reply
from tests.support.knowledge_runtime import KnowledgeApi, rag_settings
from tests.support.routing import arn, fast_chain

ASK = {"knowledge_base": "docs", "question": "when are refunds paid", "tier": "fast"}


def test_given_the_first_model_throttles_when_asked_then_the_next_model_answers(
    knowledge_api: KnowledgeApi,
) -> None:
    # Given RAG settings whose fast tier falls back to a second model, the first throttling
    base = rag_settings()
    chat = base.chat
    second = chat.tiers["balanced"]
    chat = chat.model_copy(update={"fallbacks": {"fast": [second]}})
    settings = base.model_copy(update={"chat": chat})
    knowledge_api.use(settings)
    first = fast_chain(chat)[0]
    knowledge_api.server.enqueue_for(arn(chat, first), Reply.throttle(times=50))
    # When a caller asks on the fast tier
    got = knowledge_api.rag(ASK)
    # Then the second model answered, the retrieval ran once, and the answer says so
    assert got.status == 200, got.body
    assert got.body["model"] == second and got.body["fallbacks"] == 1
    assert got.body["attempts"] == chat.budget.max_attempts + 1
    operations = [r.operation for r in knowledge_api.server.requests]
    assert operations.count("Retrieve") == 1
    assert knowledge_api.server.last_request.model_id == arn(chat, second)
