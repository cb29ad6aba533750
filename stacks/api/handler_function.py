"""The one way an endpoint builds its function: synchronous, within the API's time budget."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from aws_cdk import Duration
from aws_cdk import aws_lambda as lambda_
from constructs import Construct
from pydantic import BaseModel

from stacks.config import StagePlan
from stacks.core.function import KitFunction, Placement


def api_handler_function(
    scope: Construct,
    *,
    plan: StagePlan,
    code: lambda_.Code,
    handler: str,
    service: str,
    settings: BaseModel,
    upstream: str,
    log_logical_id: str,
    timeout_seconds: int | None = None,
    layers: Sequence[lambda_.ILayerVersion] = (),
    environment: Mapping[str, str] | None = None,
    placement: Placement | None = None,
) -> KitFunction:
    """A function behind API Gateway: invoked synchronously, outliving the gateway's
    integration timeout by a second, with the stage's reserved concurrency.

    Parameters
    ----------
    handler, service:
        The entry point (``handlers.<module>.handler``) and the Powertools service name.
    settings:
        The function's settings contract (``KIT_SETTINGS``).
    upstream:
        A digest of the cross-stack values the function reads (see :class:`KitFunction`).
    log_logical_id:
        The pinned logical id of its retained log group.
    timeout_seconds:
        Default: the gateway's integration timeout plus a second (a streamed answer has its
        own).
    layers, environment:
        Extra layers and environment variables (the streaming function's web adapter).
    placement:
        A private stage's VPC placement; ``None`` runs outside a VPC.
    """
    return KitFunction(
        scope,
        "Function",
        plan=plan,
        code=code,
        handler=handler,
        description=f"bedrock-cdk-kit {service} handler",
        service=service,
        invocation="sync",
        settings=settings,
        upstream=upstream,
        timeout=Duration.seconds(timeout_seconds or plan.function_timeout_seconds),
        reserved_concurrency=plan.config.runtime.reserved_concurrency,
        layers=tuple(layers),
        environment=dict(environment or {}),
        log_logical_id=log_logical_id,
        placement=placement,
    )
