"""Log groups of the kit: retained on delete, with the stage's retention."""

from __future__ import annotations

from aws_cdk import RemovalPolicy
from aws_cdk import aws_logs as logs
from constructs import Construct

from stacks.config.runtime import RETENTION_DAYS


def retention(days: int) -> logs.RetentionDays:
    """The CloudWatch retention enum for a day count the config loader has validated."""
    return getattr(logs.RetentionDays, RETENTION_DAYS[days])  # type: ignore[no-any-return]


def retained_log_group(scope: Construct, construct_id: str, *, days: int) -> logs.LogGroup:
    """A log group kept when its stack is deleted (logs outlive the code that wrote them)."""
    return logs.LogGroup(
        scope, construct_id, retention=retention(days), removal_policy=RemovalPolicy.RETAIN
    )
