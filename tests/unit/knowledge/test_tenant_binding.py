"""Tenant isolation, pure: who the caller is, how the binding is built, and that no filter a
caller can send (any the contract accepts) ever matches another tenant's chunk.

Filters are evaluated with the local server's own evaluator (:mod:`tests.fakes.knowledge_corpus`)
over the multi-tenant corpus, without a socket.
"""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from kit_runtime import errors
from kit_runtime.contracts.knowledge import (
    MAX_FILTER_CONDITIONS,
    MAX_FILTER_DEPTH,
    MetadataFilter,
    RetrieveRequest,
)
from kit_runtime.knowledge import KnowledgeService, caller_identity, tenant_filter
from tests.fakes.knowledge_corpus import check_filter, matches
from tests.support.knowledge_runtime import (
    ACCOUNT,
    ALICE,
    BOB,
    OWNERS,
    SUPPORT_ROLE,
    TENANT_KEY,
    retrieve_settings,
    tenant_corpus,
)


@pytest.mark.parametrize(
    ("user_arn", "tenant"),
    [
        (ALICE, ALICE),
        (
            f"arn:aws:iam::{ACCOUNT}:user/division/carol",
            f"arn:aws:iam::{ACCOUNT}:user/division/carol",
        ),
        (f"{SUPPORT_ROLE}/alice@example.com", SUPPORT_ROLE),
        (f"{SUPPORT_ROLE}/botocore-session-1764547200", SUPPORT_ROLE),
        (
            f"arn:aws-us-gov:sts::{ACCOUNT}:assumed-role/Ops/s1",
            f"arn:aws-us-gov:sts::{ACCOUNT}:assumed-role/Ops",
        ),
        (
            f"arn:aws:sts::{ACCOUNT}:federated-user/dave",
            f"arn:aws:sts::{ACCOUNT}:federated-user/dave",
        ),
        (f"arn:aws:iam::{ACCOUNT}:root", f"arn:aws:iam::{ACCOUNT}:root"),
        (SUPPORT_ROLE, None),  # an assumed role without a session is not what a caller signs as
        (f"{SUPPORT_ROLE}/a/b", None),
        ("arn:aws:s3:::bucket", None),
        ("not-an-arn", None),
        ("", None),
        (None, None),
        (12, None),
    ],
)
def test_caller_identity_normalizes_the_iam_principal(user_arn: Any, tenant: str | None) -> None:
    identity = {"sourceIp": "10.0.0.1", "userArn": user_arn}
    assert caller_identity(identity) == tenant


def test_no_identity_block_is_no_caller() -> None:
    assert caller_identity(None) is None and caller_identity({}) is None


def test_the_binding_is_the_tenant_equality_with_the_caller_filter_beside_it() -> None:
    own = {"equals": {"key": TENANT_KEY, "value": ALICE}}
    narrow = {"equals": {"key": "year", "value": 2024}}
    # No caller filter: the equality alone
    assert tenant_filter(TENANT_KEY, ALICE, None) == own
    # A leaf or an orAll: ANDed beside the equality
    assert tenant_filter(TENANT_KEY, ALICE, narrow) == {"andAll": [own, narrow]}
    either = {"orAll": [narrow, {"equals": {"key": TENANT_KEY, "value": BOB}}]}
    assert tenant_filter(TENANT_KEY, ALICE, either) == {"andAll": [own, either]}
    # An andAll: flattened into the same andAll (one level less to nest)
    both = {"andAll": [narrow, either]}
    assert tenant_filter(TENANT_KEY, ALICE, both) == {"andAll": [own, narrow, either]}


# ------------------------------------------------------------------------- every caller filter

