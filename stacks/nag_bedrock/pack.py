"""``BedrockChecks``: a cdk-nag v3 rule pack for Amazon Bedrock applications.

cdk-nag's own packs have no rule for Bedrock, OpenSearch Serverless or S3 Vectors. This pack
checks what a Bedrock application gets wrong most: invoke grants without a guardrail,
Bedrock actions on ``*``, credentials usable outside the VPC, endpoints at full access, stores
and logs without a customer-managed key, public networks and ingress.

Register it like any cdk-nag pack; findings appear in the validation report and are
acknowledged with ``Validations.of(construct).acknowledge(...)``::

    Validations.of(app).add_plugins(BedrockChecks(app, private_network=True, production=True))

Every rule reads the resource's resolved CloudFormation properties. What it cannot see: values
CloudFormation computes at deploy time (a key ARN from a parameter counts as present, a CIDR
from a parameter is not checked), raw overrides (``add_property_override``), and policies
attached to a role from another stack or by name; a rule that cannot read a value it needs
reports a finding saying the rule threw (cdk-nag's behaviour), which is acknowledged like any
other.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, cast

import jsii
from aws_cdk import CfnResource, Stack
from cdk_nag import IApplyRule, NagMessageLevel, NagPack, NagRuleCompliance
from constructs import IConstruct

from .actions import (
    GUARDRAIL_CONDITION_KEY,
    INVOKE_ACTIONS,
    NO_RESOURCE_TYPE_ACTIONS,
    RUNTIME_ACTIONS,
    VPC_CONDITION_KEYS,
)
from .policy import (
    as_list,
    bedrock_patterns,
    covered,
    denies_unless,
    is_allow,
    is_deny,
    requires,
    statements,
    wildcard_resources,
)

PACK_NAME = "Bedrock"
Result = NagRuleCompliance | list[str]


@dataclass(frozen=True)
class Rule:
    """One rule of the pack: its id suffix, what a finding says and why the rule exists."""

    suffix: str
    info: str
    explanation: str

    @property
    def id(self) -> str:
        return f"{PACK_NAME}-{self.suffix}"


INVOKE_WITHOUT_GUARDRAIL = Rule(
    "InvokeWithoutGuardrail",
    "The policy allows invoking a model without a bedrock:GuardrailIdentifier condition.",
    "Without the condition the caller may invoke with no guardrail, or another one: require the "
    "guardrail (and its version) with StringEquals (not ...IfExists) on every invoke grant.",
)
ACTION_ON_WILDCARD = Rule(
    "ActionOnWildcard",
    'The policy allows a Bedrock action that has a resource type on Resource "*".',
    "Only the actions the Service Authorization Reference lists with no resource type need "
    '"*"; every other Bedrock action can and should name exact ARNs.',
)
INVOKE_OUTSIDE_VPC = Rule(
    "InvokeOutsideVpc",
    "In a private stage, the role can call Bedrock's run-time APIs from outside the VPC.",
    "Condition the Allow on aws:SourceVpce/aws:SourceVpc, or add a Deny when the request does "
    "not come through the endpoint, so that a leaked credential is useless outside the VPC.",
)
ENDPOINT_WITHOUT_POLICY = Rule(
    "EndpointWithoutPolicy",
    "The VPC endpoint has no policy document (the default allows full access).",
    "An endpoint policy limits what the endpoint reaches (actions, resources, principals) even "
    "for a credential that allows more.",
)
NO_CUSTOMER_MANAGED_KEY = Rule(
    "NoCustomerManagedKey",
    "In production, the guardrail, data source, vector store, agent, database cluster or log "
    "group is not encrypted with a customer-managed KMS key.",
    "A customer-managed key puts decryption under the key policy and in CloudTrail, and lets "
    "the data be made unreadable by disabling the key.",
)
PUBLIC_COLLECTION_NETWORK = Rule(
    "PublicCollectionNetwork",
    "In a private stage, an OpenSearch Serverless network policy allows public access.",
    "A private stage reaches its collections through the VPC (and Bedrock as a source "
    "service): AllowFromPublic opens the endpoints to the internet.",
)
OPEN_INGRESS = Rule(
    "OpenIngress",
    "The security group allows ingress from 0.0.0.0/0 or ::/0.",
    "Nothing in a Bedrock application needs ingress from anywhere: allow the function "
    "security group or the VPC's range.",
)
NO_INVOCATION_LOGGING = Rule(
    "NoInvocationLogging",
    "In production, the policy allows invoking models but the app sets up no model "
    "invocation logging.",
    "Model invocation logging is the record of who asked what; Bedrock keeps none by default.",
)

RULES: tuple[Rule, ...] = (
    INVOKE_WITHOUT_GUARDRAIL,
    ACTION_ON_WILDCARD,
    INVOKE_OUTSIDE_VPC,
    ENDPOINT_WITHOUT_POLICY,
    NO_CUSTOMER_MANAGED_KEY,
    PUBLIC_COLLECTION_NETWORK,
    OPEN_INGRESS,
    NO_INVOCATION_LOGGING,
)

_POLICY_HOLDERS = ("AWS::IAM::Policy", "AWS::IAM::ManagedPolicy")
_INLINE_HOLDERS = ("AWS::IAM::Role", "AWS::IAM::User", "AWS::IAM::Group")
_OPEN_CIDRS = {"0.0.0.0/0", "::/0"}
# Where a customer-managed key goes, by resource type (the CloudFormation property path).
_KEY_PATHS: dict[str, tuple[str, ...]] = {
    "AWS::Bedrock::Guardrail": ("KmsKeyArn",),
    "AWS::Bedrock::DataSource": ("ServerSideEncryptionConfiguration", "KmsKeyArn"),
    "AWS::Bedrock::Agent": ("CustomerEncryptionKeyArn",),
    "AWS::S3Vectors::VectorBucket": ("EncryptionConfiguration", "KmsKeyArn"),
    "AWS::RDS::DBCluster": ("KmsKeyId",),
    "AWS::Logs::LogGroup": ("KmsKeyId",),
}
_LOGGING_ACTION = "putmodelinvocationloggingconfiguration"


@jsii.implements(IApplyRule)
class _Applied:
    """One rule on one resource, in the shape cdk-nag's ``applyRule`` reads (jsii reads the
    members through properties, so plain attributes would not do)."""

    def __init__(self, rule: Rule, node: CfnResource, check: Callable[[], Result]) -> None:
        self._rule = rule
        self._node = node
        self._check = check

    @property
    def node(self) -> CfnResource:
        return self._node

    @property
    def info(self) -> str:
        return self._rule.info

    @property
    def explanation(self) -> str:
        return self._rule.explanation

    @property
    def level(self) -> NagMessageLevel:
        return NagMessageLevel.ERROR

    @property
    def rule_suffix_override(self) -> str:
        return self._rule.suffix

    def rule(self, node: CfnResource) -> Result:
        return self._check()


@dataclass
class _Principal:
    """An IAM role, user or group seen in the app: its statements and (roles) its trust."""

    statements: list[Mapping[str, Any]] = field(default_factory=list)
    trusted_services: set[str] | None = None  # None: trusts something other than a service


@dataclass
class _AppIndex:
    """What the cross-resource rules need, read once per validation of an app."""

    root: IConstruct
    principals: dict[tuple[str, str], _Principal] = field(default_factory=dict)
    attached: dict[str, list[tuple[str, str]]] = field(default_factory=dict)  # policy path
    invocation_logging: bool = False


class BedrockChecks(NagPack):
    """cdk-nag v3 pack of Bedrock rules (ids ``Bedrock-<Rule>``; see ``RULES``).

    Parameters
    ----------
    scope:
        The app (passed on to cdk-nag, which uses it only for
        ``write_suppressions_to_cloud_formation``).
    private_network:
        The app runs in a VPC and reaches AWS through endpoints: turns on
        ``Bedrock-InvokeOutsideVpc`` and ``Bedrock-PublicCollectionNetwork``.
    production:
        Turns on ``Bedrock-NoCustomerManagedKey`` (and ``Bedrock-NoInvocationLogging`` with
        ``require_invocation_logging``).
    require_invocation_logging:
        Report invoke grants in a production app that sets up no model invocation logging. Off
        by default: turn it on once the app configures invocation logging.
    invocation_logging_types:
        Resource types that set up invocation logging (CloudFormation has none: a custom
        resource does it). Any resource whose properties call
        ``PutModelInvocationLoggingConfiguration`` (an ``AwsCustomResource``) counts too.
    service_principals:
        Roles that only these services assume (knowledge-base and agent service roles) are
        Bedrock itself calling models: no caller to hold to a guardrail, and its requests
        never come through the app's VPC endpoints, so the guardrail and VPC rules skip them.
    """

    def __init__(
        self,
        scope: IConstruct | None = None,
        *,
        private_network: bool = False,
        production: bool = False,
        require_invocation_logging: bool = False,
        invocation_logging_types: Collection[str] = (),
        service_principals: Collection[str] = ("bedrock.amazonaws.com",),
        verbose: bool | None = None,
        write_suppressions_to_cloud_formation: bool | None = None,
    ) -> None:
        super().__init__(
            scope,
            verbose=verbose,
            write_suppressions_to_cloud_formation=write_suppressions_to_cloud_formation,
        )
        self._pack_name = PACK_NAME
        self._private = private_network
        self._production = production
        self._require_logging = require_invocation_logging
        self._logging_types = set(invocation_logging_types)
        self._service_principals = set(service_principals)
        self._index: _AppIndex | None = None

    @property
    def name(self) -> str:
        return PACK_NAME

    # The dispatch: only the rules that can apply to the resource's type are applied.
    def _check_resource(self, node: CfnResource) -> None:
        kind = node.cfn_resource_type
        if kind in _POLICY_HOLDERS or kind in _INLINE_HOLDERS:
            self._check_policies(node)
        if kind == "AWS::IAM::Role" and self._private:
            self._apply(INVOKE_OUTSIDE_VPC, node, lambda: self._outside_vpc(node))
        if kind == "AWS::EC2::VPCEndpoint":
            self._apply(ENDPOINT_WITHOUT_POLICY, node, lambda: self._endpoint(node))
        if kind in _KEY_PATHS and self._production:
            self._apply(NO_CUSTOMER_MANAGED_KEY, node, lambda: self._key(node, _KEY_PATHS[kind]))
        if kind == "AWS::OpenSearchServerless::SecurityPolicy":
            self._check_collection_policy(node)
        if kind in ("AWS::EC2::SecurityGroup", "AWS::EC2::SecurityGroupIngress"):
            self._apply(OPEN_INGRESS, node, lambda: self._ingress(node))

    def _apply(self, rule: Rule, node: CfnResource, check: Callable[[], Result]) -> None:
        self._apply_rule(cast(IApplyRule, _Applied(rule, node, check)))

    def _check_policies(self, node: CfnResource) -> None:
        self._apply(INVOKE_WITHOUT_GUARDRAIL, node, lambda: self._guardrail(node))
        self._apply(ACTION_ON_WILDCARD, node, lambda: self._wildcard(node))
        if self._production and self._require_logging:
            self._apply(NO_INVOCATION_LOGGING, node, lambda: self._logging(node))

    def _check_collection_policy(self, node: CfnResource) -> None:
        kind = str(_props(node).get("Type", "")).lower()
        if kind == "encryption" and self._production:
            self._apply(NO_CUSTOMER_MANAGED_KEY, node, lambda: self._aoss_key(node))
        if kind == "network" and self._private:
            self._apply(PUBLIC_COLLECTION_NETWORK, node, lambda: self._aoss_network(node))

    # --- IAM rules ----------------------------------------------------------------------

    def _guardrail(self, node: CfnResource) -> Result:
        if self._only_service_roles(node):
            return NagRuleCompliance.NOT_APPLICABLE
        for st in _own_statements(node):
            invokes = is_allow(st) and covered(st, INVOKE_ACTIONS)
            if invokes and not requires(st, {GUARDRAIL_CONDITION_KEY}):
                return NagRuleCompliance.NON_COMPLIANT
        return NagRuleCompliance.COMPLIANT

    def _wildcard(self, node: CfnResource) -> Result:
        for st in _own_statements(node):
            if not is_allow(st) or not wildcard_resources(st):
                continue
            if any(p not in NO_RESOURCE_TYPE_ACTIONS for p in bedrock_patterns(st)):
                return NagRuleCompliance.NON_COMPLIANT
        return NagRuleCompliance.COMPLIANT

    def _logging(self, node: CfnResource) -> Result:
        if not any(is_allow(st) and covered(st, INVOKE_ACTIONS) for st in _own_statements(node)):
            return NagRuleCompliance.NOT_APPLICABLE
        if self._app(node).invocation_logging:
            return NagRuleCompliance.COMPLIANT
        return NagRuleCompliance.NON_COMPLIANT

    def _outside_vpc(self, node: CfnResource) -> Result:
        principal = self._app(node).principals.get(_key_of(node))
        if principal is None or self._is_service_role(principal):
            return NagRuleCompliance.NOT_APPLICABLE
        exposed: set[str] = set()
        for st in principal.statements:
            if is_allow(st) and not requires(st, VPC_CONDITION_KEYS):
                exposed |= covered(st, RUNTIME_ACTIONS)
        if not exposed:
            return NagRuleCompliance.COMPLIANT
        for st in principal.statements:
            if is_deny(st) and denies_unless(st, VPC_CONDITION_KEYS):
                exposed -= covered(st, exposed)
        return NagRuleCompliance.NON_COMPLIANT if exposed else NagRuleCompliance.COMPLIANT

    def _only_service_roles(self, node: CfnResource) -> bool:
        """Whether the statements of ``node`` reach only roles that only Bedrock assumes."""
        index = self._app(node)
        if node.cfn_resource_type == "AWS::IAM::Role":
            holders = [_key_of(node)]
        else:
            props = _props(node)
            if props.get("Users") or props.get("Groups"):
                return False
            holders = index.attached.get(node.node.path, [])
        principals = [index.principals.get(h) for h in holders]
        return bool(principals) and all(
            p is not None and self._is_service_role(p) for p in principals
        )

    def _is_service_role(self, principal: _Principal) -> bool:
        services = principal.trusted_services
        return bool(services) and services is not None and services <= self._service_principals

    # --- resource rules -----------------------------------------------------------------

    def _endpoint(self, node: CfnResource) -> Result:
        props = _props(node)
        # CloudFormation's default type is Gateway; Gateway Load Balancer, Resource and Service
        # Network endpoints take no policy document.
        if props.get("VpcEndpointType", "Gateway") not in ("Interface", "Gateway"):
            return NagRuleCompliance.NOT_APPLICABLE
        return (
            NagRuleCompliance.COMPLIANT
            if props.get("PolicyDocument")
            else NagRuleCompliance.NON_COMPLIANT
        )

    def _key(self, node: CfnResource, path: Sequence[str]) -> Result:
        value: Any = _props(node)
        for step in path:
            value = value.get(step) if isinstance(value, Mapping) else None
        return NagRuleCompliance.COMPLIANT if value else NagRuleCompliance.NON_COMPLIANT

    def _aoss_key(self, node: CfnResource) -> Result:
        policy = _json_document(_props(node).get("Policy"))
        owned = isinstance(policy, Mapping) and policy.get("AWSOwnedKey") is True
        return NagRuleCompliance.NON_COMPLIANT if owned else NagRuleCompliance.COMPLIANT

    def _aoss_network(self, node: CfnResource) -> Result:
        rules = as_list(_json_document(_props(node).get("Policy")))
        public = any(isinstance(r, Mapping) and r.get("AllowFromPublic") is True for r in rules)
        return NagRuleCompliance.NON_COMPLIANT if public else NagRuleCompliance.COMPLIANT

    def _ingress(self, node: CfnResource) -> Result:
        props = _props(node)
        rules = (
            as_list(props.get("SecurityGroupIngress"))
            if node.cfn_resource_type == "AWS::EC2::SecurityGroup"
            else [props]
        )
        for rule in rules:
            cidrs = (
                [rule.get(k) for k in ("CidrIp", "CidrIpv6")] if isinstance(rule, Mapping) else []
            )
            # A CIDR computed at deploy time (a VPC's range, a parameter) is not seen.
            if any(isinstance(c, str) and c in _OPEN_CIDRS for c in cidrs):
                return NagRuleCompliance.NON_COMPLIANT
        return NagRuleCompliance.COMPLIANT

    # --- the app index ------------------------------------------------------------------

    def _app(self, node: CfnResource) -> _AppIndex:
        root = node.node.root
        if self._index is None or self._index.root is not root:
            self._index = self._build_index(root)
        return self._index

    def _build_index(self, root: IConstruct) -> _AppIndex:
        index = _AppIndex(root)
        resources = [
            cast(CfnResource, c) for c in root.node.find_all() if CfnResource.is_cfn_resource(c)
        ]
        managed: dict[tuple[str, str], list[Mapping[str, Any]]] = {}
        for res in resources:
            kind = res.cfn_resource_type
            if kind in self._logging_types:
                index.invocation_logging = True
            if kind.startswith("Custom::") or kind == "AWS::CloudFormation::CustomResource":
                text = json.dumps(_props(res)).lower()
                index.invocation_logging |= _LOGGING_ACTION in text
            if kind in _INLINE_HOLDERS:
                principal = index.principals.setdefault(_key_of(res), _Principal())
                principal.statements += _own_statements(res)
                if kind == "AWS::IAM::Role":
                    principal.trusted_services = _trusted_services(_props(res))
        for res in resources:
            if res.cfn_resource_type not in _POLICY_HOLDERS:
                continue
            own = _own_statements(res)
            if res.cfn_resource_type == "AWS::IAM::ManagedPolicy":
                managed[_key_of(res)] = own
            holders = _referenced(res, _props(res).get("Roles"))
            index.attached[res.node.path] = holders
            for holder in holders:
                index.principals.setdefault(holder, _Principal()).statements.extend(own)
        # A role that lists a managed policy of the same stack among its ManagedPolicyArns.
        for res in resources:
            if res.cfn_resource_type == "AWS::IAM::Role":
                for ref in _referenced(res, _props(res).get("ManagedPolicyArns")):
                    index.principals[_key_of(res)].statements.extend(managed.get(ref, []))
        return index


def _props(node: CfnResource) -> dict[str, Any]:
    """The resource's CloudFormation properties, tokens resolved (overrides not included)."""
    # As CfnResource does when it renders a template: resolve, then map to CloudFormation names.
    stack = Stack.of(node)
    resolved = stack.resolve(node._render_properties(stack.resolve(node._cfn_properties)))
    return resolved if isinstance(resolved, dict) else {}


