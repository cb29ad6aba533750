"""The Bedrock pack's rules on endpoints, keys, networks and security groups: each one failing
and passing on a small stack."""

from __future__ import annotations

import json
from typing import Any

import pytest
from aws_cdk import CfnResource, Stack
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_logs as logs

from tests.support.nag import ACCOUNT, REGION, bedrock_findings

ENDPOINT = "Bedrock-EndpointWithoutPolicy"
KEY = "Bedrock-NoCustomerManagedKey"
PUBLIC = "Bedrock-PublicCollectionNetwork"
INGRESS = "Bedrock-OpenIngress"
KEY_ARN = f"arn:aws:kms:{REGION}:{ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab"


def _resource(kind: str, properties: dict[str, Any]) -> Any:
    return lambda stack: CfnResource(stack, "Subject", type=kind, properties=properties)


@pytest.mark.parametrize("endpoint_type", ["Interface", "Gateway"])
def test_given_an_endpoint_without_a_policy_then_it_is_reported(endpoint_type: str) -> None:
    # Given an interface or gateway endpoint left at the default full-access policy
    def build(stack: Stack) -> None:
        ec2.CfnVPCEndpoint(
            stack,
            "Endpoint",
            vpc_id="vpc-0123",
            service_name=f"com.amazonaws.{REGION}.bedrock-runtime",
            vpc_endpoint_type=endpoint_type,
        )

    # Then it is reported
    assert bedrock_findings(build)[ENDPOINT] == ["Test/Endpoint"]


def test_given_an_endpoint_with_a_policy_then_nothing_is_reported() -> None:
    policy = {
        "Statement": [
            {"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": "*"}
        ]
    }

    def build(stack: Stack) -> None:
        ec2.CfnVPCEndpoint(
            stack,
            "Endpoint",
            vpc_id="vpc-0123",
            service_name=f"com.amazonaws.{REGION}.s3",
            policy_document=policy,
        )

    assert bedrock_findings(build) == {}


# Each kind of resource the key rule covers, without and with a customer-managed key.
KEYED: dict[str, tuple[dict[str, Any], dict[str, Any]]] = {
    "AWS::Bedrock::Guardrail": ({"Name": "g"}, {"Name": "g", "KmsKeyArn": KEY_ARN}),
    "AWS::Bedrock::DataSource": (
        {"Name": "d"},
        {"Name": "d", "ServerSideEncryptionConfiguration": {"KmsKeyArn": KEY_ARN}},
    ),
    "AWS::Bedrock::Agent": (
        {"AgentName": "a"},
        {"AgentName": "a", "CustomerEncryptionKeyArn": KEY_ARN},
    ),
    "AWS::S3Vectors::VectorBucket": (
        {"EncryptionConfiguration": {"SseType": "AES256"}},
        {"EncryptionConfiguration": {"SseType": "aws:kms", "KmsKeyArn": KEY_ARN}},
    ),
    "AWS::RDS::DBCluster": (
        {"Engine": "aurora-postgresql"},
        {"Engine": "aurora-postgresql", "KmsKeyId": KEY_ARN},
    ),
    "AWS::Logs::LogGroup": ({"RetentionInDays": 7}, {"RetentionInDays": 7, "KmsKeyId": KEY_ARN}),
    "AWS::OpenSearchServerless::SecurityPolicy": (
        {"Name": "e", "Type": "encryption", "Policy": json.dumps({"AWSOwnedKey": True})},
        {
            "Name": "e",
            "Type": "encryption",
            "Policy": json.dumps({"AWSOwnedKey": False, "KmsARN": KEY_ARN}),
        },
    ),
}


@pytest.mark.parametrize("kind", sorted(KEYED))
def test_given_production_and_no_customer_managed_key_then_the_resource_is_reported(
    kind: str,
) -> None:
    # Given a production app and the resource with an AWS-owned or AWS-managed key
    found = bedrock_findings(_resource(kind, KEYED[kind][0]), production=True)
    # Then the key rule reports it
    assert found[KEY] == ["Test/Subject"]


@pytest.mark.parametrize("kind", sorted(KEYED))
def test_given_production_and_a_customer_managed_key_then_nothing_is_reported(kind: str) -> None:
    assert bedrock_findings(_resource(kind, KEYED[kind][1]), production=True) == {}


def test_given_a_stage_that_is_not_production_then_the_key_rule_does_not_run() -> None:
    assert bedrock_findings(_resource("AWS::Logs::LogGroup", {"RetentionInDays": 7})) == {}


def test_given_an_l2_log_group_with_a_key_then_the_rule_reads_the_rendered_property() -> None:
    # Given a log group made by the L2 construct (camel-case props rendered to KmsKeyId)
    from aws_cdk import aws_kms as kms

    def build(stack: Stack) -> None:
        key = kms.Key(stack, "Key", enable_key_rotation=True)
        logs.LogGroup(stack, "Logs", encryption_key=key)

    # Then the key, a token until deploy, counts as present
    assert KEY not in bedrock_findings(build, production=True)


