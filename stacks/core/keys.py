"""Customer-managed KMS keys: one per stack, made on first use, rotated, retained and pinned.

Every key lives in the stack whose resources it encrypts, so no stack edits another stack's key
policy (a producer's key policy naming a consumer's role would tie the two stacks in a cycle).
A consumer in another stack is granted use of a producer's key in its own IAM policy, which
the key policy's account statement delegates to IAM (docs/decisions.md, "Customer-managed keys").
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from aws_cdk import Aws, Duration, RemovalPolicy, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from constructs import Construct

from stacks.config import StagePlan
from stacks.core.naming import resource_name

KEY_CONSTRUCT_ID = "Key"
# Alias names: alias/ + [a-zA-Z0-9/_-], at most 256 characters (botocore kms 2014-11-01
# AliasNameType, checked 2026-12-01).
ALIAS_NAME_MAX = 250
# What CloudWatch Logs needs on a log group's key (AWS's documented statement, as reproduced by
# https://gist.github.com/ystoneman/b11327f1508dfdac51224f030ccc6be3; the AWS page
# encrypt-log-data-kms.html itself was not retrievable: UNVERIFIED wording, 2026-12-01).
LOGS_ACTIONS = (
    "kms:Encrypt*",
    "kms:Decrypt*",
    "kms:ReEncrypt*",
    "kms:GenerateDataKey*",
    "kms:Describe*",
)


class KitKey(kms.Key):
    """A stack's key: symmetric, rotated, retained; service statements added once each."""

    def __init__(self, scope: Construct, construct_id: str, **kwargs: Any) -> None:
        super().__init__(scope, construct_id, **kwargs)
        self.service_sids: set[str] = set()

    def add_to_resource_policy(
        self, statement: iam.PolicyStatement, allow_no_op: bool | None = None
    ) -> iam.AddToResourcePolicyResult:
        """Every statement reaches the key policy through here, aws-cdk-lib's own included
        (a queue target's EventBridge grant, a state machine's log delivery): one that lets a
        service principal in with no condition is limited to this account's requests."""
        services = [p for p in statement.principals if isinstance(p, iam.ServicePrincipal)]
        if services and not statement.conditions:
            statement.add_condition("StringEquals", {"aws:SourceAccount": Aws.ACCOUNT_ID})
        return super().add_to_resource_policy(statement, allow_no_op)

    def allow_service(
        self,
        sid: str,
        *,
        service: str,
        actions: Sequence[str],
        conditions: Mapping[str, Mapping[str, Any]],
    ) -> None:
        """Let an AWS service principal use the key, only under ``conditions`` (never none)."""
        if not conditions:
            raise ValueError(f"{sid}: a service principal on a key needs a condition")
        if sid in self.service_sids:
            return
        self.service_sids.add(sid)
        self.add_to_resource_policy(
            iam.PolicyStatement(
                sid=sid,
                principals=[iam.ServicePrincipal(service)],
                actions=list(actions),
                resources=["*"],  # in a key policy "*" is this key
                conditions={k: dict(v) for k, v in conditions.items()},
            )
        )


def key_logical_id(stack: Stack) -> str:
    """``<StackId>Key``: the Knowledge stack keeps the ``KnowledgeKey`` it first deployed."""
    return f"{stack.node.id}Key"


def stack_key(scope: Construct, plan: StagePlan) -> KitKey | None:
    """The customer-managed key of ``scope``'s stack (made on first use), or ``None`` when the
    stage uses AWS-owned / AWS-managed keys (``encryption.customer_managed_keys``)."""
    if not plan.customer_managed_keys:
        return None
    stack = Stack.of(scope)
    found = stack.node.try_find_child(KEY_CONSTRUCT_ID)
    if found is not None:
        if not isinstance(found, KitKey):
            raise TypeError(f"{found.node.path} is not the stack's KitKey")
        return found
    key = KitKey(
        stack,
        KEY_CONSTRUCT_ID,
        description=f"{plan.kit_name} {plan.name}: {stack.node.id} stack (logs and data)",
        alias="alias/"
        + resource_name(plan.kit_name, plan.name, stack.node.id, max_length=ALIAS_NAME_MAX),
        enable_key_rotation=True,
        rotation_period=Duration.days(plan.config.encryption.rotation_period_days),
        # Retained: the key protects retained log groups, buckets and stores; deleting it
        # would make their data unreadable for good.
        removal_policy=RemovalPolicy.RETAIN,
    )
    cfn = key.node.default_child
    assert isinstance(cfn, kms.CfnKey)
    cfn.override_logical_id(key_logical_id(stack))
    return key


def allow_log_groups(key: KitKey, plan: StagePlan) -> None:
    """CloudWatch Logs (the regional principal) may use the key for this account's log groups
    in the stage's region only (the encryption context names the log group)."""
    key.allow_service(
        "CloudWatchLogsOfThisAccountAndRegion",
        service=f"logs.{plan.region}.amazonaws.com",
        actions=LOGS_ACTIONS,
        conditions={
            "ArnLike": {
                "kms:EncryptionContext:aws:logs:arn": (
                    f"arn:{Aws.PARTITION}:logs:{plan.region}:{Aws.ACCOUNT_ID}:log-group:*"
                )
            }
        },
    )


def key_statement(
    key_arn: str,
    *,
    sid: str,
    actions: Sequence[str],
    via: str | None,
    region: str,
) -> iam.PolicyStatement:
    """An IAM statement using one key for exact ``actions``, through the service ``via``
    (``kms:ViaService <via>.<region>.amazonaws.com``) when the key is used on the caller's
    behalf by a service that documents that key."""
    conditions = (
        {"StringEquals": {"kms:ViaService": f"{via}.{region}.amazonaws.com"}} if via else None
    )
    return iam.PolicyStatement(
        sid=sid, actions=list(actions), resources=[key_arn], conditions=conditions
    )


__all__ = [
    "KEY_CONSTRUCT_ID",
    "KitKey",
    "allow_log_groups",
    "key_logical_id",
    "key_statement",
    "stack_key",
]
