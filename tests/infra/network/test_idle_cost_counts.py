"""What ``network_idle_cost`` counts from the plan (keys, web ACL rules, endpoint interfaces)
is what each test stage's synthesized templates deploy."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from stacks.catalog.idle_costs import KMS_KEY_TYPE, count_keys, network_idle_cost
from tests.stages import test_stages
from tests.support.synth import Synthesized

STAGE_NAMES = sorted(test_stages())


@pytest.mark.parametrize("name", STAGE_NAMES)
def test_given_a_test_stage_then_the_keys_derived_from_its_plan_are_those_it_synthesizes(
    name: str, synth: Callable[[str], Synthesized]
) -> None:
    # Given a test stage, synthesized
    stage = synth(name)
    # When its keys are derived from its plan alone
    derived = network_idle_cost(stage.plan).keyed_stacks
    # Then they are the stacks whose templates hold a key, as many as count_keys finds
    holding = {
        sid
        for sid, template in stage.templates.items()
        if any(r["Type"] == KMS_KEY_TYPE for r in template.get("Resources", {}).values())
    }
    assert set(derived) == holding
    assert len(derived) == count_keys(stage.templates)


@pytest.mark.parametrize("name", STAGE_NAMES)
def test_given_a_test_stage_then_the_priced_rules_are_its_web_acls_rules(
    name: str, synth: Callable[[str], Synthesized]
) -> None:
    stage = synth(name)
    acls = list(stage.resources("AWS::WAFv2::WebACL").values())
    priced = network_idle_cost(stage.plan).waf_rules
    if not acls:
        assert priced is None
        return
    assert len(acls) == 1
    assert priced == len(acls[0]["Properties"]["Rules"])


@pytest.mark.parametrize("name", STAGE_NAMES)
def test_given_a_test_stage_then_each_priced_endpoint_has_one_subnet_per_priced_zone(
    name: str, synth: Callable[[str], Synthesized]
) -> None:
    # Given a test stage and the interface endpoints it synthesizes
    stage = synth(name)
    cost = network_idle_cost(stage.plan)
    interfaces = [
        r["Properties"]
        for r in stage.resources("AWS::EC2::VPCEndpoint").values()
        if r["Properties"].get("VpcEndpointType") == "Interface"
    ]
    # Then each priced endpoint is deployed, in as many subnets (one per zone) as are priced
    assert len(interfaces) == len(cost.interface_endpoints)
    assert all(len(p["SubnetIds"]) == cost.zones for p in interfaces)
    gateways = [
        r
        for r in stage.resources("AWS::EC2::VPCEndpoint").values()
        if r["Properties"].get("VpcEndpointType") == "Gateway"
    ]
    assert len(gateways) == len(cost.gateway_endpoints)
    nat = stage.resources("AWS::EC2::NatGateway")
    assert len(nat) == cost.nat_gateways
