"""The `network` config: every rule fails with the key path, the value and what is allowed."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from stacks.catalog import load_catalog
from stacks.config import ConfigError, load_stage_config
from stacks.config.network import DEFAULT_CIDR, CreateNetwork, NoNetwork, flow_logs_on
from tests.stages import basic_stage

CATALOG = load_catalog()
NAME = "qa"
KEY = f"stages.{NAME}.network"
BASE = basic_stage(CATALOG)
ZONES = [f"{BASE['region']}a", f"{BASE['region']}b"]
EXISTING = {
    "mode": "existing",
    "vpc_id": "vpc-0123456789abcdef0",
    "cidr": "10.1.0.0/16",
    "subnet_ids": ["subnet-0123456789abcdef0", "subnet-1123456789abcdef0"],
    "availability_zones": ZONES,
    "route_table_ids": ["rtb-01234567", "rtb-11234567"],
}


def stage(network: dict[str, Any] | None, **changes: Any) -> dict[str, Any]:
    out = copy.deepcopy(BASE)
    if network is not None:
        out["network"] = network
    out.update(changes)
    return out


def loads(config: dict[str, Any]) -> Any:
    return load_stage_config({"stages": {NAME: config}, "stage": NAME}, {}, CATALOG)


def problems(config: dict[str, Any]) -> str:
    with pytest.raises(ConfigError) as info:
        loads(config)
    return str(info.value)


def test_given_no_network_block_when_loaded_then_the_stage_is_not_private() -> None:
    assert loads(stage(None)).network == NoNetwork()


def test_given_create_without_keys_when_loaded_then_defaults_are_two_zones_no_nat() -> None:
    network = loads(stage({"mode": "create"})).network
    assert isinstance(network, CreateNetwork)
    assert (network.cidr, network.az_count, network.nat_gateways) == (DEFAULT_CIDR, 2, 0)


@pytest.mark.parametrize("production", [True, False])
def test_given_unset_flow_logs_when_judged_then_they_follow_production(production: bool) -> None:
    network = loads(stage({"mode": "create"}, production=production)).network
    assert isinstance(network, CreateNetwork)
    assert flow_logs_on(network, production) is production


def test_given_an_existing_network_when_loaded_then_it_is_valid() -> None:
    assert loads(stage(EXISTING)).network.mode == "existing"


@pytest.mark.parametrize(
    ("network", "expected"),
    [
        (
            {"mode": "vpn"},
            f"{KEY}.mode: 'vpn' is not allowed; allowed: 'none', 'create', 'existing'",
        ),
        ({}, f"{KEY}.mode: required key is missing"),
        ({"mode": "create", "cidrs": "x"}, f"{KEY}.cidrs: unknown key"),
        ({"mode": "create", "cidr": "10.0.0.1/16"}, "network address"),
        ({"mode": "create", "cidr": "fd00::/48"}, "expected an IPv4 block"),
        ({"mode": "create", "cidr": "nonsense"}, f"{KEY}.cidr: 'nonsense' is not allowed"),
        ({"mode": "create", "cidr": "8.8.0.0/16"}, "not a private range"),
        ({"mode": "create", "cidr": "10.0.0.0/8"}, "a /8 block; allowed: /16 to /22"),
        ({"mode": "create", "cidr": "10.0.0.0/24"}, "a /24 block; allowed: /16 to /22"),
        ({"mode": "create", "az_count": 0}, f"{KEY}.az_count: 0 is not allowed"),
        ({"mode": "create", "az_count": 4}, f"{KEY}.az_count: 4 is not allowed"),
        ({"mode": "create", "nat_gateways": -1}, f"{KEY}.nat_gateways: -1 is not allowed"),
        ({"mode": "create", "nat_gateways": 3}, "at most one per zone; allowed: 0-2"),
        ({"mode": "create", "flow_logs": "yes"}, "allowed: true, false"),
        (
            {**EXISTING, "vpc_id": "vpc-12"},
            f"{KEY}.vpc_id: 'vpc-12' is not allowed: expected a VPC",
        ),
        ({**EXISTING, "subnet_ids": ["sub-0123456789abcdef0"] * 2}, "expected a subnet id"),
        ({**EXISTING, "route_table_ids": ["rt-01234567"] * 2}, "expected a route table id"),
        ({**EXISTING, "availability_zones": ["a", "b"]}, "expected a zone of the stage's region"),
        (
            {**EXISTING, "availability_zones": [ZONES[0], "zz-nowhere-9b"]},
            f"availability_zones[1]: 'zz-nowhere-9b' is not allowed: expected a zone of the "
            f"stage's region {BASE['region']}",
        ),
        ({**EXISTING, "availability_zones": [ZONES[0], ZONES[0]]}, "a zone is listed twice"),
        ({**EXISTING, "cidr": "10.1.0.0/29"}, f"{KEY}.cidr: '10.1.0.0/29' is not allowed"),
        ({**EXISTING, "subnet_ids": []}, f"{KEY}.subnet_ids: [] is not allowed"),
        ({**EXISTING, "availability_zones": ZONES[:1]}, "one per subnet_ids entry"),
        ({**EXISTING, "route_table_ids": ["rtb-01234567"]}, "allowed: exactly 2 entries"),
        (
            {**EXISTING, "subnet_ids": ["subnet-0123456789abcdef0"] * 2},
            "a subnet is listed twice",
        ),
        ({k: v for k, v in EXISTING.items() if k != "vpc_id"}, f"{KEY}.vpc_id: required key"),
        ({k: v for k, v in EXISTING.items() if k != "cidr"}, f"{KEY}.cidr: required key"),
    ],
)
def test_given_a_bad_network_when_loaded_then_the_error_names_key_value_and_allowed(
    network: dict[str, Any], expected: str
) -> None:
    # Given a stage whose network block breaks one rule / When it loads / Then it says which
    assert expected in problems(stage(network))


def test_given_a_production_stage_in_one_zone_when_loaded_then_it_fails() -> None:
    message = problems(stage({"mode": "create", "az_count": 1}, production=True))
    assert f"{KEY}.az_count: 1 is not allowed in a production stage" in message


def test_given_a_created_vpc_without_flow_logs_in_production_when_loaded_then_it_fails() -> None:
    # Given a production stage whose VPC the kit creates, with flow logs turned off
    message = problems(stage({"mode": "create", "flow_logs": False}, production=True))
    # Then the error names the key, the value, what is allowed and why
    assert f"{KEY}.flow_logs: false is not allowed in a production stage" in message
    assert "allowed: true or null" in message and "NIST 800-53 R5" in message


@pytest.mark.parametrize(
    ("network", "production"),
    [({"mode": "create", "flow_logs": False}, False), ({**EXISTING, "flow_logs": False}, True)],
)
def test_given_flow_logs_off_outside_production_or_in_an_existing_vpc_then_it_loads(
    network: dict[str, Any], production: bool
) -> None:
    # A non-production stage, or a production one in a VPC its owner may already log
    loaded = loads(stage(network, production=production)).network
    assert not flow_logs_on(loaded, production)


def test_given_a_production_stage_on_subnets_of_one_zone_when_loaded_then_it_fails() -> None:
    network = {
        **EXISTING,
        "subnet_ids": EXISTING["subnet_ids"][:1],
        "availability_zones": ZONES[:1],
        "route_table_ids": EXISTING["route_table_ids"][:1],
    }
    assert "at least 2 zones" in problems(stage(network, production=True))


def test_given_an_existing_vpc_outside_rfc_1918_when_loaded_then_it_is_accepted() -> None:
    # An existing VPC may use any block a VPC may have (e.g. shared address space)
    network = loads(stage({**EXISTING, "cidr": "100.64.0.0/16"})).network
    assert network.cidr == "100.64.0.0/16"


def test_given_one_subnet_and_two_route_tables_when_loaded_then_the_count_reads_well() -> None:
    network = {
        **EXISTING,
        "subnet_ids": EXISTING["subnet_ids"][:1],
        "availability_zones": ZONES[:1],
    }
    assert "allowed: exactly 1 entry" in problems(stage(network))


@pytest.mark.parametrize(
    ("blocks", "words"),
    [
        (["172.16.0.1/16"], "client_cidrs[0]: '172.16.0.1/16' is not allowed: expected an IPv4"),
        (["fd00::/8"], "client_cidrs[0]: 'fd00::/8' is not allowed: expected an IPv4"),
        (["0.0.0.0/0"], "client_cidrs[0]: '0.0.0.0/0' is not allowed: a /0 block"),
        (
            ["10.1.0.0/16", "10.1.0.0/16"],
            'client_cidrs: ["10.1.0.0/16", "10.1.0.0/16"] is not allowed: a block is listed twice',
        ),
    ],
)
@pytest.mark.parametrize("mode", ["create", "existing"])
def test_given_bad_client_blocks_when_loaded_then_the_error_names_the_block(
    blocks: list[str], words: str, mode: str
) -> None:
    network = {"mode": "create"} if mode == "create" else copy.deepcopy(EXISTING)
    message = problems(stage({**network, "client_cidrs": blocks}))
    assert f"{KEY}.{words}" in message


def test_given_too_many_client_blocks_when_loaded_then_the_limit_is_named() -> None:
    from stacks.config.network import MAX_CLIENT_CIDRS

    blocks = [f"10.{i}.0.0/16" for i in range(MAX_CLIENT_CIDRS + 1)]
    message = problems(stage({"mode": "create", "client_cidrs": blocks}))
    assert f"{KEY}.client_cidrs" in message and str(MAX_CLIENT_CIDRS) in message
