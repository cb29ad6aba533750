"""Secrets Manager rotation function of the Bedrock user's Aurora secret (single user).

Each invocation runs one step of :class:`kit_runtime.pgvector_rotation.Rotation` for the one
secret named in the function's settings
(:class:`kit_runtime.contracts.pgvector.PgvectorRotationSettings`): the password changes
through the RDS Data API as the cluster's administrative secret, so the function needs no VPC.
Secrets Manager invokes it synchronously and retries the whole rotation when a step fails; a
failure before ``finishSecret`` leaves ``AWSCURRENT`` (and so Bedrock's login) as it was,
except after ``setSecret``, which the next attempt sets again.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from kit_runtime.contracts.pgvector import PgvectorRotationSettings
from kit_runtime.observability import logger, tracer
from kit_runtime.pgvector import DataApi, cluster_clients
from kit_runtime.pgvector_rotation import Rotation, parse_request
from kit_runtime.settings import read_settings


@logger.inject_lambda_context
@tracer.capture_lambda_handler(capture_response=False)
def handler(
    event: dict[str, Any],
    context: LambdaContext,
    *,
    settings: PgvectorRotationSettings | None = None,
    client: Any | None = None,
    secrets: Any | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> None:
    """Run one rotation step.

    Parameters
    ----------
    event:
        ``Step``, ``SecretId`` and ``ClientRequestToken`` from Secrets Manager.
    context:
        The Lambda context (its remaining time bounds the resume retries).
    settings:
        The function's settings (tests); default: ``KIT_SETTINGS``.
    client, secrets:
        ``rds-data`` and ``secretsmanager`` clients (tests); default: built for the cluster's
        region, the Data API one without SDK retries.
    sleep:
        Waits between Data API retries (tests pass a recorder).

    Raises
    ------
    RotationError, SchemaError
        The step failed: Secrets Manager records the failure and retries the rotation.
    """
    settings = settings or read_settings(PgvectorRotationSettings)
    request = parse_request(event)
    if client is None or secrets is None:
        default_client, default_secrets = cluster_clients(settings.cluster_arn)
        client, secrets = client or default_client, secrets or default_secrets
    where = {"step": request.step, "secret": request.secret_id, "version": request.token}

    def on_retry(code: str, attempt: int, delay: float) -> None:
        logger.warning(
            "data api not ready, retrying",
            extra={**where, "error": code, "attempt": attempt, "delay_seconds": delay},
        )

    api = DataApi(
        client,
        cluster_arn=settings.cluster_arn,
        secret_arn=settings.admin_secret_arn,
        database=settings.database,
        remaining_seconds=lambda: context.get_remaining_time_in_millis() / 1000,
        sleep=sleep,
        on_retry=on_retry,
    )
    rotation = Rotation(secrets, api, user_secret_arn=settings.user_secret_arn)
    try:
        result = rotation.run(request)
    except Exception as exc:
        logger.error("rotation step failed", extra={**where, "error": str(exc)})
        raise
    logger.info("rotation step ran", extra={**where, "outcome": result.outcome})
