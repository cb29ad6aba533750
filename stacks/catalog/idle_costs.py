"""What a stage costs while nobody uses it, from dated facts: its vector stores, and its private
network and hardening (endpoints x zones, NAT, flow logs, WAF, customer-managed keys).

The figures live in ``idle_costs.yaml`` beside this module (price, unit, source, checked date,
whether an AWS page confirmed it); this module gives them a schema and computes a store's or a
stage's monthly idle cost with its breakdown, so docs and the later cost estimate read data, not
constants.

Run as a command, it prints the store table that ``docs/knowledge-bases.md`` embeds between its
``idle-costs`` markers, or with ``--network`` the table of each stage of ``cdk.json`` that README's
"Private deployments" section embeds between its ``network-costs`` markers (unit tests fail when
either page differs); ``--write`` rewrites both::

    .venv/bin/python -m stacks.catalog.idle_costs              # print the store table
    .venv/bin/python -m stacks.catalog.idle_costs --network    # print the network table
    .venv/bin/python -m stacks.catalog.idle_costs --write      # or: make docs-costs

Exit status 0, or 2 with a message naming the file (or stage) to fix (never a trace).
"""

from __future__ import annotations

import argparse
import json
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
from stacks.config import ConfigError, StagePlan, load_plan  # noqa: E402
from stacks.config.api import waf_enabled  # noqa: E402
from stacks.config.knowledge import (  # noqa: E402
    AuroraPgvectorStore,
    OpenSearchServerlessStore,
    S3VectorsStore,
)
from stacks.config.network import (  # noqa: E402
    CreateNetwork,
    ExistingNetwork,
    NoNetwork,
    flow_logs_on,
)
from stacks.network.endpoints import required_endpoints  # noqa: E402

IDLE_COSTS_FILE = Path(__file__).with_name("idle_costs.yaml")
DOC = ROOT / "docs" / "knowledge-bases.md"
"""The page that embeds the table."""
TABLE_BEGIN = "<!-- idle-costs:begin -->\n"
TABLE_END = "<!-- idle-costs:end -->"
README = ROOT / "README.md"
"""The page that embeds the network table (section "Private deployments")."""
CDK_JSON = ROOT / "cdk.json"
"""Where the shipped stages are read from (through the config loader: no synth, no AWS)."""
NETWORK_BEGIN = "<!-- network-costs:begin -->\n"
NETWORK_END = "<!-- network-costs:end -->"

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


class VpcFacts(_Strict):
    interface_endpoint_az_hour: Price
    gateway_endpoint_hour: Price
    nat_gateway_hour: Price
    public_ipv4_hour: Price
    flow_logs_gb: Price


class WafFacts(_Strict):
    web_acl_month: Price
    rule_month: Price


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
    vpc: VpcFacts
    waf: WafFacts


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


KEYED_STACKS = ("Platform", "Guardrails", "Network", "Knowledge", "Ingestion", "Api")
"""The stage's stacks in deploy order (stacks/stage.py), as :func:`key_stacks` names them."""


def key_stacks(plan: StagePlan) -> tuple[str, ...]:
    """The stacks that hold a customer-managed key, derived from the plan (no synth).

    A stack makes its key on first use (stacks/core/keys.py ``stack_key``): Guardrails for the
    guardrail, Api for its functions' log groups, Knowledge and Ingestion when the stage has
    knowledge bases, Platform when its model-access check (a function) is deployed, Network
    when it logs the VPC's flows. tests/infra/keys checks this against :func:`count_keys` of
    every test stage's synthesized templates.
    """
    if not plan.customer_managed_keys:
        return ()
    network = plan.config.network
    present = {
        "Platform": plan.config.model_access.enabled,
        "Guardrails": True,
        "Network": not isinstance(network, NoNetwork) and flow_logs_on(network, plan.production),
        "Knowledge": bool(plan.knowledge_bases),
        "Ingestion": bool(plan.knowledge_bases),
        "Api": True,
    }
    return tuple(stack for stack in KEYED_STACKS if present[stack])


def waf_rule_count(plan: StagePlan) -> int:
    """The rules of the stage's web ACL as stacks/api/waf.py builds them (0 without one)."""
    if not waf_enabled(plan.config.api, production=plan.production):
        return 0
    from stacks.api.waf import web_acl_rules  # imports aws_cdk: only when a web ACL is priced

    return len(web_acl_rules(plan, metric_prefix="Cost"))


