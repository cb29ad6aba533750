"""Production stages' allowed opt-outs leave no finding, and each acknowledgment names the key.

`network.mode: none`, `api.waf.enabled: false` and, in an existing VPC, `network.flow_logs:
false` are allowed in production; customer-managed keys and a created VPC's flow logs are not
(tests/unit/config). The stages here are production variants the tests own (tests/stages).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from tests.support.acknowledgments import construct_paths, reasons
from tests.support.synth import Synthesized

pytestmark = pytest.mark.synth

WAF_RULES = ("NIST.800.53.R5-APIGWAssociatedWithWAF", "AwsSolutions-APIG3")
OUTSIDE_VPC = "NIST.800.53.R5-LambdaInsideVPC"


def _outdir(stage: Synthesized) -> Path:
    assert stage.synth_error is None and stage.nag_findings == [], stage.nag_findings
    assert stage.outdir is not None
    return stage.outdir


def _paths(stage: Synthesized, type_: str) -> set[str]:
    """Construct paths of the stage's resources of ``type_``."""
    found = set()
    for stack, template in stage.template_files.items():
        paths = construct_paths(template)
        found |= {paths[key.split("/", 1)[1]] for key in stage.resources(type_, stack=stack)}
    return found


@pytest.mark.parametrize("name", ["production-public", "production-existing"])
def test_given_a_production_stage_without_waf_then_the_waf_rules_are_acknowledged_naming_the_key(
    synth: Callable[[str], Synthesized], name: str
) -> None:
    # Given a production stage that sets api.waf.enabled: false
    stage = synth(name)
    assert stage.plan.production and stage.config.api.waf.enabled is False
    # Then it synthesizes with no finding, no web ACL, and each WAF rule it acknowledges
    # names the key the stage set
    outdir = _outdir(stage)
    assert not stage.resources("AWS::WAFv2::WebACL")
    for rule in WAF_RULES:
        found = reasons(outdir, rule)
        assert found, rule
        assert all("api.waf.enabled: false" in r for r in found.values()), found


def test_given_a_production_stage_without_a_vpc_then_each_function_says_network_mode_none(
    synth: Callable[[str], Synthesized],
) -> None:
    # Given a production stage with network.mode none
    stage = synth("production-public")
    assert stage.plan.production and not stage.plan.private
    outdir = _outdir(stage)
    # Then every function of the stage carries an acknowledgment of the VPC rule, and the API's
    # handlers (which a private stage would place in the VPC) name the key the stage set
    acknowledged = reasons(outdir, OUTSIDE_VPC)
    functions = _paths(stage, "AWS::Lambda::Function")
    covered = {f for f in functions if any(f.startswith(p) for p in acknowledged)}
    assert functions and covered == functions
    handlers = {p: r for p, r in acknowledged.items() if "/Api/" in p}
    assert handlers and all("network.mode: none" in r for r in handlers.values()), handlers


def test_given_a_private_production_stage_then_no_acknowledgment_claims_network_mode_none(
    synth: Callable[[str], Synthesized],
) -> None:
    # Given the production stage in a VPC the kit creates
    stage = synth("full")
    assert stage.plan.production and stage.plan.private
    # Then no acknowledgment of the VPC rule says the stage has no network
    found = reasons(_outdir(stage), OUTSIDE_VPC)
    assert found and not any("network.mode: none" in r for r in found.values())


def test_given_an_existing_vpc_without_flow_logs_in_production_then_none_is_made_and_no_finding(
    synth: Callable[[str], Synthesized],
) -> None:
    # Given a production stage in an existing VPC with network.flow_logs: false
    stage = synth("production-existing")
    assert stage.plan.production and stage.config.network.flow_logs is False
    # Then the kit adds no flow log to the VPC it does not own, and nothing is reported
    _outdir(stage)
    assert not stage.resources("AWS::EC2::FlowLog")
