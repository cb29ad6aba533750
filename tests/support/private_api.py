"""A private Api stack, synthesized apart from the stages: a test-only network hands it an
``execute-api`` endpoint (until the network stack builds a stage's own).

Only Platform, Guardrails, a small test network and Api are built (no knowledge stacks), with
the cdk-nag packs the app attaches, so the private API and its web ACL meet the same gates.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.support.synth import FEATURE_FLAGS, synth_with_findings, work_dir

ENDPOINT_ID_OUTPUT = "ExecuteApiEndpointId"


@dataclass
class PrivateApi:
    """The private Api stack's template, the network stack's, the plan and nag findings."""

    plan: Any
    api: dict[str, Any]
    network: dict[str, Any]
    network_stack_name: str
    nag_findings: list[dict[str, Any]]
    synth_error: str | None


def synthesize_private_api(stage: dict[str, Any], name: str = "private") -> PrivateApi:
    """Synthesize ``stage`` (a stage config) with a PRIVATE API behind a test network."""
    from aws_cdk import (
        App,
        CfnOutput,
        CrossStackReferences,
        Environment,
        ReferenceStrength,
        Stack,
        Stage,
        Validations,
    )
    from aws_cdk import aws_ec2 as ec2
    from cdk_nag import AwsSolutionsChecks, ServerlessChecks

    from stacks.api.stack import ApiStack
    from stacks.config import load_plan
    from stacks.core.function import Placement
    from stacks.core.lambda_asset import runtime_code
    from stacks.core.nag import acknowledge
    from stacks.core.naming import digest
    from stacks.core.references import NetworkHandles
    from stacks.guardrails.stack import GuardrailStack
    from stacks.platform.stack import PlatformStack

    plan = load_plan({"stages": {name: stage}, "stage": name}, {})
    out = Path(tempfile.mkdtemp(prefix=f"{name}-", dir=work_dir()))
    app = App(outdir=str(out), context={**FEATURE_FLAGS, "aws:cdk:bundling-stacks": []})
    kit = Stage(app, f"kit-{name}", env=Environment(account=plan.account, region=plan.region))
    CrossStackReferences.of(kit).consume(ReferenceStrength.WEAK)  # as KitStage does
    platform = PlatformStack(kit, "Platform", plan=plan, code=runtime_code())
    guardrails = GuardrailStack(kit, "Guardrails", plan=plan)
    network_stack = Stack(kit, "TestNetwork")
    vpc = ec2.Vpc(
        network_stack,
        "Vpc",
        max_azs=2,
        nat_gateways=0,
        subnet_configuration=[
            ec2.SubnetConfiguration(name="isolated", subnet_type=ec2.SubnetType.PRIVATE_ISOLATED)
        ],
    )
    functions = ec2.SecurityGroup(network_stack, "Functions", vpc=vpc)
    endpoint = vpc.add_interface_endpoint(
        "ExecuteApi", service=ec2.InterfaceVpcEndpointAwsService.APIGATEWAY
    )
    CfnOutput(network_stack, ENDPOINT_ID_OUTPUT, value=endpoint.vpc_endpoint_id)
    acknowledge(
        vpc,
        "AwsSolutions-VPC7",
        "A test-only stand-in for the network stack, never deployed; the real network stack "
        "owns flow logs.",
    )
    acknowledge(
        endpoint,
        "AwsSolutions-EC23",
        "A test-only stand-in endpoint, never deployed; its default security group is the "
        "network stack's to replace.",
    )
    handle = NetworkHandles(
        placement=Placement(
            vpc=vpc,
            subnets=ec2.SubnetSelection(subnet_type=ec2.SubnetType.PRIVATE_ISOLATED),
            security_groups=(functions,),
        ),
        endpoint_ids={"execute-api": endpoint.vpc_endpoint_id},
        vpc_id=vpc.vpc_id,
        revision=digest("test-network", name),
    )
    api = ApiStack(
        kit,
        "Api",
        plan=plan,
        code=runtime_code(),
        profiles=platform.profiles.handles,
        guardrails=guardrails.handle_set,
        network=handle,
    )
    Validations.of(app).add_plugins(AwsSolutionsChecks(app), ServerlessChecks(app))
    assembly, error, findings = synth_with_findings(app, out)
    templates: dict[str, dict[str, Any]] = {}
    if assembly is not None:
        nested = assembly.get_nested_assembly(f"assembly-{kit.stage_name}")
        for stack in (api, network_stack):
            templates[stack.node.id] = nested.get_stack_by_name(stack.stack_name).template
    return PrivateApi(
        plan=plan,
        api=templates.get("Api", {}),
        network=templates.get("TestNetwork", {}),
        network_stack_name=network_stack.stack_name,
        nag_findings=findings,
        synth_error=error,
    )