@pytest.mark.parametrize("owned", [True, False])
def test_given_an_encryption_policy_written_with_fn_sub_then_the_rule_reads_its_template(
    owned: bool,
) -> None:
    # Given an OpenSearch Serverless encryption policy whose key ARN is substituted at deploy
    # (the form CDK renders for a policy built with Fn::Sub)
    policy = {"AWSOwnedKey": owned, **({} if owned else {"KmsARN": "${KeyArn}"})}
    props = {
        "Name": "e",
        "Type": "encryption",
        "Policy": {"Fn::Sub": [json.dumps(policy), {"KeyArn": KEY_ARN}]},
    }
    # When the pack checks it in production
    found = bedrock_findings(
        _resource("AWS::OpenSearchServerless::SecurityPolicy", props), production=True
    )
    # Then it reports the AWS-owned key only (and never throws on the intrinsic)
    assert found == ({KEY: ["Test/Subject"]} if owned else {})


def _network_policy(public: bool) -> dict[str, Any]:
    rule: dict[str, Any] = {
        "Rules": [{"ResourceType": "collection", "Resource": ["collection/c"]}],
        "AllowFromPublic": public,
    }
    if not public:
        rule["SourceVPCEs"] = ["vpce-0123"]
    rules = [rule]
    return {"Name": "n", "Type": "network", "Policy": json.dumps(rules)}


def test_given_a_private_stage_and_a_public_collection_network_then_it_is_reported() -> None:
    kind = "AWS::OpenSearchServerless::SecurityPolicy"
    found = bedrock_findings(_resource(kind, _network_policy(True)), private_network=True)
    assert found[PUBLIC] == ["Test/Subject"]


def test_given_a_private_stage_and_a_collection_reached_through_the_vpc_then_it_passes() -> None:
    kind = "AWS::OpenSearchServerless::SecurityPolicy"
    assert bedrock_findings(_resource(kind, _network_policy(False)), private_network=True) == {}


def test_given_a_stage_that_is_not_private_then_a_public_collection_is_not_reported() -> None:
    kind = "AWS::OpenSearchServerless::SecurityPolicy"
    assert PUBLIC not in bedrock_findings(_resource(kind, _network_policy(True)))


def test_given_a_policy_built_from_intrinsics_then_the_rule_still_reads_it() -> None:
    # Given a network policy whose JSON embeds the collection name from another resource
    def build(stack: Stack) -> None:
        other = CfnResource(stack, "Name", type="AWS::SSM::Parameter", properties={})
        rules = [
            {
                "Rules": [{"ResourceType": "collection", "Resource": [f"collection/{other.ref}"]}],
                "AllowFromPublic": True,
            }
        ]
        CfnResource(
            stack,
            "Subject",
            type="AWS::OpenSearchServerless::SecurityPolicy",
            properties={"Name": "n", "Type": "network", "Policy": stack.to_json_string(rules)},
        )

    assert bedrock_findings(build, private_network=True)[PUBLIC] == ["Test/Subject"]


@pytest.mark.parametrize("peer", [ec2.Peer.any_ipv4(), ec2.Peer.any_ipv6()])
def test_given_ingress_from_anywhere_then_the_security_group_is_reported(peer: ec2.IPeer) -> None:
    def build(stack: Stack) -> None:
        vpc = ec2.Vpc(stack, "Vpc", max_azs=1, nat_gateways=0, subnet_configuration=[])
        group = ec2.SecurityGroup(stack, "Group", vpc=vpc)
        group.add_ingress_rule(peer, ec2.Port.tcp(443))

    found = bedrock_findings(build)
    assert found[INGRESS] == ["Test/Group/Resource"]


def test_given_a_separate_ingress_resource_from_anywhere_then_it_is_reported() -> None:
    properties = {"GroupId": "sg-0123", "IpProtocol": "tcp", "CidrIpv6": "::/0"}
    found = bedrock_findings(_resource("AWS::EC2::SecurityGroupIngress", properties))
    assert found[INGRESS] == ["Test/Subject"]


def test_given_ingress_from_the_vpc_range_only_then_nothing_is_reported() -> None:
    def build(stack: Stack) -> None:
        vpc = ec2.Vpc(stack, "Vpc", max_azs=1, nat_gateways=0, subnet_configuration=[])
        group = ec2.SecurityGroup(stack, "Group", vpc=vpc)
        group.add_ingress_rule(ec2.Peer.ipv4(vpc.vpc_cidr_block), ec2.Port.tcp(443))

    assert INGRESS not in bedrock_findings(build)
