"""What a knowledge base's vector store costs while nobody uses it, from dated facts.

The figures live in ``idle_costs.yaml`` beside this module (price, unit, source, checked date,
whether an AWS page confirmed it); this module gives them a schema and computes a store's monthly
idle cost with its breakdown, so docs and the later cost estimate read data, not constants.

``PYTHONPATH=lambda .venv/bin/python -m stacks.catalog.idle_costs`` prints the table that
``docs/knowledge-bases.md`` embeds (a unit test fails when the two differ).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from functools import cache
from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from stacks.catalog import CatalogError
from stacks.config.knowledge import (
    AuroraPgvectorStore,
    OpenSearchServerlessStore,
    S3VectorsStore,
)

IDLE_COSTS_FILE = Path(__file__).with_name("idle_costs.yaml")

Store = S3VectorsStore | OpenSearchServerlessStore | AuroraPgvectorStore


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Fact(_Strict):
    """Where a figure was read, when, and whether an AWS page confirmed it."""

    unit: str = Field(min_length=1)
    source: str = Field(pattern=r"^https://\S+$")
    checked: date
    verified: bool
    """``True`` only when read on an AWS-owned page; otherwise ``note`` says what backs it."""
    note: str = ""

    @model_validator(mode="after")
    def _check_fact(self) -> Fact:
        if self.checked > date.today():
            raise ValueError(f"checked: {self.checked.isoformat()} is in the future")
        if not self.verified and not self.note.strip():
            raise ValueError("note: an unverified figure must say what backs it")
        return self


class Price(Fact):
    """A unit price in USD."""

    price: float = Field(ge=0)


class Quantity(Fact):
    """A count (OCUs, ACUs, secrets, hours)."""

    value: float = Field(ge=0)


class OpenSearchServerlessFacts(_Strict):
    ocu_hour: Price
    min_ocus_with_standby: Quantity
    min_ocus_without_standby: Quantity
    storage_gb_month: Price

    @model_validator(mode="after")
    def _check_minimums(self) -> OpenSearchServerlessFacts:
        if self.min_ocus_with_standby.value < self.min_ocus_without_standby.value:
            raise ValueError("min_ocus_with_standby: below min_ocus_without_standby")
        return self


class AuroraFacts(_Strict):
    acu_hour: Price
    paused_acus: Quantity
    storage_gb_month: Price
    secrets_per_cluster: Quantity


class SecretsManagerFacts(_Strict):
    secret_month: Price


class KmsFacts(_Strict):
    key_month: Price


class S3VectorsFacts(_Strict):
    storage_gb_month: Price
    put_gb: Price
    queries_per_million: Price


class S3Facts(_Strict):
    standard_gb_month: Price


class IdleCostFacts(_Strict):
    """Every figure the idle costs are computed from (one region's list prices)."""

    region: str
    hours_per_month: Quantity
    opensearch_serverless: OpenSearchServerlessFacts
    aurora_serverless_v2: AuroraFacts
    secrets_manager: SecretsManagerFacts
    kms: KmsFacts
    s3_vectors: S3VectorsFacts
    s3: S3Facts


@dataclass(frozen=True)
class CostLine:
    """One line of a breakdown: ``quantity`` ``unit`` at ``unit_price`` USD."""

    item: str
    quantity: float
    unit: str
    unit_price: float
    verified: bool
    """Whether every figure behind the line was read on an AWS page."""

    @property
    def monthly_usd(self) -> float:
        return self.quantity * self.unit_price


@dataclass(frozen=True)
class IdleCost:
    """A monthly idle cost and the lines it adds up from."""

    what: str
    lines: tuple[CostLine, ...]

    @property
    def monthly_usd(self) -> float:
        return sum(line.monthly_usd for line in self.lines)

    @property
    def verified(self) -> bool:
        return all(line.verified for line in self.lines)


@cache
def load_idle_costs(path: Path = IDLE_COSTS_FILE) -> IdleCostFacts:
    """Read and validate the idle-cost facts once per process.

    Raises
    ------
    CatalogError
        The file cannot be read or is invalid; the message names each field.
    """
    try:
        with path.open(encoding="utf-8") as fh:
            return IdleCostFacts.model_validate(yaml.safe_load(fh))
    except (OSError, yaml.YAMLError) as exc:
        raise CatalogError(f"{path.name}: cannot be read: {exc}") from None
    except ValidationError as exc:
        problems = "\n".join(
            f"  - {'.'.join(str(p) for p in e['loc'])}: {e['msg']}"
            for e in exc.errors(include_url=False)
        )
        raise CatalogError(f"{path.name} is invalid:\n{problems}") from None


def idle_cost(
    store: Store,
    production: bool,
    *,
    stored_gb: float = 0.0,
    facts: IdleCostFacts | None = None,
) -> IdleCost:
    """The monthly cost of one knowledge base's vector store while it serves no request.

    Parameters
    ----------
    store:
        The knowledge base's ``vector_store`` config.
    production:
        The stage's ``production`` flag (decides options left at ``null``, e.g. standby
        replicas).
    stored_gb:
        Vectors (and their text and metadata) held by the store, in GB; 0 for an empty corpus.
    facts:
        The figures (default: ``idle_costs.yaml``).

    Returns
    -------
    The total and its breakdown; requests (queries, writes, ingestion) are usage, not idle, and
    are left out.
    """
    if stored_gb < 0:
        raise ValueError(f"stored_gb: {stored_gb} is negative")
    f = facts or load_idle_costs()
    hours = f.hours_per_month
    if isinstance(store, S3VectorsStore):
        v = f.s3_vectors
        return IdleCost(
            "s3vectors",
            (_line("vector storage", stored_gb, "GB-month", v.storage_gb_month),),
        )
    if isinstance(store, OpenSearchServerlessStore):
        o = f.opensearch_serverless
        standby = production if store.standby_replicas is None else store.standby_replicas
        minimum = o.min_ocus_with_standby if standby else o.min_ocus_without_standby
        state = "on" if standby else "off"
        limits = store.capacity
        floor = (limits.min_search_ocu or 0) + (limits.min_indexing_ocu or 0) if limits else 0
        if floor > minimum.value:
            # The collection group's own minimums keep more OCUs running than the service's.
            minimum = minimum.model_copy(update={"value": floor})
        return IdleCost(
            "opensearch-serverless",
            (
                _line(
                    f"minimum OCUs, standby replicas {state} ({minimum.value:g} OCU x "
                    f"{hours.value:g} h)",
                    minimum.value * hours.value,
                    "OCU-hours",
                    o.ocu_hour,
                    minimum,
                    hours,
                ),
                _line("managed storage", stored_gb, "GB-month", o.storage_gb_month),
            ),
        )
    a = f.aurora_serverless_v2
    # At idle the cluster sits at its minimum; at 0 ACU it auto-pauses and capacity is not billed.
    idle_acus = store.min_capacity if store.min_capacity > 0 else a.paused_acus.value
    compute_facts = (hours,) if store.min_capacity > 0 else (hours, a.paused_acus)
    compute = (
        f"compute at min_capacity ({idle_acus:g} ACU x {hours.value:g} h)"
        if store.min_capacity > 0
        else "compute while auto-paused (0 ACU)"
    )
    secrets = a.secrets_per_cluster
    return IdleCost(
        "aurora-pgvector",
        (
            _line(compute, idle_acus * hours.value, "ACU-hours", a.acu_hour, *compute_facts),
            _line("cluster storage", stored_gb, "GB-month", a.storage_gb_month),
            _line(
                "Secrets Manager secrets",
                secrets.value,
                "secret-months",
                f.secrets_manager.secret_month,
                secrets,
            ),
        ),
    )


def data_bucket_idle_cost(
    production: bool, *, stored_gb: float = 0.0, facts: IdleCostFacts | None = None
) -> IdleCost:
    """The stage's document bucket at idle: S3 Standard storage, and in a ``production`` stage
    its customer-managed KMS key (once per stage, whatever the number of knowledge bases)."""
    if stored_gb < 0:
        raise ValueError(f"stored_gb: {stored_gb} is negative")
    f = facts or load_idle_costs()
    lines = [_line("documents (S3 Standard)", stored_gb, "GB-month", f.s3.standard_gb_month)]
    if production:
        lines.append(_line("customer-managed KMS key", 1, "key-months", f.kms.key_month))
    return IdleCost("data bucket", tuple(lines))


def _line(item: str, quantity: float, unit: str, price: Price, *quantities: Quantity) -> CostLine:
    verified = price.verified and all(q.verified for q in quantities)
    return CostLine(item, quantity, unit, price.price, verified)


# The rows docs/knowledge-bases.md shows: each store at its defaults, plus Aurora kept warm.
TABLE_ROWS: tuple[tuple[str, Store], ...] = (
    ("`s3vectors` (default)", S3VectorsStore()),
    ("`opensearch-serverless`", OpenSearchServerlessStore(type="opensearch-serverless")),
    ("`aurora-pgvector`, `min_capacity: 0` (default)", AuroraPgvectorStore(type="aurora-pgvector")),
    (
        "`aurora-pgvector`, `min_capacity: 0.5`",
        AuroraPgvectorStore(type="aurora-pgvector", min_capacity=0.5),
    ),
)


def idle_cost_table(facts: IdleCostFacts | None = None) -> str:
    """The Markdown table of idle cost per store (empty corpus), as the docs embed it."""
    f = facts or load_idle_costs()
    out = [
        "| store | idle per month, non-production | idle per month, `production` | "
        "per GB stored per month | figures verified on AWS pages |",
        "|---|---|---|---|---|",
    ]
    for label, store in TABLE_ROWS:
        dev = idle_cost(store, False, facts=f)
        prod = idle_cost(store, True, facts=f)
        per_gb = idle_cost(store, False, stored_gb=1, facts=f).monthly_usd - dev.monthly_usd
        verified = "yes" if dev.verified and prod.verified else "no (see idle_costs.yaml)"
        out.append(
            f"| {label} | ${dev.monthly_usd:,.2f} | ${prod.monthly_usd:,.2f} | "
            f"${per_gb:,.3f} | {verified} |"
        )
    bucket_dev = data_bucket_idle_cost(False, facts=f)
    bucket_prod = data_bucket_idle_cost(True, facts=f)
    per_gb = data_bucket_idle_cost(False, stored_gb=1, facts=f).monthly_usd
    out.append(
        f"| data bucket (once per stage) | ${bucket_dev.monthly_usd:,.2f} | "
        f"${bucket_prod.monthly_usd:,.2f} | ${per_gb:,.3f} | no (see idle_costs.yaml) |"
    )
    return "\n".join(out) + "\n"


if __name__ == "__main__":
    print(idle_cost_table(), end="")


__all__ = [
    "IDLE_COSTS_FILE",
    "CostLine",
    "IdleCost",
    "IdleCostFacts",
    "data_bucket_idle_cost",
    "idle_cost",
    "idle_cost_table",
    "load_idle_costs",
]