def zone_count(network: CreateNetwork | ExistingNetwork) -> int:
    """The zones an interface endpoint has a network interface in: ``az_count`` zones of a
    created VPC; for an existing one, the distinct zones of its subnets (an interface endpoint
    takes one subnet per zone: aws-cdk-lib selects the subnets with ``onePerAz``)."""
    if isinstance(network, CreateNetwork):
        return network.az_count
    return len(set(network.availability_zones))


@dataclass(frozen=True)
class NetworkIdleCost(IdleCost):
    """A stage's private network and hardening at idle, with what each line counts."""

    mode: str
    interface_endpoints: tuple[str, ...]
    gateway_endpoints: tuple[str, ...]
    zones: int
    nat_gateways: int
    waf_rules: int | None
    """``None``: the stage's API has no web ACL."""
    keyed_stacks: tuple[str, ...]
    flow_logs: bool
    flow_logs_gb_price: float

    def usd(self, *items: str) -> float:
        """The monthly cost of the lines named ``items`` (see :data:`NETWORK_ITEMS`)."""
        return sum(line.monthly_usd for line in self.lines if line.item in items)


NETWORK_ITEMS = {
    "interface": "interface endpoints x zones",
    "gateway": "gateway endpoints",
    "nat": "NAT gateways",
    "nat_ip": "NAT gateways' public IPv4 addresses",
    "flow_logs": "VPC flow logs (per GB delivered; 0 GB at idle)",
    "web_acl": "WAF web ACL",
    "waf_rules": "WAF rules",
    "keys": "customer-managed KMS keys",
}
"""The item name of each line :func:`network_idle_cost` may return."""


def network_idle_cost(plan: StagePlan, *, facts: IdleCostFacts | None = None) -> NetworkIdleCost:
    """The monthly cost of a stage's private network and hardening while it serves no request.

    Lines: interface endpoints x zones (each endpoint is billed per zone it has a network
    interface in, idle_costs.yaml), gateway endpoints (free), NAT gateways and their public IPv4
    addresses, VPC flow logs (priced per GB delivered: 0 GB at idle), the API's WAF web ACL and
    its rules (when ``api.waf`` puts one on), and the customer-managed KMS keys (one per stack
    that holds one, :func:`key_stacks`). A stage without a network (``mode: none``) has no
    network line; its WAF and keys are still counted.

    Left out (usage, not idle): data processed by endpoints and NAT gateways (per GB), flow-log
    volume and storage, WAF and KMS requests, and the KMS charge for retained material after a
    key's first rotations (UNVERIFIED, see idle_costs.yaml). Prices are the file's region's
    (us-east-1); a stage elsewhere pays its region's.
    """
    f = facts or load_idle_costs()
    hours = f.hours_per_month
    network = plan.config.network
    lines: list[CostLine] = []
    interface: tuple[str, ...] = ()
    gateway: tuple[str, ...] = ()
    zones = nat = 0
    flow_logs = False
    if not isinstance(network, NoNetwork):
        needed = required_endpoints(plan.config)
        interface, gateway = needed.interface, needed.gateway
        zones = zone_count(network)
        nat = network.nat_gateways if isinstance(network, CreateNetwork) else 0
        flow_logs = flow_logs_on(network, plan.production)
        v = f.vpc
        lines.append(
            _line(
                NETWORK_ITEMS["interface"],
                len(interface) * zones * hours.value,
                "endpoint-zone-hours",
                v.interface_endpoint_az_hour,
                hours,
            )
        )
        if gateway:
            lines.append(
                _line(
                    NETWORK_ITEMS["gateway"],
                    len(gateway) * hours.value,
                    "endpoint-hours",
                    v.gateway_endpoint_hour,
                    hours,
                )
            )
        if nat:
            lines.append(
                _line(
                    NETWORK_ITEMS["nat"],
                    nat * hours.value,
                    "gateway-hours",
                    v.nat_gateway_hour,
                    hours,
                )
            )
            lines.append(
                _line(
                    NETWORK_ITEMS["nat_ip"],
                    nat * hours.value,
                    "address-hours",
                    v.public_ipv4_hour,
                    hours,
                )
            )
        if flow_logs:
            lines.append(_line(NETWORK_ITEMS["flow_logs"], 0, "GB", v.flow_logs_gb))
    rules = waf_rule_count(plan)
    if waf_enabled(plan.config.api, production=plan.production):
        lines.append(_line(NETWORK_ITEMS["web_acl"], 1, "web-ACL-months", f.waf.web_acl_month))
        lines.append(_line(NETWORK_ITEMS["waf_rules"], rules, "rule-months", f.waf.rule_month))
    stacks = key_stacks(plan)
    if stacks:
        lines.append(_line(NETWORK_ITEMS["keys"], len(stacks), "key-months", f.kms.key_month))
    return NetworkIdleCost(
        what=f"stage {plan.name}: network and hardening",
        lines=tuple(lines),
        mode=network.mode,
        interface_endpoints=interface,
        gateway_endpoints=gateway,
        zones=zones,
        nat_gateways=nat,
        waf_rules=rules if waf_enabled(plan.config.api, production=plan.production) else None,
        keyed_stacks=stacks,
        flow_logs=flow_logs,
        flow_logs_gb_price=f.vpc.flow_logs_gb.price,
    )


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


