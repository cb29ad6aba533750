"""POST /retrieve through real botocore against the local Bedrock Agent Runtime server."""

from __future__ import annotations

import time

import pytest

from tests.fakes import Reply
from tests.fakes.knowledge_corpus import score
from tests.support.knowledge_runtime import (
    DOCS_ID,
    TIGHT_BUDGET,
    KnowledgeApi,
    docs_corpus,
    rag_settings,
)

ASK = {"knowledge_base": "docs", "query": "when are refunds paid"}


def test_chunks_come_back_best_first_with_uri_score_chunk_id_and_own_metadata(
    knowledge_api: KnowledgeApi,
) -> None:
    # When a caller queries the shared knowledge base
    got = knowledge_api.retrieve(ASK)
    # Then the default number of chunks comes back, best first, each with its source and score
    assert got.status == 200, got.body
    results = got.body["results"]
    default = knowledge_api.retrieve_settings.knowledge_bases["docs"].default_results
    assert len(results) == min(default, len(docs_corpus()))
    expected = sorted(docs_corpus(), key=lambda c: -score(ASK["query"], c))
    assert [r["source_uri"] for r in results] == [c.uri for c in expected[: len(results)]]
    assert [r["score"] for r in results] == sorted((r["score"] for r in results), reverse=True)
    top = results[0]
    assert top["text"] == expected[0].text and top["score"] > 0 and top["chunk_id"]
    # And metadata is the document's own, without Bedrock's keys
    assert top["metadata"] == expected[0].metadata
    assert got.body["knowledge_base"] == "docs" and got.body["request_id"]
    # And Bedrock was asked for that knowledge base by id, with the default count and no filter
    sent = knowledge_api.server.last_request
    assert sent.operation == "Retrieve" and sent.model_id == DOCS_ID
    assert sent.body["retrievalQuery"] == {"text": ASK["query"]}
    assert sent.body["retrievalConfiguration"] == {
        "vectorSearchConfiguration": {"numberOfResults": default}
    }


def test_a_filter_and_a_result_count_are_forwarded_and_applied(
    knowledge_api: KnowledgeApi,
) -> None:
    # Given a filter on numbers and lists, Bedrock's own operator names
    wanted = {
        "andAll": [
            {"greaterThanOrEquals": {"key": "year", "value": 2023}},
            {"listContains": {"key": "tags", "value": "security"}},
        ]
    }
    # When a caller asks for one chunk with it
    got = knowledge_api.retrieve({**ASK, "filter": wanted, "results": 1})
    # Then only the matching document comes back, and Bedrock got the filter as written
    assert got.status == 200, got.body
    assert [r["source_uri"] for r in got.body["results"]] == ["s3://docs/security/passwords.md"]
    search = knowledge_api.server.last_request.body["retrievalConfiguration"]
    assert search["vectorSearchConfiguration"] == {"numberOfResults": 1, "filter": wanted}


def test_more_results_than_the_knowledge_base_allows_is_400_naming_the_limit(
    knowledge_api: KnowledgeApi,
) -> None:
    allowed = knowledge_api.retrieve_settings.knowledge_bases["docs"].max_results
    got = knowledge_api.retrieve({**ASK, "results": allowed + 1})
    assert got.status == 400
    assert got.body["error"]["code"] == "limit_exceeded"
    assert got.body["error"]["errors"] == [
        {"field": "results", "limit": "max_results", "allowed": allowed, "value": allowed + 1}
    ]
    assert knowledge_api.retrievals() == []


def test_a_query_longer_than_the_stage_allows_is_400(knowledge_api: KnowledgeApi) -> None:
    allowed = knowledge_api.retrieve_settings.limits.max_query_chars
    got = knowledge_api.retrieve({**ASK, "query": "x" * (allowed + 1)})
    assert got.status == 400 and got.body["error"]["code"] == "limit_exceeded"
    assert got.body["error"]["errors"][0]["field"] == "query"


def test_an_unknown_knowledge_base_is_400_listing_the_allowed_names(
    knowledge_api: KnowledgeApi,
) -> None:
    got = knowledge_api.retrieve({**ASK, "knowledge_base": "nope"})
    assert got.status == 400
    assert got.body["error"]["code"] == "unknown_knowledge_base"
    assert got.body["error"]["allowed_knowledge_bases"] == sorted(
        knowledge_api.retrieve_settings.knowledge_bases
    )
    assert knowledge_api.retrievals() == []


@pytest.mark.parametrize(
    ("bad_filter", "field"),
    [
        ({"andAll": [{"equals": {"key": "team", "value": "it"}}]}, "filter.andAll"),
        (
            {"equals": {"key": "team", "value": "it"}, "notEquals": {"key": "a", "value": 1}},
            "filter",
        ),
        ({"equals": {"key": "", "value": "it"}}, "filter.equals.key"),
        ({"greaterThan": {"key": "year", "value": "2020"}}, "filter.greaterThan.value"),
        ({"in": {"key": "team", "value": "it"}}, "filter.in.value"),
        ({"matches": {"key": "team", "value": "it"}}, "filter.matches"),
        ({"equals": {"key": "team", "value": {"nested": 1}}}, "filter.equals.value"),
    ],
)
def test_a_bad_filter_is_422_naming_the_field_to_fix(
    knowledge_api: KnowledgeApi, bad_filter: dict, field: str
) -> None:
    got = knowledge_api.retrieve({**ASK, "filter": bad_filter})
    assert got.status == 422, got.body
    assert got.body["error"]["code"] == "invalid_request"
    assert field in {e["field"] for e in got.body["error"]["errors"]}, got.body
    assert knowledge_api.retrievals() == []


