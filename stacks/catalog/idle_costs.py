"""What a knowledge base's vector store costs while nobody uses it, from dated facts.

The figures live in ``idle_costs.yaml`` beside this module (price, unit, source, checked date,
whether an AWS page confirmed it); this module gives them a schema and computes a store's monthly
idle cost with its breakdown, so docs and the later cost estimate read data, not constants.

Run as a command, it prints the table that ``docs/knowledge-bases.md`` embeds between its
``idle-costs`` markers (a unit test fails when the two differ); ``--write`` rewrites it there::

    .venv/bin/python -m stacks.catalog.idle_costs            # print the table
    .venv/bin/python -m stacks.catalog.idle_costs --write    # or: make docs-costs

Exit status 0, or 2 with a message naming the file to fix (never a trace).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from functools import cache
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
if __name__ == "__main__":
    # Run as a command: the config package reads the runtime's contracts (lambda/), as app.py
    # and stacks/tools/show_config.py arrange; imported as a library, the caller has done it.
    sys.path.insert(0, str(ROOT / "lambda"))

import yaml  # noqa: E402
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator  # noqa: E402

from stacks.catalog import CatalogError  # noqa: E402
from stacks.config.knowledge import (  # noqa: E402
    AuroraPgvectorStore,
    OpenSearchServerlessStore,
    S3VectorsStore,
)

IDLE_COSTS_FILE = Path(__file__).with_name("idle_costs.yaml")
DOC = ROOT / "docs" / "knowledge-bases.md"
"""The page that embeds the table."""
TABLE_BEGIN = "<!-- idle-costs:begin -->\n"
TABLE_END = "<!-- idle-costs:end -->"

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


KMS_KEY_TYPE = "AWS::KMS::Key"


def count_keys(templates: Mapping[str, Mapping[str, Any]]) -> int:
    """The customer-managed keys a stage creates, counted in its synthesized templates.

    Counted from the templates, not the plan: which stacks exist, and which of them hold
    anything a key encrypts, is decided by the stack code; the template is what is deployed.
    """
    return sum(
        1
        for template in templates.values()
        for res in template.get("Resources", {}).values()
        if res.get("Type") == KMS_KEY_TYPE
    )


def keys_idle_cost(key_count: int, *, facts: IdleCostFacts | None = None) -> IdleCost:
    """The stage's customer-managed keys at idle: one key-month each (requests are usage).

    The extra charge for retained material after the first rotations (UNVERIFIED, see
    idle_costs.yaml) is left out.
    """
    if key_count < 0:
        raise ValueError(f"key_count: {key_count} is negative")
    f = facts or load_idle_costs()
    line = _line("customer-managed KMS keys", key_count, "key-months", f.kms.key_month)
    return IdleCost("customer-managed keys", (line,))


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


def with_table(text: str, table: str) -> str:
    """``text`` (a Markdown page) with what lies between its idle-cost markers replaced by
    ``table``; everything else is kept as it is.

    Raises
    ------
    CatalogError
        The page lacks the markers (one per line, begin before end).
    """
    start = text.find(TABLE_BEGIN)
    end = text.find(TABLE_END, start + len(TABLE_BEGIN)) if start >= 0 else -1
    if end < 0:
        raise CatalogError(
            f"no {TABLE_BEGIN.strip()} line followed by {TABLE_END}: put the two markers, each "
            "on its own line, where the table goes"
        )
    return text[: start + len(TABLE_BEGIN)] + table + text[end:]


def write_table(doc: Path = DOC, facts: IdleCostFacts | None = None) -> bool:
    """Rewrite the table between ``doc``'s markers from the data; whether the page changed.

    Raises
    ------
    CatalogError
        The data is invalid, or ``doc`` cannot be read or written or lacks the markers.
    """
    table = idle_cost_table(facts)
    try:
        text = doc.read_text(encoding="utf-8")
        try:
            updated = with_table(text, table)
        except CatalogError as error:
            raise CatalogError(f"{doc}: {error}") from None
        if updated != text:
            doc.write_text(updated, encoding="utf-8")
    except OSError as error:
        raise CatalogError(f"{doc}: {error.strerror or error}") from None
    return updated != text


def main(argv: Sequence[str] | None = None) -> int:
    """Command-line entry: print the idle-cost table, or with ``--write`` rewrite it in the docs."""
    parser = argparse.ArgumentParser(prog="python -m stacks.catalog.idle_costs")
    parser.add_argument(
        "--write",
        nargs="?",
        const=DOC,
        type=Path,
        default=None,
        metavar="PAGE",
        help=f"rewrite the table between the idle-costs markers of PAGE (default: {DOC.name})",
    )
    args = parser.parse_args(argv)
    try:
        if args.write is None:
            print(idle_cost_table(), end="")
        else:
            changed = write_table(args.write)
            print(f"{args.write}: idle-cost table {'rewritten' if changed else 'already current'}")
    except CatalogError as error:
        print(f"idle costs: {error}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())


__all__ = [
    "DOC",
    "IDLE_COSTS_FILE",
    "CostLine",
    "IdleCost",
    "IdleCostFacts",
    "data_bucket_idle_cost",
    "idle_cost",
    "idle_cost_table",
    "load_idle_costs",
    "with_table",
    "write_table",
]