def with_table(text: str, table: str, begin: str = TABLE_BEGIN, end_marker: str = TABLE_END) -> str:
    """``text`` (a Markdown page) with what lies between its ``begin`` and ``end_marker`` lines
    (by default the idle-cost markers) replaced by ``table``; everything else is kept as it is.

    Raises
    ------
    CatalogError
        The page lacks the markers (one per line, begin before end).
    """
    start = text.find(begin)
    end = text.find(end_marker, start + len(begin)) if start >= 0 else -1
    if end < 0:
        raise CatalogError(
            f"no {begin.strip()} line followed by {end_marker}: put the two markers, each "
            "on its own line, where the table goes"
        )
    return text[: start + len(begin)] + table + text[end:]


def write_table(doc: Path = DOC, facts: IdleCostFacts | None = None) -> bool:
    """Rewrite the table between ``doc``'s markers from the data; whether the page changed.

    Raises
    ------
    CatalogError
        The data is invalid, or ``doc`` cannot be read or written or lacks the markers.
    """
    return _rewrite(doc, idle_cost_table(facts), TABLE_BEGIN, TABLE_END)


def write_network_table(
    page: Path = README, cdk_json: Path = CDK_JSON, facts: IdleCostFacts | None = None
) -> bool:
    """Rewrite the network table between ``page``'s network-costs markers from ``cdk_json``'s
    stages; whether the page changed.

    Raises
    ------
    CatalogError
        A stage or the data is invalid, or ``page`` cannot be read or written or lacks the
        markers.
    """
    table = network_cost_table(shipped_context(cdk_json), facts)
    return _rewrite(page, table, NETWORK_BEGIN, NETWORK_END)


def _rewrite(doc: Path, table: str, begin: str, end: str) -> bool:
    try:
        text = doc.read_text(encoding="utf-8")
        try:
            updated = with_table(text, table, begin, end)
        except CatalogError as error:
            raise CatalogError(f"{doc}: {error}") from None
        if updated != text:
            doc.write_text(updated, encoding="utf-8")
    except OSError as error:
        raise CatalogError(f"{doc}: {error.strerror or error}") from None
    return updated != text


def shipped_context(cdk_json: Path = CDK_JSON) -> dict[str, Any]:
    """The ``context`` of ``cdk_json`` (its stages and ``kit``)."""
    try:
        context = json.loads(cdk_json.read_text(encoding="utf-8")).get("context", {})
    except (OSError, ValueError) as error:
        raise CatalogError(f"{cdk_json}: cannot be read: {error}") from None
    if not isinstance(context, dict) or not isinstance(context.get("stages"), dict):
        raise CatalogError(f"{cdk_json}: context.stages: expected an object of stages")
    return context


def stage_plans(context: Mapping[str, Any]) -> tuple[StagePlan, ...]:
    """Every stage of ``context["stages"]``, loaded by the kit's config loader (in file order).

    Raises
    ------
    CatalogError
        A stage is invalid (the loader's message, with the stage's name).
    """
    plans = []
    for name in context["stages"]:
        try:
            plans.append(load_plan({**context, "stage": name}, {}))
        except ConfigError as error:
            raise CatalogError(f"stage {name}: {error}") from None
    return tuple(plans)


