"""A one-resource CDK app that exits the way ``app.py`` does, for the CLI tests of the nag gate.

``python -m tests.support.nag_app [--acknowledged]``: a gateway VPC endpoint without a policy,
checked by the Bedrock pack (a finding), or the same endpoint with the finding acknowledged.
"""

from __future__ import annotations

import sys

from aws_cdk import App, Stack, Validations
from aws_cdk import aws_ec2 as ec2

from stacks.app_builder import synth_checked
from stacks.core.nag import acknowledge
from stacks.nag_bedrock import BedrockChecks

STACK_NAME = "NagGateTest"
RULE = "Bedrock-EndpointWithoutPolicy"


def build(app: App, *, acknowledged: bool) -> ec2.CfnVPCEndpoint:
    """The stack and its one endpoint in ``app``, with the Bedrock pack registered."""
    stack = Stack(app, STACK_NAME)
    endpoint = ec2.CfnVPCEndpoint(
        stack, "Endpoint", vpc_id="vpc-0123456789abcdef0", service_name="com.amazonaws.us-east-1.s3"
    )
    if acknowledged:
        acknowledge(endpoint, RULE, "Test endpoint: stands for one whose policy is set elsewhere.")
    Validations.of(app).add_plugins(BedrockChecks(app))
    return endpoint


if __name__ == "__main__":
    app = App()
    build(app, acknowledged="--acknowledged" in sys.argv[1:])
    if failure := synth_checked(app):
        sys.exit(failure)
