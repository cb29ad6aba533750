"""Synth assertions for each network mode: the private test stages (``full``: create, production;
``nat``: create with a NAT gateway; ``existing``: an existing VPC) and a stage with none."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from tests.support.synth import Synthesized
from tests.support.templates import as_list, render, statements

PRIVATE = ["full", "nat", "existing"]


def expected_endpoints(config: Any) -> tuple[set[str], set[str]]:
    """What a stage's features call from its VPC, derived here from the features alone."""
    interface = {"bedrock-runtime", "execute-api"}  # chat handlers; the private API
    gateway: set[str] = set()
    if config.runtime.tracing:
        interface.add("xray")
    if config.knowledge_bases:
        interface |= {"bedrock-agent-runtime", "bedrock-agent", "states"}  # rag/retrieve, ingestion
        gateway |= {"s3", "dynamodb"}  # document buckets, the coordination table
    if any(kb.vector_store.type == "aurora-pgvector" for kb in config.knowledge_bases):
        interface |= {"rds-data", "secretsmanager"}  # the pgvector functions
    return interface, gateway


def endpoints(stage: Synthesized) -> dict[str, dict[str, Any]]:
    """The Network stack's endpoints by service suffix."""
    found = {}
    for res in stage.resources("AWS::EC2::VPCEndpoint", "Network").values():
        name = render(res["Properties"]["ServiceName"])
        found[name.rsplit(".", 1)[-1]] = res["Properties"]
    return found


@pytest.mark.parametrize("name", PRIVATE)
def test_given_a_private_stage_when_synthesized_then_its_endpoints_are_what_its_features_call(
    synth: Callable[[str], Synthesized], name: str
) -> None:
    # Given a private test stage / When it is synthesized
    stage = synth(name)
    interface, gateway = expected_endpoints(stage.config)
    found = endpoints(stage)
    # Then the endpoints are exactly the ones its features need, of the right type
    assert set(found) == interface | gateway
    for service, props in found.items():
        assert props.get("VpcEndpointType", "Gateway" if service in gateway else "Interface") == (
            "Gateway" if service in gateway else "Interface"
        )
        if service in interface:
            assert props["PrivateDnsEnabled"] is True, service


@pytest.mark.parametrize("name", PRIVATE)
def test_given_a_private_stage_then_no_endpoint_keeps_the_default_full_access(
    synth: Callable[[str], Synthesized], name: str
) -> None:
    for service, props in endpoints(synth(name)).items():
        document = props.get("PolicyDocument")
        # Then every endpoint has a policy, with conditions on its callers and no "*" action
        assert document, service
        for st in document["Statement"]:
            assert st["Effect"] == "Allow" and "Condition" in st, (service, st)
            assert not any(a == "*" or a.endswith(":*") for a in as_list(st["Action"])), st


def test_given_the_runtime_endpoint_then_it_allows_only_invoke_on_the_enabled_models(
    synth: Callable[[str], Synthesized],
) -> None:
    stage = synth("full")
    document = endpoints(stage)["bedrock-runtime"]["PolicyDocument"]
    actions = {a for st in document["Statement"] for a in as_list(st["Action"])}
    assert actions == {
        "bedrock:InvokeModel",
        "bedrock:InvokeModelWithResponseStream",
        "bedrock:ApplyGuardrail",
    }
    resources = [render(r) for st in document["Statement"] for r in as_list(st["Resource"])]
    assert "*" not in resources
    for ref in stage.config.models:
        chat = stage.plan.catalog.models[ref.id].kind == "chat"
        assert any(ref.id in r for r in resources) is chat, ref.id


@pytest.mark.parametrize("name", PRIVATE)
def test_given_a_private_stage_then_endpoints_take_https_only_from_the_functions(
    synth: Callable[[str], Synthesized], name: str
) -> None:
    stage = synth(name)
    groups = stage.resources("AWS::EC2::SecurityGroup", "Network")
    ingress = stage.resources("AWS::EC2::SecurityGroupIngress", "Network")
    # Then the endpoint group admits port 443 from the function group, nothing else
    assert len(ingress) == 1
    rule = next(iter(ingress.values()))["Properties"]
    assert (rule["FromPort"], rule["ToPort"], rule["IpProtocol"]) == (443, 443, "tcp")
    assert "FunctionSecurityGroup" in render(rule["SourceSecurityGroupId"])
    # And no group admits anything from 0.0.0.0/0
    for props in (g["Properties"] for g in groups.values()):
        for entry in props.get("SecurityGroupIngress", []):
            assert entry.get("CidrIp") != "0.0.0.0/0" and entry["FromPort"] == 443, entry


@pytest.mark.parametrize("name", PRIVATE)
def test_given_client_networks_then_only_they_and_the_vpc_reach_the_api_endpoint(
    synth: Callable[[str], Synthesized], name: str
) -> None:
    # Given a private stage, with or without client networks (network.client_cidrs)
    stage = synth(name)
    network = stage.config.network
    # When its execute-api endpoint's security group is read
    api = endpoints(stage)["execute-api"]
    (group_ref,) = api["SecurityGroupIds"]
    group_id = group_ref["Fn::GetAtt"][0]
    group = stage.templates["Network"]["Resources"][group_id]["Properties"]
    # Then HTTPS comes in from the VPC's block and each client block, and from nothing else
    sources = {(e["CidrIp"], e["FromPort"], e["ToPort"]) for e in group["SecurityGroupIngress"]}
    expected = {network.cidr, *network.client_cidrs}
    assert sources == {(block, 443, 443) for block in expected}


