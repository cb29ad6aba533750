"""Encryption at rest: customer-managed KMS keys or the AWS-owned / AWS-managed defaults."""

from __future__ import annotations

from pydantic import Field

from stacks.config.base import Strict

# AWS::KMS::Key RotationPeriodInDays: 90-2560, default 365 (botocore kms 2014-11-01
# RotationPeriodInDaysType; cfn-lint registry schema of AWS::KMS::Key; checked 2026-12-01).
ROTATION_DAYS_MIN = 90
ROTATION_DAYS_MAX = 2560
ROTATION_DAYS_DEFAULT = 365


class EncryptionConfig(Strict):
    """How the stage encrypts what it stores (logs, documents, vectors, secrets, queues)."""

    customer_managed_keys: bool | None = None
    """``null``: on in a ``production`` stage, off otherwise. On: one customer-managed key per
    stack (rotated, retained) encrypts that stack's log groups, buckets, queues, tables,
    secrets, guardrail and stores; off: the services' AWS-owned or AWS-managed keys (not
    allowed in a ``production`` stage: ``encryption_problems``)."""
    rotation_period_days: int = Field(
        default=ROTATION_DAYS_DEFAULT, ge=ROTATION_DAYS_MIN, le=ROTATION_DAYS_MAX
    )
    """Days between automatic rotations of each key's material (KMS allows 90-2560)."""

    def customer_managed(self, production: bool) -> bool:
        """Whether the stage gets customer-managed keys (``null`` follows ``production``)."""
        return production if self.customer_managed_keys is None else self.customer_managed_keys


def encryption_problems(
    prefix: str, encryption: EncryptionConfig, *, production: bool
) -> list[str]:
    """A production stage keeps its customer-managed keys: NIST 800-53 R5 and the Bedrock pack
    check every log group, bucket, store and the guardrail for one, so turning them off would
    leave dozens of findings that no single acknowledgment could honestly explain."""
    if production and encryption.customer_managed_keys is False:
        return [
            f"{prefix}.encryption.customer_managed_keys: false is not allowed in a production "
            "stage (NIST 800-53 R5 and the Bedrock rule pack require customer-managed keys on "
            "its log groups, buckets, stores and guardrail, so synth would stop on their "
            "findings); allowed: true or null (leave it out), or production: false"
        ]
    return []
