"""The stage's private network: none (the default), a VPC the kit creates, or an existing one.

A stage is *private* when ``network.mode`` is not ``none``: its functions run in the VPC and
reach AWS only through the VPC endpoints its features need (stacks/network/endpoints.py).

Bounds (checked 2026-12-01): a VPC's IPv4 block is between /16 and /28 (Amazon VPC user guide,
"VPC CIDR blocks", https://docs.aws.amazon.com/vpc/latest/userguide/vpc-cidr-blocks.html); the
kit asks for at most /22 so every zone still gets an isolated and a public subnet of at least
/25 (123 usable addresses: Lambda's Hyperplane interfaces and one address per interface
endpoint per zone). Ids follow EC2's forms (``vpc-``, ``subnet-``, ``rtb-`` and 8 or 17
hexadecimal digits; botocore ec2 2016-11-15 examples).
"""

from __future__ import annotations

import ipaddress
import re
from typing import Annotated, Literal

from pydantic import Field

from stacks.config.base import Strict, show

DEFAULT_CIDR = "10.96.0.0/16"
"""Not CDK's own default (10.0.0.0/16), which many VPCs already use: peering or a transit
gateway needs distinct blocks. Not the Aurora network's 10.64.0.0/24 either."""
MIN_PREFIX, MAX_PREFIX = 16, 22
# Zones: Fn::GetAZs at deploy (no lookup at synth). Every commercial region offers an account at
# least 2 zones, most 3 (us-west-1 offers 2 per account: UNVERIFIED on an AWS page); each zone
# adds one interface of every endpoint (billed per endpoint per zone-hour), so the kit stops at
# 3. One zone is allowed outside production, for a cheaper private test stage.
MIN_AZS, MAX_AZS = 1, 3
MAX_CLIENT_CIDRS = 20
"""Each block is one inbound rule on the endpoint's security group; EC2's default quota is 60
inbound rules per group (UNVERIFIED against the VPC quotas page this session), so the kit keeps
well under it."""
PRIVATE_RANGES = tuple(
    ipaddress.IPv4Network(n) for n in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16")
)
"""RFC 1918 private ranges, the blocks the VPC guide recommends for a VPC."""


def _id(prefix: str) -> str:
    return rf"^{prefix}-([0-9a-f]{{8}}|[0-9a-f]{{17}})$"


ID_FORMS = {
    "vpc_id": ("vpc", "a VPC id such as vpc-0abc..."),
    "subnet_ids": ("subnet", "a subnet id such as subnet-0abc..."),
    "route_table_ids": ("rtb", "a route table id such as rtb-0abc..."),
}
ZONE = re.compile(r"^[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-\d{1,2}[a-z]$")


class NoNetwork(Strict):
    """No VPC: the functions run in Lambda's own network and call AWS's public endpoints."""

    mode: Literal["none"] = "none"


class PrivateNetwork(Strict):
    """What every network the functions run in has: its callers and its deny's scope."""

    client_cidrs: tuple[str, ...] = Field(default=(), max_length=MAX_CLIENT_CIDRS)
    """IPv4 blocks of peered, Transit Gateway or VPN networks whose clients call the private
    API: HTTPS in to the ``execute-api`` endpoint (the VPC's own block always may)."""
    bedrock_deny_scope: Literal["all-regions", "stage-region"] = "all-regions"
    """Where the handler roles' deny of Bedrock calls from outside the stage's endpoints
    applies: every region, or only requests to the stage's own region (aws:RequestedRegion),
    the fallback if cross-region inference is refused (docs/first-deploy.md)."""


class CreateNetwork(PrivateNetwork):
    """A VPC the kit creates: isolated subnets in ``az_count`` zones, NAT only when asked."""

    mode: Literal["create"]
    cidr: str = DEFAULT_CIDR
    """The VPC's IPv4 block: a private (RFC 1918) network address, /16 to /22."""
    az_count: int = Field(default=2, ge=MIN_AZS, le=MAX_AZS)
    """Zones used (each endpoint is billed per zone); at least 2 in a production stage."""
    nat_gateways: int = Field(default=0, ge=0, le=MAX_AZS)
    """NAT gateways (each in its own public subnet); 0: no internet path at all."""
    flow_logs: bool | None = None
    """``null``: on in a ``production`` stage, where ``false`` is refused (the kit owns the
    VPC: nothing else would log its traffic)."""