@pytest.mark.parametrize("name", PRIVATE)
def test_given_a_private_stage_then_every_function_after_network_runs_in_the_vpc(
    synth: Callable[[str], Synthesized], name: str
) -> None:
    stage = synth(name)
    for stack in ("Knowledge", "Ingestion", "Api"):
        for lid, fn in stage.resources("AWS::Lambda::Function", stack).items():
            if "Provider" in lid or "framework" in str(fn["Properties"].get("Description", "")):
                continue  # the CDK Provider framework stays outside (docs/decisions.md)
            vpc = fn["Properties"].get("VpcConfig")
            assert vpc, lid
            assert "FunctionSecurityGroup" in render(vpc["SecurityGroupIds"][0]), lid


def test_given_modes_then_the_vpc_is_created_with_nat_only_when_asked(
    synth: Callable[[str], Synthesized],
) -> None:
    full, nat, existing = synth("full"), synth("nat"), synth("existing")
    assert len(full.resources("AWS::EC2::VPC", "Network")) == 1
    assert not full.resources("AWS::EC2::NatGateway") and not full.resources(
        "AWS::EC2::InternetGateway"
    )
    assert len(nat.resources("AWS::EC2::NatGateway", "Network")) == nat.config.network.nat_gateways
    # An existing VPC is referenced by id only: nothing of it is created
    assert not existing.resources("AWS::EC2::VPC") and not existing.resources("AWS::EC2::Subnet")
    refs = [render(p["VpcId"]) for p in endpoints(existing).values()]
    assert set(refs) == {existing.config.network.vpc_id}


@pytest.mark.parametrize("name", PRIVATE)
def test_given_flow_logs_config_then_a_flow_log_exists_exactly_when_on(
    synth: Callable[[str], Synthesized], name: str
) -> None:
    stage = synth(name)
    network = stage.config.network
    on = stage.config.production if network.flow_logs is None else network.flow_logs
    assert bool(stage.resources("AWS::EC2::FlowLog", "Network")) is on


def test_given_no_network_then_no_stack_and_no_function_in_a_vpc(
    synth: Callable[[str], Synthesized],
) -> None:
    stage = synth("basic")
    assert "Network" not in stage.templates
    for fn in stage.resources("AWS::Lambda::Function").values():
        assert "VpcConfig" not in fn["Properties"]


def _denies(template: dict[str, Any]) -> list[dict[str, Any]]:
    return [st for _, st in statements(template) if st.get("Effect") == "Deny"]


@pytest.mark.parametrize("name", PRIVATE)
def test_given_a_private_stage_then_handler_roles_deny_bedrock_outside_the_endpoints(
    synth: Callable[[str], Synthesized], name: str
) -> None:
    stage = synth(name)
    denies = [st for st in _denies(stage.templates["Api"]) if "bedrock:InvokeModel" in st["Action"]]
    # Then every handler (chat, stream, guardrail check, and rag/retrieve with knowledge bases)
    # has the Deny
    assert len(denies) == (5 if stage.config.knowledge_bases else 3)
    for st in denies:
        vpce = [render(v) for v in st["Condition"]["StringNotEqualsIfExists"]["aws:SourceVpce"]]
        assert all("Network" in v for v in vpce) and vpce
        assert st["Condition"]["BoolIfExists"] == {"aws:ViaAWSService": "false"}
        # And only network.bedrock_deny_scope: stage-region narrows it to the stage's region
        scoped = stage.config.network.bedrock_deny_scope == "stage-region"
        region = {"aws:RequestedRegion": stage.plan.region}
        assert st["Condition"].get("StringEquals") == (region if scoped else None)


def test_given_the_private_test_stages_then_both_deny_scopes_are_covered(
    synth: Callable[[str], Synthesized],
) -> None:
    scopes = {synth(name).config.network.bedrock_deny_scope for name in PRIVATE}
    assert scopes == {"all-regions", "stage-region"}


def test_given_a_private_stage_then_documents_move_only_through_the_s3_endpoint(
    synth: Callable[[str], Synthesized],
) -> None:
    stage = synth("full")
    policies = stage.resources("AWS::S3::BucketPolicy", "Knowledge")
    denies = [
        st
        for p in policies.values()
        for st in p["Properties"]["PolicyDocument"]["Statement"]
        if st.get("Sid") == "DocumentsOnlyThroughTheStageNetwork"
    ]
    assert len(denies) == 1
    condition = denies[0]["Condition"]
    assert "Network" in render(condition["StringNotEquals"]["aws:SourceVpce"])
    # And the knowledge-base service roles (Bedrock reads from the service side) are exempt
    exempt = as_list(condition["ArnNotEquals"]["aws:PrincipalArn"])
    assert len(exempt) == len(stage.config.knowledge_bases)


@pytest.mark.parametrize(("name", "public"), [("full", False), ("knowledge", True)])
def test_given_an_opensearch_store_then_it_is_public_only_outside_private_stages(
    synth: Callable[[str], Synthesized], name: str, public: bool
) -> None:
    import json

    stage = synth(name)
    networks = [
        json.loads(p["Properties"]["Policy"])
        for p in stage.resources("AWS::OpenSearchServerless::SecurityPolicy").values()
        if p["Properties"]["Type"] == "network"
    ]
    assert networks
    for document in networks:
        for rule in document:
            assert rule["AllowFromPublic"] is public
            if not public:
                assert rule["SourceServices"] == ["bedrock.amazonaws.com"]