def network_cost_table(context: Mapping[str, Any], facts: IdleCostFacts | None = None) -> str:
    """The dated Markdown table of each stage's network and hardening idle cost per month,
    as README's "Private deployments" section embeds it."""
    f = facts or load_idle_costs()
    used = (
        f.hours_per_month,
        *(getattr(f.vpc, name) for name in VpcFacts.model_fields),
        *(getattr(f.waf, name) for name in WafFacts.model_fields),
        f.kms.key_month,
    )
    checked = min(fact.checked for fact in used).isoformat()
    verified = all(fact.verified for fact in used)
    out = [
        f"Idle cost per month, {f.region} list prices checked {checked} "
        f"({'verified' if verified else 'not verified'} on the live AWS pricing pages; "
        "figures and sources: `stacks/catalog/idle_costs.yaml`):",
        "",
        "| stage | network | interface endpoints x zones | NAT | WAF | customer-managed keys | "
        "flow logs | total per month |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for plan in stage_plans(context):
        out.append(_network_row(plan, network_idle_cost(plan, facts=f)))
    return "\n".join(out) + "\n"


def _network_row(plan: StagePlan, cost: NetworkIdleCost) -> str:
    items = NETWORK_ITEMS
    if cost.mode == "none":
        network = endpoints = nat = flow_logs = "none"
    else:
        zones = f"{cost.zones} zone{'s' if cost.zones != 1 else ''}"
        network = f"`{cost.mode}`, {zones}"
        names = ", ".join(f"`{name}`" for name in cost.interface_endpoints)
        endpoints = (
            f"{len(cost.interface_endpoints)} x {cost.zones}: "
            f"${cost.usd(items['interface']):,.2f} ({names})"
        )
        if cost.gateway_endpoints:
            free = ", ".join(f"`{name}`" for name in cost.gateway_endpoints)
            endpoints += f"; gateway {free}: ${cost.usd(items['gateway']):,.2f}"
        nat = (
            f"{cost.nat_gateways}: ${cost.usd(items['nat'], items['nat_ip']):,.2f} "
            "(gateway + public IPv4)"
            if cost.nat_gateways
            else "none"
        )
        flow_logs = f"on: ${cost.flow_logs_gb_price:,.2f} per GB" if cost.flow_logs else "off"
    waf = (
        f"web ACL + {cost.waf_rules} rules: ${cost.usd(items['web_acl'], items['waf_rules']):,.2f}"
        if cost.waf_rules is not None
        else "off"
    )
    keys = (
        f"{len(cost.keyed_stacks)}: ${cost.usd(items['keys']):,.2f} "
        f"({', '.join(cost.keyed_stacks)})"
        if cost.keyed_stacks
        else "off"
    )
    return (
        f"| `{plan.name}` | {network} | {endpoints} | {nat} | {waf} | {keys} | {flow_logs} | "
        f"**${cost.monthly_usd:,.2f}** |"
    )


_BOTH = Path("-")
"""``--write`` with no page: both tables, each in its default page."""


def main(argv: Sequence[str] | None = None) -> int:
    """Command-line entry: print a table, or rewrite the tables in their pages."""
    parser = argparse.ArgumentParser(prog="python -m stacks.catalog.idle_costs")
    parser.add_argument(
        "--write",
        nargs="?",
        const=_BOTH,
        type=Path,
        default=None,
        metavar="PAGE",
        help=(
            f"rewrite the store table between the idle-costs markers of PAGE; with no PAGE, "
            f"that of {DOC.name} and the network table of {README.name} (make docs-costs)"
        ),
    )
    parser.add_argument(
        "--write-network",
        type=Path,
        default=None,
        metavar="PAGE",
        help="rewrite the network table between the network-costs markers of PAGE",
    )
    parser.add_argument(
        "--network",
        action="store_true",
        help="print the network table of the stages of --cdk-json instead of the store table",
    )
    parser.add_argument(
        "--cdk-json",
        type=Path,
        default=CDK_JSON,
        metavar="FILE",
        help=f"the stages the network table lists (default: {CDK_JSON.name} of the kit)",
    )
    args = parser.parse_args(argv)
    try:
        writes: list[tuple[Path, str]] = []
        if args.write == _BOTH:
            writes += [(DOC, "idle-cost"), (README, "network-cost")]
        elif args.write is not None:
            writes.append((args.write, "idle-cost"))
        if args.write_network is not None:
            writes.append((args.write_network, "network-cost"))
        if not writes:
            if args.network:
                print(network_cost_table(shipped_context(args.cdk_json)), end="")
            else:
                print(idle_cost_table(), end="")
        for page, what in writes:
            changed = (
                write_table(page)
                if what == "idle-cost"
                else write_network_table(page, args.cdk_json)
            )
            print(f"{page}: {what} table {'rewritten' if changed else 'already current'}")
    except CatalogError as error:
        print(f"idle costs: {error}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())


__all__ = [
    "CDK_JSON",
    "DOC",
    "IDLE_COSTS_FILE",
    "NETWORK_ITEMS",
    "README",
    "CostLine",
    "IdleCost",
    "IdleCostFacts",
    "NetworkIdleCost",
    "count_keys",
    "data_bucket_idle_cost",
    "idle_cost",
    "idle_cost_table",
    "key_stacks",
    "keys_idle_cost",
    "load_idle_costs",
    "network_cost_table",
    "network_idle_cost",
    "shipped_context",
    "stage_plans",
    "waf_rule_count",
    "with_table",
    "write_network_table",
    "write_table",
    "zone_count",
]
