"""Network stack: the private stage's VPC, its endpoints (each with a policy) and flow logs.

Only a private stage (``network.mode`` ``create`` or ``existing``) has it. The VPC holds no data
(the functions are stateless, the endpoints and security groups rebuild in minutes), so nothing
here is retained; the flow-log group is, like every log group of the kit.
"""

from __future__ import annotations

from typing import Any

from aws_cdk import Fn, Stack
from aws_cdk import aws_ec2 as ec2
from constructs import Construct

from stacks.config import StagePlan
from stacks.config.network import CreateNetwork, ExistingNetwork, flow_logs_on
from stacks.core.function import Placement
from stacks.core.logs import retained_log_group
from stacks.core.nag import acknowledge
from stacks.core.naming import digest
from stacks.core.references import GuardrailHandles, NetworkHandles, ProfileHandles
from stacks.network.endpoints import RequiredEndpoints, required_endpoints
from stacks.network.policies import endpoint_statements

FUNCTION_SUBNETS = "Functions"
FLOW_LOGS_ID = "NetworkFlowLogs"
HTTPS = ec2.Port.tcp(443)
GATEWAY = {
    "s3": ec2.GatewayVpcEndpointAwsService.S3,
    "dynamodb": ec2.GatewayVpcEndpointAwsService.DYNAMODB,
}


def _pascal(service: str) -> str:
    return "".join(part.capitalize() for part in service.split("-"))