def test_a_filter_bedrock_refuses_is_400_with_its_reason(knowledge_api: KnowledgeApi) -> None:
    # Given the service refuses the filter (e.g. startsWith on a store that lacks it)
    knowledge_api.server.script_retrieve(
        Reply.service_error("ValidationException", "startsWith is not supported by this store")
    )
    got = knowledge_api.retrieve({**ASK, "filter": {"startsWith": {"key": "team", "value": "f"}}})
    assert got.status == 400
    assert got.body["error"]["code"] == "bedrock_validation"
    assert "startsWith is not supported" in got.body["error"]["message"]
    assert len(knowledge_api.retrievals()) == 1  # a refusal is not retried


def test_throttling_is_retried_then_answered(knowledge_api: KnowledgeApi) -> None:
    knowledge_api.server.script_retrieve(Reply.throttle(times=1))
    got = knowledge_api.retrieve(ASK)
    assert got.status == 200 and got.body["results"]
    assert len(knowledge_api.retrievals()) == 2


def test_throttling_on_every_attempt_is_429_with_retry_after(knowledge_api: KnowledgeApi) -> None:
    attempts = knowledge_api.retrieve_settings.budget.max_attempts
    knowledge_api.server.script_retrieve(Reply.throttle(times=attempts + 3))
    got = knowledge_api.retrieve(ASK)
    assert got.status == 429 and got.body["error"]["code"] == "throttled"
    assert int(got.headers["Retry-After"]) >= 1
    assert len(knowledge_api.retrievals()) == attempts


@pytest.mark.parametrize(
    "code", ["InternalServerException", "BadGatewayException", "DependencyFailedException"]
)
def test_a_read_only_call_retries_transient_server_failures(
    knowledge_api: KnowledgeApi, code: str
) -> None:
    # Given Retrieve fails once on the server side (it reads: a retry cannot bill twice)
    knowledge_api.server.script_retrieve(Reply.service_error(code))
    got = knowledge_api.retrieve(ASK)
    assert got.status == 200, got.body
    assert len(knowledge_api.retrievals()) == 2


def test_a_read_timeout_is_retried_when_another_attempt_fits(knowledge_api: KnowledgeApi) -> None:
    # Given a short read timeout within a long budget, and one slow answer (margins wide enough
    # that a loaded machine still answers the second attempt within the read timeout)
    knowledge_api.use(rag_settings(budget={"read_timeout_seconds": 1.0}))
    knowledge_api.server.script_retrieve(Reply.text("", delay_s=2.0))
    got = knowledge_api.retrieve(ASK)
    # Then the second attempt answered
    assert got.status == 200, got.body
    assert len(knowledge_api.retrievals()) == 2


def test_a_slow_retrieve_gets_the_kits_504_before_the_gateway_would_cut(
    knowledge_api: KnowledgeApi,
) -> None:
    # Given a budget shorter than the store's answer
    settings = rag_settings(budget=TIGHT_BUDGET)
    knowledge_api.use(settings)
    knowledge_api.server.script_retrieve(Reply.text("", delay_s=1.5))
    got, elapsed_ms = knowledge_api.timed("/retrieve", ASK)
    # Then the kit answers 504 itself, in time, after one attempt
    assert got.status == 504 and got.body["error"]["code"] == "deadline_exceeded"
    assert elapsed_ms < settings.retrieval.budget.integration_timeout_ms
    assert len(knowledge_api.retrievals()) == 1


def test_a_spent_budget_is_504_without_calling_bedrock(knowledge_api: KnowledgeApi) -> None:
    budget_ms = knowledge_api.retrieve_settings.budget.integration_timeout_ms
    got = knowledge_api.retrieve(ASK, request_time_epoch_ms=int(time.time() * 1000) - budget_ms)
    assert got.status == 504 and knowledge_api.retrievals() == []


def test_a_missing_knowledge_base_at_the_service_is_a_502_for_the_platform_team(
    knowledge_api: KnowledgeApi,
) -> None:
    # Given the deployed id no longer exists (the settings are stale)
    knowledge_api.server.reset()
    got = knowledge_api.retrieve(ASK)
    assert got.status == 502 and got.body["error"]["bedrock_code"] == "ResourceNotFoundException"


def test_queries_and_chunks_are_not_logged_unless_the_stage_opts_in(
    knowledge_api: KnowledgeApi, capsys: pytest.CaptureFixture, caplog: pytest.LogCaptureFixture
) -> None:
    secret = "refunds-question-7781"

    def logged() -> str:
        text = capsys.readouterr().out + "".join(str(r.__dict__) for r in caplog.records)
        caplog.clear()
        return text

    assert knowledge_api.retrieve({**ASK, "query": f"refunds {secret}"}).status == 200
    text = logged()
    assert "retrieve answered" in text and "RetrievedChunks" in text
    assert secret not in text and "14 days" not in text
    knowledge_api.use(rag_settings(log_prompts=True))
    assert knowledge_api.retrieve({**ASK, "query": f"refunds {secret}"}).status == 200
    assert secret in logged()
