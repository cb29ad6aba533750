"""Idle cost per vector store, computed from dated facts (stacks/catalog/idle_costs.yaml).

The tests check relations the figures must keep (standby doubles OpenSearch's floor, a paused
Aurora bills no compute), never copies of the figures themselves.
"""

from __future__ import annotations

import re
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml

from stacks.catalog import CatalogError
from stacks.catalog.idle_costs import (
    IDLE_COSTS_FILE,
    IdleCost,
    IdleCostFacts,
    data_bucket_idle_cost,
    idle_cost,
    idle_cost_table,
    load_idle_costs,
    with_table,
)
from stacks.config.knowledge import (
    AuroraPgvectorStore,
    OpenSearchServerlessStore,
    S3VectorsStore,
)

DOC = Path(__file__).resolve().parents[3] / "docs" / "knowledge-bases.md"
FACTS = load_idle_costs()


def oss(standby: bool | None = None) -> OpenSearchServerlessStore:
    return OpenSearchServerlessStore(type="opensearch-serverless", standby_replicas=standby)


def pg(min_capacity: float = 0) -> AuroraPgvectorStore:
    return AuroraPgvectorStore(type="aurora-pgvector", min_capacity=min_capacity)


def line(cost: IdleCost, starts: str) -> float:
    """The monthly USD of the one line whose item starts with ``starts``."""
    (found,) = [x.monthly_usd for x in cost.lines if x.item.startswith(starts)]
    return found


def raw() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load(IDLE_COSTS_FILE.read_text(encoding="utf-8"))
    return loaded


# --- the data file ------------------------------------------------------------------------------


def test_the_shipped_facts_load_and_each_unverified_one_says_what_backs_it() -> None:
    def facts(node: Any) -> list[dict[str, Any]]:
        if isinstance(node, dict):
            own = [node] if "verified" in node else []
            return own + [f for v in node.values() for f in facts(v)]
        return []

    found = facts(raw())
    assert found, "no fact in the file"
    for fact in found:
        assert fact["verified"] or fact["note"].strip()


def test_an_unverified_fact_without_a_note_is_refused(tmp_path: Path) -> None:
    # Given the file with one unverified price whose note is removed
    data = raw()
    data["kms"]["key_month"].update(verified=False, note="")
    bad = tmp_path / "idle_costs.yaml"
    bad.write_text(yaml.safe_dump(data), encoding="utf-8")
    # When it loads / Then the error names the field
    with pytest.raises(CatalogError, match=r"kms\.key_month: .*unverified figure must say"):
        load_idle_costs.__wrapped__(bad)


def test_a_checked_date_in_the_future_is_refused(tmp_path: Path) -> None:
    data = raw()
    data["s3"]["standard_gb_month"]["checked"] = date.today() + timedelta(days=1)
    bad = tmp_path / "idle_costs.yaml"
    bad.write_text(yaml.safe_dump(data), encoding="utf-8")
    with pytest.raises(CatalogError, match=r"s3\.standard_gb_month: .*in the future"):
        load_idle_costs.__wrapped__(bad)


def test_standby_minimum_below_the_minimum_without_standby_is_refused(tmp_path: Path) -> None:
    data = raw()
    o = data["opensearch_serverless"]
    o["min_ocus_with_standby"]["value"] = o["min_ocus_without_standby"]["value"] / 2
    bad = tmp_path / "idle_costs.yaml"
    bad.write_text(yaml.safe_dump(data), encoding="utf-8")
    with pytest.raises(CatalogError, match="min_ocus_with_standby"):
        load_idle_costs.__wrapped__(bad)


# --- OpenSearch Serverless --------------------------------------------------------------------


def test_standby_replicas_double_the_opensearch_floor() -> None:
    # AWS: redundancy on keeps 0.5 OCU x 2 for indexing and for search; off keeps 0.5 each.
    on = line(idle_cost(oss(True), False), "minimum OCUs")
    off = line(idle_cost(oss(False), False), "minimum OCUs")
    assert off > 0 and on == pytest.approx(2 * off)


def test_standby_follows_production_unless_the_store_says_otherwise() -> None:
    assert idle_cost(oss(), True).monthly_usd == idle_cost(oss(True), False).monthly_usd
    assert idle_cost(oss(), False).monthly_usd == idle_cost(oss(False), True).monthly_usd


def test_an_empty_opensearch_collection_still_costs_its_floor() -> None:
    cost = idle_cost(oss(), False)
    assert cost.monthly_usd > 0 and line(cost, "managed storage") == 0


# --- Aurora pgvector --------------------------------------------------------------------------


def test_a_paused_aurora_cluster_bills_no_compute_but_keeps_storage_and_secrets() -> None:
    # Given a cluster that scales to 0 ACU, holding some vectors
    cost = idle_cost(pg(0), False, stored_gb=5)
    # Then compute is 0 while storage and the credentials secrets remain
    compute = line(cost, "compute")
    storage = line(cost, "cluster storage")
    secrets = line(cost, "Secrets Manager")
    assert compute == 0 and storage > 0 and secrets > 0
    assert cost.monthly_usd == pytest.approx(storage + secrets)