class ExistingNetwork(PrivateNetwork):
    """A VPC someone else owns, named by ids only (no lookup at synth)."""

    mode: Literal["existing"]
    vpc_id: str
    """``vpc-`` and 8 or 17 hexadecimal digits."""
    cidr: str
    """The VPC's IPv4 block: clients in it may call the private API's endpoint."""
    subnet_ids: tuple[str, ...] = Field(min_length=1, max_length=16)
    """Private subnets the functions and endpoints go in, one per zone."""
    availability_zones: tuple[str, ...] = Field(min_length=1, max_length=16)
    """The zone of each subnet, in the same order."""
    route_table_ids: tuple[str, ...] = Field(min_length=1, max_length=16)
    """The route table of each subnet, in the same order (gateway endpoints add routes)."""
    flow_logs: bool | None = None
    """``null``: on in a ``production`` stage. ``false`` is allowed there: the VPC's owner may
    already log it (a second flow log would only duplicate its records), and cdk-nag sees no
    VPC the kit did not create."""


NetworkConfig = Annotated[NoNetwork | CreateNetwork | ExistingNetwork, Field(discriminator="mode")]


def flow_logs_on(network: CreateNetwork | ExistingNetwork, production: bool) -> bool:
    """Whether the VPC's traffic is logged (the config's choice, else the production default)."""
    return production if network.flow_logs is None else network.flow_logs


def network_problems(
    prefix: str,
    network: NoNetwork | CreateNetwork | ExistingNetwork,
    *,
    production: bool,
    region: str,
) -> list[str]:
    """Checks across the keys of the ``network`` block (``region``: the stage's)."""
    key = f"{prefix}.network"
    if isinstance(network, NoNetwork):
        return []
    problems = _cidr_problems(
        f"{key}.cidr", network.cidr, existing=isinstance(network, ExistingNetwork)
    )
    problems += _client_problems(f"{key}.client_cidrs", network.client_cidrs)
    if isinstance(network, CreateNetwork):
        if network.nat_gateways > network.az_count:
            problems.append(
                f"{key}.nat_gateways: {network.nat_gateways} is not allowed: at most one per "
                f"zone; allowed: 0-{network.az_count} (az_count)"
            )
        if production and network.flow_logs is False:
            problems.append(
                f"{key}.flow_logs: false is not allowed in a production stage with mode "
                "create (the kit owns this VPC, so nothing else records its traffic, and NIST "
                "800-53 R5 and AwsSolutions require flow logs on it); allowed: true or null "
                "(leave it out). With mode existing the VPC's owner may log it instead"
            )
        if production and network.az_count < 2:
            problems.append(
                f"{key}.az_count: {network.az_count} is not allowed in a production stage "
                "(one zone's outage would stop every function); allowed: 2-3"
            )
        return problems
    problems += _id_problems(key, network, region)
    count = len(network.subnet_ids)
    for name in ("availability_zones", "route_table_ids"):
        values = getattr(network, name)
        if len(values) != count:
            problems.append(
                f"{key}.{name}: {show(list(values))} is not allowed: one per subnet_ids entry; "
                f"allowed: exactly {count} {'entry' if count == 1 else 'entries'}"
            )
    if len(set(network.subnet_ids)) != count:
        problems.append(
            f"{key}.subnet_ids: {show(list(network.subnet_ids))} is not allowed: a subnet is "
            "listed twice; allowed: distinct subnet ids"
        )
    zones = network.availability_zones
    if len(set(zones)) != len(zones):
        problems.append(
            f"{key}.availability_zones: {show(list(zones))} is not allowed: a zone is listed "
            "twice (each interface endpoint takes one subnet per zone); allowed: one subnet per "
            "zone, distinct zones"
        )
    elif production and len(set(zones)) < 2:
        problems.append(
            f"{key}.availability_zones: {show(list(network.availability_zones))} is not allowed "
            "in a production stage: the subnets must span at least 2 zones"
        )
    return problems