def _key_of(node: CfnResource) -> tuple[str, str]:
    stack = Stack.of(node)
    return stack.node.path, stack.get_logical_id(node)


def _referenced(node: CfnResource, values: Any) -> list[tuple[str, str]]:
    """The same-stack resources that ``values`` name by ``Ref`` (others cannot be seen)."""
    stack = Stack.of(node).node.path
    return [(stack, v["Ref"]) for v in as_list(values) if isinstance(v, Mapping) and "Ref" in v]


def _own_statements(node: CfnResource) -> list[Mapping[str, Any]]:
    """The statements a policy resource holds, or a role's, user's or group's inline ones."""
    props = _props(node)
    if node.cfn_resource_type in _POLICY_HOLDERS:
        return statements(props.get("PolicyDocument"))
    found: list[Mapping[str, Any]] = []
    for policy in as_list(props.get("Policies")):
        if isinstance(policy, Mapping):
            found += statements(policy.get("PolicyDocument"))
    return found


def _trusted_services(props: Mapping[str, Any]) -> set[str] | None:
    """The service principals a role trusts, or ``None`` if it trusts anything else."""
    services: set[str] = set()
    for st in statements(props.get("AssumeRolePolicyDocument")):
        if not is_allow(st):
            continue
        principal = st.get("Principal")
        if not isinstance(principal, Mapping) or set(principal) != {"Service"}:
            return None
        names = as_list(principal["Service"])
        if not all(isinstance(n, str) for n in names):
            return None
        services.update(names)
    return services


def _json_document(value: Any) -> Any:
    """A JSON policy given as a string; an ``Fn::Join`` of literals and intrinsics, or an
    ``Fn::Sub`` template, is read with each intrinsic or ``${...}`` as a placeholder string
    (where a name or ARN goes)."""
    if isinstance(value, Mapping) and "Fn::Join" in value:
        separator, parts = value["Fn::Join"]
        value = separator.join(p if isinstance(p, str) else "intrinsic" for p in parts)
    elif isinstance(value, Mapping) and "Fn::Sub" in value:
        template = value["Fn::Sub"]
        template = template[0] if isinstance(template, list) else template
        if isinstance(template, str):
            value = re.sub(r"\$\{[^}]*\}", "intrinsic", template)
    if not isinstance(value, str):
        raise ValueError(f"policy is not a JSON string: {value!r}")
    return json.loads(value)