def test_an_aurora_minimum_bills_compute_in_proportion() -> None:
    half = line(idle_cost(pg(0.5), False), "compute")
    two = line(idle_cost(pg(2), False), "compute")
    assert half > 0 and two == pytest.approx(4 * half)


def test_a_warm_aurora_cluster_idles_above_a_paused_one() -> None:
    assert idle_cost(pg(0.5), False).monthly_usd > idle_cost(pg(0), False).monthly_usd


# --- S3 Vectors -------------------------------------------------------------------------------


def test_s3_vectors_costs_nothing_at_idle_for_an_empty_corpus() -> None:
    for production in (False, True):
        assert idle_cost(S3VectorsStore(), production).monthly_usd == 0


def test_s3_vectors_storage_grows_with_the_corpus() -> None:
    one = idle_cost(S3VectorsStore(), False, stored_gb=1).monthly_usd
    ten = idle_cost(S3VectorsStore(), False, stored_gb=10).monthly_usd
    assert one > 0 and ten == pytest.approx(10 * one)


# --- across stores and the data bucket --------------------------------------------------------


def test_for_an_empty_corpus_the_stores_rank_by_idle_cost() -> None:
    # The default store is the cheapest at idle; OpenSearch Serverless the dearest.
    for production in (False, True):
        s3v = idle_cost(S3VectorsStore(), production).monthly_usd
        paused = idle_cost(pg(0), production).monthly_usd
        search = idle_cost(oss(), production).monthly_usd
        assert s3v < paused < search


def test_a_negative_corpus_size_is_refused() -> None:
    with pytest.raises(ValueError, match="stored_gb"):
        idle_cost(S3VectorsStore(), False, stored_gb=-1)
    with pytest.raises(ValueError, match="stored_gb"):
        data_bucket_idle_cost(False, stored_gb=-1)


def test_a_production_data_bucket_adds_exactly_its_kms_key() -> None:
    dev = data_bucket_idle_cost(False, stored_gb=3)
    prod = data_bucket_idle_cost(True, stored_gb=3)
    assert not any("KMS" in x.item for x in dev.lines)
    assert prod.monthly_usd - dev.monthly_usd == pytest.approx(line(prod, "customer-managed KMS"))
    assert line(prod, "customer-managed KMS") > 0


def _all_verified(facts: IdleCostFacts) -> IdleCostFacts:
    data = facts.model_dump()

    def mark(node: Any) -> None:
        if isinstance(node, dict):
            if "verified" in node:
                node["verified"] = True
            for value in node.values():
                mark(value)

    mark(data)
    return IdleCostFacts.model_validate(data)


def test_a_line_is_verified_only_when_every_figure_behind_it_is() -> None:
    # Given facts all read on AWS pages except the OCU-hour price
    verified = _all_verified(FACTS)
    assert idle_cost(oss(), False, facts=verified).verified
    data = verified.model_dump()
    data["opensearch_serverless"]["ocu_hour"].update(verified=False, note="a blog says so")
    one_unverified = IdleCostFacts.model_validate(data)
    # Then the cost that uses it is not verified, and one that does not use it still is
    assert not idle_cost(oss(), False, facts=one_unverified).verified
    assert idle_cost(S3VectorsStore(), False, facts=one_unverified).verified


# --- the docs cannot drift from the data ------------------------------------------------------


def test_the_docs_table_is_the_one_the_data_gives() -> None:
    text = DOC.read_text(encoding="utf-8")
    match = re.search(r"<!-- idle-costs:begin -->\n(.*?)<!-- idle-costs:end -->", text, re.S)
    assert match, "docs/knowledge-bases.md lost its idle-costs markers"
    assert match.group(1) == idle_cost_table(), (
        "docs/knowledge-bases.md is out of date: regenerate its table with `make docs-costs`"
    )


def test_the_table_has_a_row_per_store_type() -> None:
    table = idle_cost_table()
    for store in ("s3vectors", "opensearch-serverless", "aurora-pgvector"):
        assert f"`{store}`" in table


def test_given_a_page_with_markers_when_the_table_is_put_in_then_only_the_middle_changes() -> None:
    page = (
        "# Costs\n\nintro\n<!-- idle-costs:begin -->\n| stale |\n<!-- idle-costs:end -->\nafter\n"
    )

    updated = with_table(page, "| fresh |\n")

    assert updated == (
        "# Costs\n\nintro\n<!-- idle-costs:begin -->\n| fresh |\n<!-- idle-costs:end -->\nafter\n"
    )
    assert with_table(updated, "| fresh |\n") == updated


@pytest.mark.parametrize(
    "page",
    [
        "no markers at all\n",
        "<!-- idle-costs:end -->\n<!-- idle-costs:begin -->\n",
        "<!-- idle-costs:begin -->\n| table |\n",
    ],
)
def test_given_a_page_without_both_markers_in_order_then_the_error_says_where_the_table_goes(
    page: str,
) -> None:
    with pytest.raises(CatalogError, match="idle-costs:begin .* each on its own line"):
        with_table(page, "| table |\n")