class NetworkStack(Stack):
    """The VPC the stage's functions run in and the endpoints they reach AWS through.

    Attributes
    ----------
    vpc:
        The created or imported VPC.
    subnets:
        Where functions and interface endpoints go (isolated subnets, or the configured ones).
    function_security_group:
        The kit's functions' group: HTTPS out to the endpoints only.
    endpoint_security_group:
        The interface endpoints' group: HTTPS in from the functions' group only.
    api_endpoint_security_group:
        The ``execute-api`` endpoint's group: HTTPS in from the VPC's block (the private API's
        clients).
    required:
        The endpoints the stage's features need (:func:`required_endpoints`).
    endpoints:
        Each endpoint by service suffix.
    flow_log:
        The VPC's flow log, or ``None`` when off.
    handles:
        What the stacks after this one take (:class:`NetworkHandles`).
    """

    @property
    def availability_zones(self) -> list[str]:
        """Zones resolved by CloudFormation (``Fn::GetAZs``), never looked up at synth."""
        network = self._network
        if isinstance(network, ExistingNetwork):
            return list(network.availability_zones)
        return [Fn.select(i, Fn.get_azs()) for i in range(network.az_count)]

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        plan: StagePlan,
        profiles: ProfileHandles,
        guardrails: GuardrailHandles,
        **kwargs: Any,
    ) -> None:
        network = plan.config.network
        if not isinstance(network, (CreateNetwork, ExistingNetwork)):
            raise ValueError(f"stage {plan.name} is not private (network.mode: none)")
        self._network: CreateNetwork | ExistingNetwork = network
        super().__init__(scope, construct_id, **kwargs)
        self.required: RequiredEndpoints = required_endpoints(plan.config)
        self.vpc, self.subnets = (
            self._create_vpc(network)
            if isinstance(network, CreateNetwork)
            else self._import_vpc(network)
        )
        self.function_security_group, self.endpoint_security_group = self._security_groups()
        self.api_endpoint_security_group = self._api_endpoint_group(
            network.cidr, network.client_cidrs
        )
        self.endpoints: dict[str, ec2.InterfaceVpcEndpoint | ec2.GatewayVpcEndpoint] = {}
        for service in self.required.interface:
            self.endpoints[service] = self._interface_endpoint(service)
        for service in self.required.gateway:
            self.endpoints[service] = ec2.GatewayVpcEndpoint(
                self,
                f"{_pascal(service)}Endpoint",
                vpc=self.vpc,
                service=GATEWAY[service],
                subnets=[self.subnets],
            )
        for service, endpoint in self.endpoints.items():
            for statement in endpoint_statements(
                plan,
                service,
                application_profile_arns=sorted(profiles.arns.values()),
                guardrail_arns=guardrails.arns,
            ):
                endpoint.add_to_policy(statement)
        self.flow_log = self._flow_log(plan) if flow_logs_on(network, plan.production) else None
        self._acknowledge_no_flow_logs()
        self._revision = digest(
            network.model_dump_json(),
            self.required.all,
            profiles.revision,
            guardrails.revision,
        )

    @property
    def handles(self) -> NetworkHandles:
        """Placement, endpoint ids and the revision the stacks after this one carry."""
        return NetworkHandles(
            placement=Placement(
                vpc=self.vpc,
                subnets=self.subnets,
                security_groups=(self.function_security_group,),
            ),
            endpoint_ids={s: e.vpc_endpoint_id for s, e in sorted(self.endpoints.items())},
            vpc_id=self.vpc.vpc_id,
            revision=self._revision,
            bedrock_deny_region=(
                self.region if self._network.bedrock_deny_scope == "stage-region" else None
            ),
        )

    # -- the VPC ---------------------------------------------------------------------------------

    def _create_vpc(self, network: CreateNetwork) -> tuple[ec2.IVpc, ec2.SubnetSelection]:
        subnets = [
            ec2.SubnetConfiguration(
                name=FUNCTION_SUBNETS,
                subnet_type=ec2.SubnetType.PRIVATE_WITH_EGRESS
                if network.nat_gateways
                else ec2.SubnetType.PRIVATE_ISOLATED,
            )
        ]
        if network.nat_gateways:
            subnets.insert(
                0, ec2.SubnetConfiguration(name="Public", subnet_type=ec2.SubnetType.PUBLIC)
            )
        vpc = ec2.Vpc(
            self,
            "Vpc",
            ip_addresses=ec2.IpAddresses.cidr(network.cidr),
            max_azs=network.az_count,
            nat_gateways=network.nat_gateways,
            subnet_configuration=subnets,
            # The default-SG restriction is a Lambda-backed custom resource (a function outside
            # the VPC for nothing); no resource of the kit uses the default group.
            restrict_default_security_group=False,
        )
        acknowledge(
            vpc,
            "NIST.800.53.R5-VPCDefaultSecurityGroupClosed",
            "No resource of the kit is placed in the default security group: functions and "
            "endpoints use the kit's own groups (HTTPS only, function group to endpoint "
            "group). Removing the default group's rules takes a Lambda-backed custom resource, "
            "which would be one more function outside the VPC.",
        )
        return vpc, ec2.SubnetSelection(subnet_group_name=FUNCTION_SUBNETS)

    def _import_vpc(self, network: ExistingNetwork) -> tuple[ec2.IVpc, ec2.SubnetSelection]:
        # No lookup: every attribute comes from the config.
        vpc = ec2.Vpc.from_vpc_attributes(
            self,
            "Vpc",
            vpc_id=network.vpc_id,
            vpc_cidr_block=network.cidr,
            availability_zones=list(network.availability_zones),
            private_subnet_ids=list(network.subnet_ids),
            private_subnet_route_table_ids=list(network.route_table_ids),
        )
        return vpc, ec2.SubnetSelection(subnets=vpc.private_subnets)

    # -- security groups -------------------------------------------------------------------------

    def _security_groups(self) -> tuple[ec2.SecurityGroup, ec2.SecurityGroup]:
        functions = ec2.SecurityGroup(
            self,
            "FunctionSecurityGroup",
            vpc=self.vpc,
            description="bedrock-cdk-kit functions: HTTPS to the VPC endpoints only",
            allow_all_outbound=False,
        )
        endpoints = ec2.SecurityGroup(
            self,
            "EndpointSecurityGroup",
            vpc=self.vpc,
            description="bedrock-cdk-kit interface endpoints: HTTPS from the kit functions",
            allow_all_outbound=False,
        )
        endpoints.add_ingress_rule(functions, HTTPS, "HTTPS from the kit functions")
        functions.add_egress_rule(endpoints, HTTPS, "HTTPS to the interface endpoints")
        if self.required.gateway:
            # A gateway endpoint is a route to the service's public addresses (an AWS prefix
            # list whose id only a lookup would give); the route tables, not this rule, decide
            # where the traffic can go: without NAT only to the gateway endpoints.
            functions.add_egress_rule(
                ec2.Peer.any_ipv4(),
                HTTPS,
                "HTTPS to the gateway endpoints (routed by prefix list)",
            )
        return functions, endpoints

    def _api_endpoint_group(self, cidr: str, clients: tuple[str, ...]) -> ec2.SecurityGroup:
        group = ec2.SecurityGroup(
            self,
            "ApiEndpointSecurityGroup",
            vpc=self.vpc,
            description="bedrock-cdk-kit execute-api endpoint: HTTPS from API clients",
            allow_all_outbound=False,
        )
        group.add_ingress_rule(ec2.Peer.ipv4(cidr), HTTPS, "HTTPS from the VPC (API clients)")
        for block in clients:  # peered, Transit Gateway or VPN networks (network.client_cidrs)
            group.add_ingress_rule(
                ec2.Peer.ipv4(block), HTTPS, f"HTTPS from API clients in {block}"
            )
        return group

    # -- endpoints -------------------------------------------------------------------------------

    def _interface_endpoint(self, service: str) -> ec2.InterfaceVpcEndpoint:
        group = (
            self.api_endpoint_security_group
            if service == "execute-api"
            else self.endpoint_security_group
        )
        return ec2.InterfaceVpcEndpoint(
            self,
            f"{_pascal(service)}Endpoint",
            vpc=self.vpc,
            service=ec2.InterfaceVpcEndpointAwsService(service),
            subnets=self.subnets,
            security_groups=[group],
            private_dns_enabled=True,
            # `open` would add an ingress rule from the whole VPC block.
            open=False,
        )

    # -- flow logs -------------------------------------------------------------------------------

    def _flow_log(self, plan: StagePlan) -> ec2.FlowLog:
        group = retained_log_group(
            self,
            "FlowLogs",
            plan=plan,
            logical_id=FLOW_LOGS_ID,
        )
        return ec2.FlowLog(
            self,
            "FlowLog",
            resource_type=ec2.FlowLogResourceType.from_vpc(self.vpc),
            destination=ec2.FlowLogDestination.to_cloud_watch_logs(group),
        )

    def _acknowledge_no_flow_logs(self) -> None:
        """A created VPC without flow logs (a non-production stage's choice) says why."""
        if self.flow_log is None and isinstance(self.vpc, ec2.Vpc):
            acknowledge(
                self.vpc,
                "AwsSolutions-VPC7",
                "Flow logs are off for this stage (network.flow_logs false, or the "
                "non-production default); production stages log the VPC's traffic.",
            )
