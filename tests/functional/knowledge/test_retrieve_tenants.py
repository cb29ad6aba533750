"""Tenant isolation through the real handler: hostile filters never widen the caller's view.

The local server evaluates filters for real over a corpus of several tenants (plus chunks with
no tenant, a numeric tenant and a differently cased key holding another tenant's value), so a
binding the runtime got wrong would show here as another tenant's chunk.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.support.knowledge_runtime import (
    ACCOUNT,
    ALICE,
    BOB,
    OWNERS,
    SUPPORT_ROLE,
    TENANT_KEY,
    KnowledgeApi,
    owner_of,
    signed_as,
    tenant_corpus,
)

MAX = 20  # the tenants knowledge base's max_results: every chunk that passes comes back


def eq(key: str, value: Any) -> dict[str, Any]:
    return {"equals": {"key": key, "value": value}}


def deep(levels: int, leaf: dict[str, Any]) -> dict[str, Any]:
    node = leaf
    for _ in range(levels):
        node = {"orAll": [node, eq(TENANT_KEY, BOB)]}
    return node


HOSTILE: dict[str, dict[str, Any]] = {
    "orAll with another tenant's value": {"orAll": [eq(TENANT_KEY, BOB), eq(TENANT_KEY, ALICE)]},
    "orAll with an always-true branch": {
        "orAll": [eq(TENANT_KEY, BOB), {"notEquals": {"key": TENANT_KEY, "value": "x"}}]
    },
    "notEquals of the tenant key": {"notEquals": {"key": TENANT_KEY, "value": ALICE}},
    "the tenant key with another value": eq(TENANT_KEY, BOB),
    "in with every tenant": {"in": {"key": TENANT_KEY, "value": list(OWNERS)}},
    "notIn of the caller": {"notIn": {"key": TENANT_KEY, "value": [ALICE]}},
    "startsWith an ARN prefix": {"startsWith": {"key": TENANT_KEY, "value": "arn:"}},
    "stringContains the account": {"stringContains": {"key": TENANT_KEY, "value": ACCOUNT}},
    "number instead of string": {"orAll": [eq(TENANT_KEY, 12345), eq("year", 2024)]},
    "boolean instead of string": {"orAll": [eq(TENANT_KEY, True), eq("year", 2024)]},
    "key in other case": {"orAll": [eq("Tenant", ALICE), eq("TENANT", ALICE)]},
    "key in other case with notEquals": {"notEquals": {"key": "TENANT", "value": BOB}},
    "deep nesting within the limit": deep(3, eq("year", 2024)),
    "a wide orAll": {"orAll": [eq("year", y) for y in range(2015, 2031)]},
    "a huge in list": {"in": {"key": "year", "value": list(range(2000, 2032))}},
    "andAll hiding an orAll": {
        "andAll": [
            {"orAll": [eq(TENANT_KEY, BOB), eq(TENANT_KEY, SUPPORT_ROLE)]},
            {"notEquals": {"key": "title", "value": "none"}},
        ]
    },
}


def uris_seen(knowledge_api: KnowledgeApi, caller: str, wanted: dict | None) -> set[str]:
    body: dict[str, Any] = {"knowledge_base": "tenants", "query": "salary record", "results": MAX}
    if wanted is not None:
        body["filter"] = wanted
    got = knowledge_api.retrieve(body, caller=caller)
    assert got.status == 200, got.body
    return {r["source_uri"] for r in got.body["results"]}


def year(uri: str) -> int:
    return int(next(c for c in tenant_corpus() if c.uri == uri).metadata["year"])


def own(caller: str) -> set[str]:
    return {c.uri for c in tenant_corpus() if c.metadata.get(TENANT_KEY) == caller}


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_a_hostile_filter_only_narrows_to_the_callers_own_chunks(
    knowledge_api: KnowledgeApi, name: str
) -> None:
    # Given a caller and a filter written to reach other tenants' chunks
    seen = uris_seen(knowledge_api, ALICE, HOSTILE[name])
    # Then every chunk that comes back is the caller's own
    assert seen <= own(ALICE), {uri: owner_of(uri) for uri in seen - own(ALICE)}
    # And Bedrock got the tenant's equality at the top, the caller's filter only beside it
    sent = knowledge_api.server.last_request.body["retrievalConfiguration"]
    top = sent["vectorSearchConfiguration"]["filter"]
    assert top["andAll"][0] == eq(TENANT_KEY, ALICE)
    assert len(top) == 1


def test_without_a_filter_each_caller_sees_exactly_their_own_chunks(
    knowledge_api: KnowledgeApi,
) -> None:
    for owner in OWNERS:
        assert uris_seen(knowledge_api, signed_as(owner), None) == own(owner), owner
    sent = knowledge_api.server.last_request.body["retrievalConfiguration"]
    assert sent["vectorSearchConfiguration"]["filter"] == eq(TENANT_KEY, SUPPORT_ROLE)


def test_a_narrowing_filter_still_works_within_the_tenant(knowledge_api: KnowledgeApi) -> None:
    seen = uris_seen(knowledge_api, BOB, {"greaterThanOrEquals": {"key": "year", "value": 2023}})
    assert seen == {uri for uri in own(BOB) if owner_of(uri) == BOB and year(uri) >= 2023}


def test_every_session_of_a_role_is_one_tenant(knowledge_api: KnowledgeApi) -> None:
    # Given two sessions of the same assumed role (session names chosen by the caller)
    for session in ("alice-laptop", "batch-job.2026"):
        arn = f"arn:aws:sts::{ACCOUNT}:assumed-role/Support/{session}"
        # Then both see the role's chunks and nothing else
        assert uris_seen(knowledge_api, arn, None) == own(SUPPORT_ROLE)


def test_the_tenant_key_is_not_echoed_in_metadata(knowledge_api: KnowledgeApi) -> None:
    got = knowledge_api.retrieve({"knowledge_base": "tenants", "query": "salary"}, caller=BOB)
    assert got.status == 200 and got.body["results"]
    for result in got.body["results"]:
        assert TENANT_KEY not in result["metadata"]


@pytest.mark.parametrize(
    "caller",
    [None, "", "not-an-arn", SUPPORT_ROLE],
    ids=["unsigned", "empty", "not an ARN", "assumed role without session"],
)
def test_no_iam_identity_is_403_and_nothing_is_retrieved(
    knowledge_api: KnowledgeApi, caller: str | None
) -> None:
    got = knowledge_api.retrieve({"knowledge_base": "tenants", "query": "salary"}, caller=caller)
    assert got.status == 403
    assert got.body["error"]["code"] == "no_caller_identity"
    assert knowledge_api.retrievals() == []


def test_a_shared_knowledge_base_needs_no_identity(knowledge_api: KnowledgeApi) -> None:
    got = knowledge_api.retrieve({"knowledge_base": "docs", "query": "refunds"}, caller=None)
    assert got.status == 200 and got.body["results"]


def test_a_filter_deeper_than_allowed_is_refused_before_any_call(
    knowledge_api: KnowledgeApi,
) -> None:
    got = knowledge_api.retrieve(
        {"knowledge_base": "tenants", "query": "salary", "filter": deep(4, eq("year", 1))}
    )
    assert got.status == 422 and "deep" in str(got.body["error"]["errors"])
    assert knowledge_api.retrievals() == []
