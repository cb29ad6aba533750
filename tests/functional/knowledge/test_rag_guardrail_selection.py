"""POST /rag with a named guardrail: Converse carries the chosen guardrail's pinned version, and
the grounding check follows the chosen guardrail's policy (real handler, local server)."""

from __future__ import annotations

import pytest

from tests.fakes import Reply
from tests.support.chat_api import GUARDRAIL_ARN
from tests.support.guardrail_choices import (
    DEFAULT,
    OTHER,
    OTHER_ARN,
    OTHER_VERSION,
    sent_guardrails,
    two_guardrails,
)
from tests.support.knowledge_runtime import KnowledgeApi, rag_settings

ASK = {"knowledge_base": "docs", "question": "when are refunds paid", "tier": "fast"}


@pytest.fixture
def two(knowledge_api: KnowledgeApi) -> KnowledgeApi:
    # The default has no grounding check; the other guardrail has a grounding policy
    base = rag_settings(grounding_check=False)
    chat = type(base.chat).model_validate(
        {**base.chat.model_dump(), **two_guardrails(other_grounding=True)}
    )
    knowledge_api.use(base.model_copy(update={"chat": chat}))
    return knowledge_api


def _guarded(conversation: dict[str, object]) -> bool:
    content = conversation["messages"][0]["content"]  # type: ignore[index]
    return any("guardContent" in block for block in content)


@pytest.mark.parametrize(
    ("chosen", "sent", "named", "grounded"),
    [
        ({"guardrail": OTHER}, (OTHER_ARN, OTHER_VERSION), OTHER, True),
        ({}, (GUARDRAIL_ARN, "3"), DEFAULT, False),
    ],
)
def test_given_two_guardrails_when_rag_names_one_or_none_then_converse_carries_it(
    two: KnowledgeApi,
    chosen: dict[str, str],
    sent: tuple[str, str],
    named: str,
    grounded: bool,
) -> None:
    # Given a model that answers from the passages
    two.server.enqueue(Reply.text("Refunds are paid in 5 days [1]."))
    # When a caller asks, naming a guardrail or not
    got = two.rag({**ASK, **chosen})
    # Then Converse carried that guardrail, grounding followed its policy, the answer names it
    assert got.status == 200, got.body
    assert sent_guardrails(two.server, "Converse") == [sent]
    assert [_guarded(c) for c in two.conversations()] == [grounded]
    assert got.body["guardrail"]["name"] == named


def test_given_an_unknown_guardrail_when_rag_asks_then_400_before_any_call(
    two: KnowledgeApi,
) -> None:
    got = two.rag({**ASK, "guardrail": "nonexistent"})
    assert got.status == 400 and got.body["error"]["code"] == "unknown_guardrail"
    assert got.body["error"]["allowed_guardrails"] == sorted([DEFAULT, OTHER])
    assert two.conversations() == [] and two.retrievals() == []