def _id_problems(key: str, network: ExistingNetwork, region: str) -> list[str]:
    problems = []
    for name, (prefix, words) in ID_FORMS.items():
        value = getattr(network, name)
        for i, item in enumerate([value] if isinstance(value, str) else value):
            if not re.fullmatch(_id(prefix), item):
                where = f"{key}.{name}" + ("" if isinstance(value, str) else f"[{i}]")
                problems.append(f"{where}: {show(item)} is not allowed: expected {words}")
    for i, zone in enumerate(network.availability_zones):
        if not ZONE.fullmatch(zone) or not re.fullmatch(rf"{re.escape(region)}[a-z]", zone):
            problems.append(
                f"{key}.availability_zones[{i}]: {show(zone)} is not allowed: expected a zone "
                f"of the stage's region {region}, such as {region}a"
            )
    return problems


def _client_problems(key: str, cidrs: tuple[str, ...]) -> list[str]:
    """Client blocks: IPv4 network addresses, never the whole internet (a private API's
    endpoint is for known networks), each listed once."""
    problems = []
    for i, cidr in enumerate(cidrs):
        try:
            block = ipaddress.ip_network(cidr, strict=True)
        except ValueError:
            block = None
        if not isinstance(block, ipaddress.IPv4Network):
            problems.append(
                f"{key}[{i}]: {show(cidr)} is not allowed: expected an IPv4 network address "
                "such as '172.16.0.0/16' (host bits zero)"
            )
        elif block.prefixlen < 8:
            problems.append(
                f"{key}[{i}]: {show(cidr)} is not allowed: a /{block.prefixlen} block opens the "
                "endpoint to most of the internet; allowed: /8 or longer"
            )
    if len(set(cidrs)) != len(cidrs):
        problems.append(
            f"{key}: {show(list(cidrs))} is not allowed: a block is listed twice; allowed: "
            "distinct blocks"
        )
    return problems


def _cidr_problems(key: str, cidr: str, *, existing: bool = False) -> list[str]:
    """A created VPC's block: RFC 1918, /16 to /22. An existing VPC's: any IPv4 block a VPC
    may have, since the kit only reads it: /16 to /28, and not only RFC 1918 (the EC2 API
    reference's CreateVpc example canonicalizes 100.68.0.18/18 to 100.68.0.0/18; checked
    2026-12-01 on https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_CreateVpc.html)."""
    try:
        block = ipaddress.ip_network(cidr, strict=True)
    except ValueError:
        return [
            f"{key}: {show(cidr)} is not allowed: expected an IPv4 network address such as "
            f"{DEFAULT_CIDR!r} (host bits zero)"
        ]
    if not isinstance(block, ipaddress.IPv4Network):
        return [
            f"{key}: {show(cidr)} is not allowed: expected an IPv4 block, e.g. {DEFAULT_CIDR!r}"
        ]
    if existing:
        if not MIN_PREFIX <= block.prefixlen <= 28:
            return [
                f"{key}: {show(cidr)} is not allowed: a /{block.prefixlen} block; allowed: "
                f"/{MIN_PREFIX} to /28 (what a VPC may have)"
            ]
        return []
    if not any(block.subnet_of(r) for r in PRIVATE_RANGES):
        return [
            f"{key}: {show(cidr)} is not allowed: not a private range; allowed: blocks within "
            "10.0.0.0/8, 172.16.0.0/12 or 192.168.0.0/16"
        ]
    if not MIN_PREFIX <= block.prefixlen <= MAX_PREFIX:
        return [
            f"{key}: {show(cidr)} is not allowed: a /{block.prefixlen} block; allowed: "
            f"/{MIN_PREFIX} to /{MAX_PREFIX}"
        ]
    return []


__all__ = [
    "DEFAULT_CIDR",
    "CreateNetwork",
    "ExistingNetwork",
    "NetworkConfig",
    "NoNetwork",
    "flow_logs_on",
    "network_problems",
]
