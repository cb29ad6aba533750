"""Secrets Manager rotation for the tests: moto's Secrets Manager, and the service's own part.

When a rotation starts, Secrets Manager adds a version labelled ``AWSPENDING`` with no value
yet and then invokes the rotation function with that version's id for each step, stopping at
the first failing step (AWS Secrets Manager user guide, "Rotation by Lambda function",
docs.aws.amazon.com/secretsmanager/latest/userguide/rotate-secrets_lambda.html, checked
2026-12-01; ``RotateSecret``: "the AWSPENDING staging label might be attached to an empty
secret version"). moto's ``RotateSecret`` either invokes the function through its Lambda
emulation (Docker) or, without a function, labels the new version ``AWSCURRENT`` at once, so
:func:`begin_rotation` sets the service's starting state in moto's backend instead; every call
the function makes then goes through real boto3 to moto.
"""

from __future__ import annotations

import time
import uuid
from typing import Any

from moto.core import DEFAULT_ACCOUNT_ID
from moto.secretsmanager.models import FakeSecret, secretsmanager_backends

REGION = "us-east-1"
ROTATION_FUNCTION_ARN = "arn:aws:lambda:us-east-1:123456789012:function:kit-test-rotation"


def begin_rotation(secret_arn: str, *, region: str = REGION) -> str:
    """Start a rotation of ``secret_arn`` as Secrets Manager does; the new version's id.

    Rotation is marked enabled, any older ``AWSPENDING`` label is dropped and a version
    without a value is labelled ``AWSPENDING``. Call inside ``moto.mock_aws()``.
    """
    backend = secretsmanager_backends[DEFAULT_ACCOUNT_ID][region]
    secret = backend.secrets[secret_arn]
    assert isinstance(secret, FakeSecret), f"{secret_arn} is a replica"
    secret.rotation_requested = True  # moto: DescribeSecret then shows the rotation fields
    secret.rotation_enabled = True
    secret.rotation_lambda_arn = ROTATION_FUNCTION_ARN
    secret.auto_rotate_after_days = 30
    secret.remove_version_stages_from_old_versions(["AWSPENDING"])
    token = str(uuid.uuid4())
    secret.versions[token] = {
        "createdate": int(time.time()),
        "version_id": token,
        "version_stages": ["AWSPENDING"],
    }
    return token


def stages(client: Any, secret_arn: str) -> dict[str, list[str]]:
    """``DescribeSecret``'s version id -> staging labels."""
    versions: dict[str, list[str]] = client.describe_secret(SecretId=secret_arn)[
        "VersionIdsToStages"
    ]
    return {k: sorted(v) for k, v in versions.items()}


__all__ = ["REGION", "ROTATION_FUNCTION_ARN", "begin_rotation", "stages"]
