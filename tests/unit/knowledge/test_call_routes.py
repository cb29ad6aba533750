"""``make call`` for the knowledge routes, pure parts: route names, bodies, printed answers."""

from __future__ import annotations

import pytest

from stacks.tools.client import (
    ClientProblem,
    describe_rag,
    describe_results,
    request_body,
    route_name,
)


@pytest.mark.parametrize(
    ("given", "route"), [("/rag", "rag"), ("retrieve", "retrieve"), ("/chat/", "chat")]
)
def test_a_route_is_named_with_or_without_slashes(given: str, route: str) -> None:
    assert route_name(given) == route


def test_an_unknown_route_is_a_problem_naming_the_routes() -> None:
    with pytest.raises(ClientProblem, match="/rag"):
        route_name("/models")


def test_a_message_becomes_the_question_or_the_query_of_the_knowledge_base() -> None:
    assert request_body("rag", None, "Why?", "docs") == {
        "knowledge_base": "docs",
        "question": "Why?",
    }
    assert request_body("retrieve", None, "Why?", "docs") == {
        "knowledge_base": "docs",
        "query": "Why?",
    }
    assert request_body("rag", '{"knowledge_base": "x", "question": "q"}', None, None) == {
        "knowledge_base": "x",
        "question": "q",
    }
    with pytest.raises(ClientProblem, match="KB="):
        request_body("retrieve", None, "Why?", None)


def test_a_rag_answer_prints_its_citations_and_a_guardrail_block_says_so() -> None:
    text = describe_rag(
        {
            "answer": "Yes [1].",
            "citations": [{"index": 1, "source_uri": "s3://b/a.md", "score": 0.5}],
            "guardrail_intervened": True,
        }
    )
    assert "Yes [1]." in text and "[1] s3://b/a.md (score 0.5)" in text
    assert "guardrail: intervened" in text


def test_retrieved_chunks_print_score_source_and_text() -> None:
    text = describe_results(
        {
            "knowledge_base": "docs",
            "results": [{"score": 0.9, "source_uri": "s3://b/a", "text": "x\n y"}],
        }
    )
    assert "1 chunk(s) from docs" in text and "0.9  s3://b/a" in text and "x y" in text