KEYS = [TENANT_KEY, "Tenant", "TENANT", "year", "tags", "title", "missing"]
VALUES = st.sampled_from([*OWNERS, 12345, 2024, 2023, "salary", "alice", "", True, "arn:"])
LEAVES = st.one_of(
    st.builds(
        lambda op, k, v: {op: {"key": k, "value": v}},
        st.sampled_from(["equals", "notEquals", "listContains"]),
        st.sampled_from(KEYS),
        VALUES,
    ),
    st.builds(
        lambda op, k, v: {op: {"key": k, "value": v}},
        st.sampled_from(["greaterThan", "greaterThanOrEquals", "lessThan", "lessThanOrEquals"]),
        st.sampled_from(KEYS),
        st.integers(2000, 2030),
    ),
    st.builds(
        lambda op, k, v: {op: {"key": k, "value": v}},
        st.sampled_from(["in", "notIn"]),
        st.sampled_from(KEYS),
        st.lists(st.sampled_from([*OWNERS, 12345, 2024, "salary"]), min_size=1, max_size=4),
    ),
    st.builds(
        lambda op, k, v: {op: {"key": k, "value": v}},
        st.sampled_from(["startsWith", "stringContains"]),
        st.sampled_from(KEYS),
        st.sampled_from(["arn", ":", ACCOUNT, "bob", "a"]),
    ),
)
FILTERS = st.recursive(
    LEAVES,
    lambda inner: st.builds(
        lambda op, children: {op: children},
        st.sampled_from(["andAll", "orAll"]),
        st.lists(inner, min_size=2, max_size=3),
    ),
    max_leaves=MAX_FILTER_CONDITIONS,
)


@settings(max_examples=300, deadline=None)
@given(wanted=FILTERS, caller=st.sampled_from(OWNERS))
def test_no_accepted_filter_reaches_another_tenants_chunk(wanted: dict, caller: str) -> None:
    # Given any filter the API contract accepts (others are refused with 422)
    try:
        parsed = RetrieveRequest.model_validate(
            {"knowledge_base": "tenants", "query": "q", "filter": wanted}
        ).filter
    except ValidationError:
        return
    # When the runtime binds it to the caller's tenant
    service = KnowledgeService(retrieve_settings(), client=None)
    base = service.base("tenants")
    bound = service.bound_filter(base, parsed, caller)
    # Then Bedrock accepts it, and every chunk it matches is the caller's
    assert bound is not None
    check_filter(bound)
    for chunk in tenant_corpus():
        if matches(bound, chunk.metadata):
            assert chunk.metadata.get(TENANT_KEY) == caller, (wanted, chunk.uri)


def test_depth_and_size_beyond_the_bounds_are_refused_by_the_contract() -> None:
    leaf = {"equals": {"key": "year", "value": 1}}
    node: dict[str, Any] = leaf
    for _ in range(MAX_FILTER_DEPTH + 1):
        node = {"orAll": [node, leaf]}
    with pytest.raises(ValidationError, match="levels deep"):
        RetrieveRequest.model_validate({"knowledge_base": "k", "query": "q", "filter": node})
    wide = {"orAll": [leaf] * (MAX_FILTER_CONDITIONS + 1)}
    with pytest.raises(ValidationError, match="conditions"):
        RetrieveRequest.model_validate({"knowledge_base": "k", "query": "q", "filter": wide})


def test_type_confusion_in_a_value_is_refused() -> None:
    for value in ({"nested": 1}, [ALICE], None):
        with pytest.raises(ValidationError):
            MetadataFilter.model_validate({"equals": {"key": TENANT_KEY, "value": value}})


# ------------------------------------------------------------------------- the second check


def test_chunks_of_another_tenant_are_dropped_even_if_the_store_returned_them() -> None:
    # Given a store that (wrongly) ignores the filter and returns every tenant's chunks
    returned = [
        {
            "content": {"text": c.text},
            "location": {"s3Location": {"uri": c.uri}},
            "metadata": dict(c.metadata),
            "score": 0.5,
        }
        for c in tenant_corpus()
    ]

    def retrieve(**_: Any) -> dict[str, Any]:
        return {"retrievalResults": returned}

    service = KnowledgeService(
        retrieve_settings(), client=type("C", (), {"retrieve": staticmethod(retrieve)})
    )
    # When Bob retrieves
    got = service.retrieve("tenants", "salary", results=20, tenant=BOB)
    # Then only Bob's chunks leave the runtime
    expected = {c.uri for c in tenant_corpus() if c.metadata.get(TENANT_KEY) == BOB}
    assert {p.source_uri for p in got} == expected


def test_a_tenant_base_refuses_a_request_without_identity() -> None:
    service = KnowledgeService(retrieve_settings(), client=None)
    with pytest.raises(errors.NoCallerIdentity):
        service.bound_filter(service.base("tenants"), None, None)
