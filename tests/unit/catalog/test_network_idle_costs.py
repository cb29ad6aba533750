"""Idle cost of a stage's network and hardening (stacks/catalog/idle_costs.py
``network_idle_cost``), on test-owned configs; expected figures come from idle_costs.yaml."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from stacks.catalog import CatalogError, load_catalog
from stacks.catalog.idle_costs import (
    NETWORK_ITEMS,
    README,
    NetworkIdleCost,
    load_idle_costs,
    network_cost_table,
    network_idle_cost,
    shipped_context,
    with_table,
    write_network_table,
)
from stacks.config import StagePlan, load_stage_config
from stacks.network.endpoints import required_endpoints
from tests.stages import test_stages

CATALOG = load_catalog()
STAGES = test_stages(CATALOG)
FACTS = load_idle_costs()
HOURS = FACTS.hours_per_month.value
NETWORK_LINES = ("interface", "gateway", "nat", "nat_ip", "flow_logs")
ZONES = [f"{STAGES['basic']['region']}{letter}" for letter in "abc"]


def plan(name: str, **changes: Any) -> StagePlan:
    config = load_stage_config(
        {"stages": {name: {**STAGES[name], **changes}}, "stage": name}, {}, CATALOG
    )
    return StagePlan(config=config, catalog=CATALOG)


def created(**network: Any) -> dict[str, Any]:
    return {"mode": "create", **network}


def cost(name: str, **changes: Any) -> NetworkIdleCost:
    return network_idle_cost(plan(name, **changes), facts=FACTS)


def items(result: NetworkIdleCost) -> set[str]:
    return {line.item for line in result.lines}


def existing(zones: list[str]) -> dict[str, Any]:
    count = len(zones)
    return {
        "mode": "existing",
        "vpc_id": "vpc-0a1b2c3d4e5f60718",
        "cidr": "172.31.0.0/16",
        "subnet_ids": [f"subnet-{i}a1b2c3d4e5f60718" for i in range(count)],
        "availability_zones": zones,
        "route_table_ids": [f"rtb-{i}a1b2c3d4e5f60718" for i in range(count)],
    }


@pytest.mark.parametrize("zones", [1, 2, 3])
def test_given_a_created_vpc_when_its_zones_change_then_the_endpoints_cost_follows(
    zones: int,
) -> None:
    # Given the basic stage in a created VPC of `zones` zones
    stage = plan("basic", network=created(az_count=zones))
    # When its idle cost is computed
    result = network_idle_cost(stage, facts=FACTS)
    # Then each interface endpoint is billed once per zone and hour
    endpoints = len(required_endpoints(stage.config).interface)
    price = FACTS.vpc.interface_endpoint_az_hour.price
    assert result.zones == zones
    assert result.usd(NETWORK_ITEMS["interface"]) == pytest.approx(
        endpoints * zones * HOURS * price
    )


@pytest.mark.parametrize("count", [2, 3])
def test_given_an_existing_vpc_then_it_pays_for_each_zone_of_its_subnets(count: int) -> None:
    # Given an existing VPC with one subnet in each of `count` zones (the config allows one per
    # zone)
    result = cost("basic", network=existing(ZONES[:count]))
    # Then each interface endpoint is paid once per zone
    assert result.zones == count
    per_zone = HOURS * FACTS.vpc.interface_endpoint_az_hour.price
    assert result.usd(NETWORK_ITEMS["interface"]) == pytest.approx(
        len(result.interface_endpoints) * count * per_zone
    )
    # And the kit creates no NAT gateway in a VPC it does not own
    assert result.nat_gateways == 0


@pytest.mark.parametrize("gateways", [1, 2])
def test_given_nat_gateways_then_each_adds_its_hourly_price_and_its_address(
    gateways: int,
) -> None:
    # Given the same created VPC with and without NAT gateways
    without = cost("basic", network=created(az_count=2))
    with_nat = cost("basic", network=created(az_count=2, nat_gateways=gateways))
    # Then the difference is the gateways' hours and their public IPv4 addresses' hours
    per_gateway = HOURS * (FACTS.vpc.nat_gateway_hour.price + FACTS.vpc.public_ipv4_hour.price)
    assert with_nat.monthly_usd - without.monthly_usd == pytest.approx(gateways * per_gateway)
    assert NETWORK_ITEMS["nat"] not in items(without)


def test_given_no_network_then_no_network_line_and_nothing_to_pay() -> None:
    # Given a stage without a network (and without production's WAF and keys)
    result = cost("basic")
    # Then it has no endpoint, NAT or flow-log line and idles at $0
    assert not items(result) & {NETWORK_ITEMS[k] for k in NETWORK_LINES}
    assert result.mode == "none" and result.interface_endpoints == ()
    assert result.monthly_usd == 0


def test_given_flow_logs_then_a_per_gb_line_that_costs_nothing_at_idle() -> None:
    # Given the same VPC with flow logs on and off
    on = cost("basic", network=created(flow_logs=True))
    off = cost("basic", network=created(flow_logs=False))
    # Then flow logs show as a line priced per GB, at 0 GB while idle
    assert on.flow_logs and not off.flow_logs
    assert NETWORK_ITEMS["flow_logs"] in items(on)
    assert on.flow_logs_gb_price == FACTS.vpc.flow_logs_gb.price
    assert on.monthly_usd == pytest.approx(off.monthly_usd)


def test_given_a_web_acl_then_the_acl_and_each_rule_are_paid_only_when_on() -> None:
    # Given the basic stage with its API's web ACL on and off
    on = cost("basic", api={"waf": {"enabled": True}})
    off = cost("basic", api={"waf": {"enabled": False}})
    # Then only the stage with a web ACL pays for it and for its rules
    assert off.waf_rules is None and off.monthly_usd == 0
    assert on.waf_rules
    assert on.monthly_usd == pytest.approx(
        FACTS.waf.web_acl_month.price + on.waf_rules * FACTS.waf.rule_month.price
    )


def test_given_customer_managed_keys_then_one_key_month_per_keyed_stack() -> None:
    # Given a stage with knowledge bases, with and without customer-managed keys
    on = cost("nat", encryption={"customer_managed_keys": True})
    off = cost("nat", encryption={"customer_managed_keys": False})
    # Then only the first pays for keys: one per stack holding one
    assert off.keyed_stacks == () and NETWORK_ITEMS["keys"] not in items(off)
    assert {"Guardrails", "Knowledge", "Ingestion", "Api"} <= set(on.keyed_stacks)
    assert on.usd(NETWORK_ITEMS["keys"]) == pytest.approx(
        len(on.keyed_stacks) * FACTS.kms.key_month.price
    )
    assert on.monthly_usd - off.monthly_usd == pytest.approx(on.usd(NETWORK_ITEMS["keys"]))


def test_given_a_stage_without_knowledge_bases_then_their_stacks_hold_no_key() -> None:
    result = cost("basic", encryption={"customer_managed_keys": True})
    assert result.keyed_stacks
    assert not {"Knowledge", "Ingestion", "Network"} & set(result.keyed_stacks)


def test_given_stages_then_the_table_has_one_row_each_with_its_total() -> None:
    # Given two test-owned stages, one private
    context = {"stages": {"plain": STAGES["basic"], "private": STAGES["nat"]}}
    # When the table is made
    table = network_cost_table(context, FACTS)
    # Then it is dated and has a row per stage, ending with that stage's total
    assert re.search(r"checked \d{4}-\d{2}-\d{2}", table)
    rows = [r for r in table.splitlines() if r.startswith("| `")]
    assert [r.split("|")[1].strip() for r in rows] == ["`plain`", "`private`"]
    private = network_idle_cost(plan("nat"), facts=FACTS)
    assert rows[1].endswith(f"**${private.monthly_usd:,.2f}** |")
    assert all(f"`{name}`" in rows[1] for name in private.interface_endpoints)


def test_given_an_invalid_stage_then_the_table_names_it(tmp_path: Path) -> None:
    bad = tmp_path / "cdk.json"
    bad.write_text(json.dumps({"context": {"stages": {"broken": {"region": "nowhere"}}}}))
    with pytest.raises(CatalogError, match="stage broken"):
        network_cost_table(shipped_context(bad), FACTS)


def test_given_a_page_with_network_markers_when_written_then_only_the_middle_changes(
    tmp_path: Path,
) -> None:
    # Given a page with the network-costs markers and a cdk.json of one test stage
    cdk_json = tmp_path / "cdk.json"
    cdk_json.write_text(json.dumps({"context": {"stages": {"solo": STAGES["basic"]}}}))
    page = tmp_path / "README.md"
    head, tail = "# Kit\n\n<!-- network-costs:begin -->\n", "<!-- network-costs:end -->\nafter\n"
    page.write_text(head + "| stale |\n" + tail)
    # When the table is written twice
    first = write_network_table(page, cdk_json, FACTS)
    second = write_network_table(page, cdk_json, FACTS)
    # Then the page changed once, around the generated table only
    assert (first, second) == (True, False)
    table = network_cost_table(shipped_context(cdk_json), FACTS)
    assert page.read_text(encoding="utf-8") == head + table + tail


def test_given_a_page_without_the_network_markers_then_the_error_names_them() -> None:
    with pytest.raises(CatalogError, match="network-costs:begin"):
        with_table("no markers\n", "| t |\n", "<!-- network-costs:begin -->\n", "<!-- x -->")


def test_the_readme_table_is_the_one_cdk_json_gives() -> None:
    # The shipped stages are read only to compare README with what they generate.
    text = README.read_text(encoding="utf-8")
    match = re.search(r"<!-- network-costs:begin -->\n(.*?)<!-- network-costs:end -->", text, re.S)
    assert match, "README.md lost its network-costs markers"
    assert match.group(1) == network_cost_table(shipped_context()), (
        "README.md's private-deployment cost table is out of date: regenerate it with "
        "`make docs-costs`"
    )
