"""What one capability hands another across stacks: values plus the revision that decides them.

A consumer takes these small handles instead of the producer's constructs, so capabilities stay
unaware of each other's classes. Each handle carries a ``revision``: a synth-time digest of
everything that decides its values. Values cross stacks as weak references
(``Fn::GetStackOutput``), which CloudFormation re-reads only when the consuming resource
changes, so every consumer writes the revision into what it configures (docs/decisions.md).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from stacks.core.function import Placement


@dataclass(frozen=True)
class GuardrailHandle:
    """The stage's guardrail and its pinned version."""

    arn: str
    version: str
    version_arn: str
    """``<guardrail arn>:<version>``, the value of the ``bedrock:GuardrailIdentifier`` key."""
    revision: str
    key_arn: str | None = None
    """The guardrail's customer-managed key (invokers need ``kms:Decrypt``), if it has one."""
    contextual_grounding: bool = False
    """The guardrail has a contextual grounding policy: RAG then sends the passages and the
    question as ``guardContent`` (``grounding_source`` / ``query``) so it checks the answers."""


@dataclass(frozen=True)
class GuardrailHandles:
    """Every guardrail of the stage by config name, and which one is the default.

    A request names one (``guardrail``) or gets the default; IAM allows invoking only with one
    of these pinned versions.
    """

    default: str
    """The config name of the stage's default guardrail (a key of ``by_name``)."""
    by_name: Mapping[str, GuardrailHandle]
    revision: str

    @classmethod
    def single(cls, handle: GuardrailHandle, name: str = "default") -> GuardrailHandles:
        """A stage with one guardrail (``handle``), named ``name``."""
        return cls(default=name, by_name={name: handle}, revision=handle.revision)

    @property
    def default_handle(self) -> GuardrailHandle:
        """The default guardrail's handle."""
        return self.by_name[self.default]

    @property
    def arns(self) -> list[str]:
        """Every guardrail's ARN (``bedrock:ApplyGuardrail`` resources)."""
        return [h.arn for h in self.by_name.values()]

    @property
    def version_arns(self) -> list[str]:
        """Every pinned ``<arn>:<version>``: the allowed ``bedrock:GuardrailIdentifier`` values."""
        return [h.version_arn for h in self.by_name.values()]

    @property
    def key_arns(self) -> list[str]:
        """The guardrails' customer-managed keys, each once (invokers need ``kms:Decrypt``)."""
        keys: list[str] = []
        for handle in self.by_name.values():
            if handle.key_arn is not None and handle.key_arn not in keys:
                keys.append(handle.key_arn)
        return keys


@dataclass(frozen=True)
class ProfileHandles:
    """The stage's application inference profile ARNs, by model id."""

    arns: Mapping[str, str]
    revision: str


@dataclass(frozen=True)
class KnowledgeBaseHandle:
    """One knowledge base, its data source and where its documents live."""

    name: str
    """The config name (``knowledge_bases[].name``), the key API callers use."""
    id: str
    arn: str
    data_source_id: str
    bucket_name: str
    bucket_arn: str
    prefix: str
    """The data source's folder (ends with ``/``)."""
    tenant_key: str | None
    revision: str


@dataclass(frozen=True)
class KnowledgeHandles:
    """The stage's knowledge bases, by config name."""

    bases: Mapping[str, KnowledgeBaseHandle]
    revision: str


@dataclass(frozen=True)
class NetworkHandles:
    """A private stage's network: where the kit's functions run and the endpoints they use.

    ``None`` in its place means the stage has no network (``network.mode: none``).
    """

    placement: Placement
    """The VPC, subnets and the kit's function security group."""
    endpoint_ids: Mapping[str, str]
    """VPC endpoint id by service suffix (``bedrock-runtime``, ``execute-api``, ``s3``...)."""
    vpc_id: str
    revision: str
    bedrock_deny_region: str | None = None
    """Set when the roles' deny of Bedrock calls from outside the endpoints applies only to
    requests to this region (``network.bedrock_deny_scope: stage-region``)."""
