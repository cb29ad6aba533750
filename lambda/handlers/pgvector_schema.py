"""Custom resource (CDK Provider framework, ``onEvent``): the Aurora pgvector schema.

Create and Update run :func:`kit_runtime.pgvector.ensure_schema` through the RDS Data API with
the resource properties (:class:`kit_runtime.contracts.pgvector.PgvectorSchemaProperties`);
every statement is idempotent, so both re-run safely. Delete does nothing: the table and its
vectors stay in the cluster (retained like the cluster itself). An exception fails the
deployment and the Provider framework shows its message.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext
from botocore.exceptions import ClientError

from kit_runtime import custom_resource
from kit_runtime.contracts.pgvector import PgvectorSchemaProperties
from kit_runtime.observability import logger, tracer
from kit_runtime.pgvector import (
    DataApi,
    DbUser,
    SchemaError,
    cluster_clients,
    ensure_schema,
    read_user,
)


def parse_properties(value: Any) -> PgvectorSchemaProperties:
    """The event's ``ResourceProperties`` as the contract, or one clear error.

    Raises
    ------
    ValueError
        Names every property that does not match the contract.
    """
    return custom_resource.parse_properties(value, PgvectorSchemaProperties, "pgvector schema")


def physical_id(props: PgvectorSchemaProperties) -> str:
    """Stable while the cluster, database and table stay; a new table is a new resource."""
    cluster = props.ClusterArn.rsplit(":", 1)[-1]
    return f"pgvector:{cluster}/{props.Table.database}/{props.Table.qualified_name}"


def _read_user(secrets: Any, secret_arn: str) -> DbUser:
    try:
        secret = secrets.get_secret_value(SecretId=secret_arn)
    except ClientError as exc:
        error = exc.response.get("Error", {})
        raise SchemaError(
            f"secret {secret_arn}: {error.get('Code', 'error')}: {error.get('Message', '')}"
        ) from None
    return dataclasses.replace(read_user(secret), rotating=_rotating(secrets, secret_arn))


def _rotating(secrets: Any, secret_arn: str) -> bool:
    """Whether the secret has an ``AWSPENDING`` version: a rotation is under way."""
    try:
        pending = secrets.get_secret_value(SecretId=secret_arn, VersionStage="AWSPENDING")
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") == "ResourceNotFoundException":
            return False
        raise SchemaError(
            f"secret {secret_arn}: {exc.response.get('Error', {}).get('Code', 'error')}"
        ) from None
    return "AWSCURRENT" not in pending.get("VersionStages", [])


# The function is a KitFunction (X-Ray active where the stage traces): botocore's subsegments
# show which Data API call a slow or failed deployment waited on.
@logger.inject_lambda_context
@tracer.capture_lambda_handler(capture_response=False)
def handler(
    event: dict[str, Any],
    context: LambdaContext,
    *,
    client: Any | None = None,
    secrets: Any | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> dict[str, Any]:
    """Handle one CloudFormation custom resource event.

    Parameters
    ----------
    event:
        The Provider framework's ``onEvent`` payload.
    context:
        The Lambda context (its remaining time bounds the resume retries).
    client, secrets:
        ``rds-data`` and ``secretsmanager`` clients (tests); default: built for the cluster's
        region without SDK retries.
    sleep:
        Waits between retries (tests pass a recorder).

    Returns
    -------
    dict
        ``PhysicalResourceId`` and ``Data.TableName`` (``schema.table``, the knowledge base's
        ``tableName``).
    """
    request_type = custom_resource.request_type(event)
    if request_type == "Delete":
        return custom_resource.keep_on_delete(
            event,
            "delete: nothing to do; the table and its vectors are retained in the cluster "
            "(drop them by hand if no knowledge base needs them)",
        )
    props = parse_properties(event.get("ResourceProperties"))
    table = props.Table
    if client is None or secrets is None:
        default_client, default_secrets = cluster_clients(props.ClusterArn)
        client, secrets = client or default_client, secrets or default_secrets
    user = None
    if props.UserSecretArn is not None:
        user = _read_user(secrets, props.UserSecretArn)
    logger.info(
        "setting up pgvector table",
        extra={
            "request_type": request_type,
            "cluster": props.ClusterArn,
            "database": table.database,
            "table": table.qualified_name,
            "dimensions": table.dimensions,
            "user": None if user is None else user.name,
        },
    )

    def on_retry(code: str, attempt: int, delay: float) -> None:
        logger.warning(
            "data api not ready, retrying",
            extra={"error": code, "attempt": attempt, "delay_seconds": delay},
        )

    api = DataApi(
        client,
        cluster_arn=props.ClusterArn,
        secret_arn=props.SecretArn,
        database=table.database,
        remaining_seconds=lambda: context.get_remaining_time_in_millis() / 1000,
        sleep=sleep,
        on_retry=on_retry,
    )
    result = ensure_schema(
        api,
        table,
        user=user,
        on_statement=lambda purpose: logger.debug("running", extra={"statement": purpose}),
    )
    logger.info(
        "pgvector table ready",
        extra={"table_existed": result.table_existed, "statements": list(result.statements)},
    )
    return {"PhysicalResourceId": physical_id(props), "Data": {"TableName": table.qualified_name}}
