"""Which VPC endpoints a private stage needs: derived from what it enables, never a fixed list.

Every kit function placed in the VPC is listed with the AWS services its code calls (the boto3
clients it creates, read from ``lambda/``); the stage's endpoints are the union over the
functions it deploys, plus ``execute-api`` for its private REST API. Pure: no CDK, no AWS.

What the functions call (``lambda/``, checked 2026-12-01):

- chat, chat stream (``kit_runtime.bedrock.runtime_client``): ``bedrock-runtime``;
- rag: ``bedrock-runtime`` and ``bedrock-agent-runtime``; retrieve: ``bedrock-agent-runtime``;
- ingestion trigger and report (``handlers.ingestion.default_runtime``): ``dynamodb``,
  ``bedrock-agent`` (Start/Get/ListIngestionJobs) and ``stepfunctions`` (endpoint ``states``);
- pgvector schema and rotation (``kit_runtime.pgvector.cluster_clients``): ``rds-data`` and
  ``secretsmanager``.

Not needed, and why (docs/research/private-networking-aws-facts.md section 6):

- ``logs``: Lambda ships a function's stdout to CloudWatch Logs itself, and Powertools metrics
  are embedded-metric-format lines in that log: no function calls the Logs or CloudWatch
  (``monitoring``) API. ``sts``: credentials come from the Lambda environment; no code calls
  STS. ``kms``: no code calls KMS; Secrets Manager, DynamoDB and S3 decrypt on the service side.
- ``s3vectors``: the vector indexes are created by CloudFormation and used by Bedrock from the
  service side; no kit function calls S3 Vectors.
- ``aoss``: no kit function calls OpenSearch Serverless at run time (CloudFormation creates the
  index, Bedrock reads it from the service side, allowed by the collection's network policy's
  ``SourceServices``), so no OpenSearch Serverless-managed endpoint (docs/decisions.md).
- ``bedrock`` (control plane), ``lambda``, ``states`` for custom resources: the Platform and
  Guardrails custom resources and every CDK Provider framework function stay outside the VPC
  (docs/decisions.md); inside it, the pgvector schema function is invoked by its (outside)
  Provider, which also sends CloudFormation's response.

``xray``: with ``runtime.tracing`` on, the X-Ray SDK hands segments to the daemon Lambda runs;
whether they then leave through the function's VPC interface is not stated on an AWS page in the
sources at hand (a third-party article says traces are lost without an endpoint or NAT:
https://cloudnugget.dev/faq/x-ray-with-vpc-and-private-services-tracing-when-lambda-cannot-reach-
x-ray-endpoint/, UNVERIFIED, 2026-12-01), so a traced private stage gets the ``xray`` endpoint;
``runtime.tracing: false`` drops it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from stacks.config.knowledge import AuroraPgvectorStore
from stacks.config.stage import StageConfig

FUNCTION_CALLS: Mapping[str, frozenset[str]] = {
    "chat": frozenset({"bedrock-runtime"}),
    "chat-stream": frozenset({"bedrock-runtime"}),
    "guardrail-check": frozenset({"bedrock-runtime"}),
    "rag": frozenset({"bedrock-runtime", "bedrock-agent-runtime"}),
    "retrieve": frozenset({"bedrock-agent-runtime"}),
    "ingestion-trigger": frozenset({"bedrock-agent", "states", "dynamodb"}),
    "ingestion-report": frozenset({"bedrock-agent", "states", "dynamodb"}),
    "pgvector-schema": frozenset({"rds-data", "secretsmanager"}),
    "pgvector-rotation": frozenset({"rds-data", "secretsmanager"}),
}
"""AWS services (as endpoint suffixes) each kit function in the VPC calls."""

GATEWAY_SERVICES = frozenset({"s3", "dynamodb"})
"""Services reached through free gateway endpoints (route-table entries) instead of interfaces."""


@dataclass(frozen=True)
class RequiredEndpoints:
    """The endpoints of a private stage, by service suffix (``com.amazonaws.<region>.<suffix>``)."""

    interface: tuple[str, ...]
    gateway: tuple[str, ...]

    @property
    def all(self) -> tuple[str, ...]:
        return self.interface + self.gateway


def vpc_functions(config: StageConfig) -> tuple[str, ...]:
    """The kit functions a stage deploys in its VPC (names of :data:`FUNCTION_CALLS`)."""
    names = ["chat", "chat-stream", "guardrail-check"]
    if config.knowledge_bases:
        names += ["rag", "retrieve", "ingestion-trigger", "ingestion-report"]
    stores = [kb.vector_store for kb in config.knowledge_bases]
    aurora = [s for s in stores if isinstance(s, AuroraPgvectorStore)]
    if aurora:
        names.append("pgvector-schema")
    if any(_rotated(s, config.production) for s in aurora):
        names.append("pgvector-rotation")
    return tuple(names)


def required_endpoints(config: StageConfig) -> RequiredEndpoints:
    """The VPC endpoints a private stage needs for what it enables.

    Interface endpoints: the services the stage's VPC functions call, ``execute-api`` (the
    private REST API) and ``xray`` when the functions are traced. Gateway endpoints:
    ``dynamodb`` when a VPC function calls it; ``s3`` when the stage has knowledge bases (their
    document buckets accept object reads and writes only through it, docs/decisions.md).
    """
    services: set[str] = set().union(*(FUNCTION_CALLS[f] for f in vpc_functions(config)))
    services.add("execute-api")
    if config.runtime.tracing:
        services.add("xray")
    if config.knowledge_bases:
        services.add("s3")
    return RequiredEndpoints(
        interface=tuple(sorted(services - GATEWAY_SERVICES)),
        gateway=tuple(sorted(services & GATEWAY_SERVICES)),
    )


def _rotated(store: AuroraPgvectorStore, production: bool) -> bool:
    return production if store.rotate_secret is None else store.rotate_secret


__all__ = [
    "FUNCTION_CALLS",
    "GATEWAY_SERVICES",
    "RequiredEndpoints",
    "required_endpoints",
    "vpc_functions",
]
