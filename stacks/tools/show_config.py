"""Print what a stage resolves to, from cdk.json alone (no CDK, no AWS): ``make config``.

Usage::

    python -m stacks.tools.show_config [--stage NAME]   # empty: kit.default_stage

Exit status 2 with the loader's message (every problem, with its key path) on a bad config.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path

# The config package reads the runtime's contracts (lambda/), as app.py arranges.
sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "lambda"))

from stacks.catalog import CatalogError  # noqa: E402
from stacks.catalog.idle_costs import (  # noqa: E402
    NetworkIdleCost,
    idle_cost,
    network_idle_cost,
)
from stacks.config import ConfigError, load_plan  # noqa: E402
from stacks.core.naming import stage_id  # noqa: E402
from stacks.network.endpoints import required_endpoints  # noqa: E402


def main(argv: Sequence[str] | None = None) -> int:
    """Command-line entry: print the resolved stage, or the config's problems (exit 2)."""
    parser = argparse.ArgumentParser(prog="python -m stacks.tools.show_config")
    parser.add_argument("--stage", default="", help="empty: kit.default_stage of ./cdk.json")
    args = parser.parse_args(argv)
    context = json.loads(Path("cdk.json").read_text(encoding="utf-8")).get("context", {})
    if args.stage:
        context = {**context, "stage": args.stage}
    try:
        plan = load_plan(context, {})
    except (ConfigError, CatalogError) as error:
        print(f"cdk.json: {error}", file=sys.stderr)
        return 2
    print(
        f"kit: {plan.kit_name}  stage: {plan.name}  stacks: {stage_id(plan.kit_name, plan.name)}-*"
    )
    print(f"account: {plan.account or '(from the credentials at deploy)'}  region: {plan.region}")
    print(f"metric namespace: {plan.metrics_namespace}")
    for model in plan.models:
        print(f"model: {model.id}  profile: {model.profile or 'in-region'}")
    tiers = plan.config.tiers.items()
    print("tiers: " + ", ".join(f"{tier}={' > '.join(chain)}" for tier, chain in tiers))
    pii = [f"{e.type}:{e.action}" for e in plan.config.guardrail.pii_entities]
    print("guardrail pii: " + (", ".join(pii) or "(none)"))
    if plan.production:
        print("production: yes (standby replicas, secret rotation, customer-managed keys)")
    network = plan.config.network
    if plan.private:
        needed = required_endpoints(plan.config)
        print(
            f"network: {network.mode}  interface endpoints: {', '.join(needed.interface)}  "
            f"gateway endpoints: {', '.join(needed.gateway) or '(none)'}"
        )
    else:
        print("network: none (functions outside any VPC, public AWS endpoints)")
    hardening = network_idle_cost(plan)
    if hardening.lines:
        caveat = "" if hardening.verified else ", unverified prices"
        print(
            f"network and hardening idle: ~${hardening.monthly_usd:,.2f}/month "
            f"({zones_phrase(hardening)}NAT {hardening.nat_gateways}, "
            f"WAF {'off' if hardening.waf_rules is None else 'on'}, "
            f"keys {len(hardening.keyed_stacks)}{caveat}; README 'Private deployments')"
        )
    for kb in plan.knowledge_bases:
        bucket = kb.data_source.bucket_arn or "the kit's data bucket"
        idle = idle_cost(kb.vector_store, plan.production)
        caveat = "" if idle.verified else " (unverified prices)"
        print(
            f"knowledge base: {kb.name}  store: {kb.vector_store.type}  "
            f"embedding: {kb.embedding.model}  documents: {bucket} {kb.prefix()}  "
            f"tenant key: {kb.tenant_key or '(none)'}  "
            f"idle: ~${idle.monthly_usd:,.2f}/month{caveat}"
        )
    for warning in plan.warnings:
        print(f"warning: {warning}")
    return 0


def zones_phrase(cost: NetworkIdleCost) -> str:
    """``8 interface endpoints x 2 zones, `` or nothing without a network."""
    if not cost.interface_endpoints:
        return ""
    return f"{len(cost.interface_endpoints)} interface endpoints x {cost.zones} zones, "


if __name__ == "__main__":
    try:
        sys.exit(main())
    except BrokenPipeError:  # `make config | head`: the reader left, nothing is wrong
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        sys.exit(0)
