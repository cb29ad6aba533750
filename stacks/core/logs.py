"""Log groups of the kit: retained on delete, with the stage's retention."""

from __future__ import annotations

from aws_cdk import CfnResource, RemovalPolicy
from aws_cdk import aws_logs as logs
from constructs import Construct

from stacks.config import StagePlan
from stacks.config.runtime import RETENTION_DAYS
from stacks.core.keys import allow_log_groups, stack_key


def retention(days: int) -> logs.RetentionDays:
    """The CloudWatch retention enum for a day count the config loader has validated."""
    retention_days: logs.RetentionDays = getattr(logs.RetentionDays, RETENTION_DAYS[days])
    return retention_days


def retained_log_group(
    scope: Construct, construct_id: str, *, plan: StagePlan, logical_id: str | None = None
) -> logs.LogGroup:
    """A log group kept when its stack is deleted (logs outlive the code that wrote them),
    with the stage's retention, encrypted with its stack's key when the stage has
    customer-managed keys (``encryption``).

    ``logical_id`` pins the CloudFormation logical id, so moving the construct in the tree
    never replaces the group (a replaced group would be orphaned, its logs kept but unused).
    """
    key = stack_key(scope, plan)
    if key is not None:
        allow_log_groups(key, plan)
    group = logs.LogGroup(
        scope,
        construct_id,
        retention=retention(plan.config.runtime.log_retention_days),
        encryption_key=key,
        removal_policy=RemovalPolicy.RETAIN,
    )
    if logical_id is not None:
        pin_logical_id(group, logical_id)
    return group


def pin_logical_id(construct: Construct, logical_id: str) -> None:
    """Give a stateful resource a fixed logical id, whatever its path in the construct tree."""
    child = construct.node.default_child
    if not isinstance(child, CfnResource):
        raise TypeError(f"{construct.node.path} has no CloudFormation resource to pin")
    child.override_logical_id(logical_id)
