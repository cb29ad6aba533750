"""What every vector store and the knowledge-base construct share: pinned ids and the store
interface.

Stateful resources get readable logical ids derived from the knowledge base's config name
(``tests/infra/gates/test_pinned_ids.py`` spells the scheme out), so refactoring the construct
tree never replaces a store, and renaming a knowledge base is visibly a new one.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Protocol

from aws_cdk import CfnDeletionPolicy, CfnResource
from aws_cdk import aws_bedrock as bedrock
from aws_cdk import aws_iam as iam
from constructs import Construct, IConstruct

from stacks.config import StagePlan
from stacks.config.base import ConfigError


def pascal(name: str) -> str:
    """``my-kb`` -> ``MyKb``: the knowledge-base part of a pinned logical id."""
    return "".join(part[:1].upper() + part[1:] for part in re.split(r"[^0-9a-zA-Z]+", name) if part)


def check_unique_ids(plan: StagePlan) -> None:
    """Fail synth when two knowledge-base names give the same pinned logical id.

    ``a-1`` and ``a1`` both give ``A1``: the second would silently take over the first's
    resources.
    """
    seen: dict[str, str] = {}
    for i, kb in enumerate(plan.knowledge_bases):
        key = pascal(kb.name)
        if key in seen:
            raise ConfigError(
                [
                    f"stages.{plan.name}.knowledge_bases[{i}].name: {kb.name!r} is not allowed "
                    f"next to {seen[key]!r}: both give the resource id {key!r}; rename one"
                ]
            )
        seen[key] = kb.name


def pin(
    resource: IConstruct, logical_id: str, *, replace_policy: CfnDeletionPolicy | None = None
) -> None:
    """Give ``resource`` (an L1 or the default child of an L2) a fixed logical id and RETAIN.

    ``replace_policy`` overrides what happens to the old resource when CloudFormation replaces
    it (default: retained too).
    """
    cfn = resource if isinstance(resource, CfnResource) else resource.node.default_child
    assert isinstance(cfn, CfnResource), resource.node.path
    cfn.override_logical_id(logical_id)
    cfn.cfn_options.deletion_policy = CfnDeletionPolicy.RETAIN
    cfn.cfn_options.update_replace_policy = replace_policy or CfnDeletionPolicy.RETAIN


def pin_tree(scope: IConstruct, prefix: str) -> None:
    """Pin every L1 resource under ``scope`` as ``prefix`` + its path below ``scope``.

    For L2 constructs made of several resources (a VPC's subnets and route tables) that a
    stateful resource depends on: a new id for any of them would replace what stands on it.
    """
    base = len(scope.node.scopes)
    for child in scope.node.find_all():
        if isinstance(child, CfnResource):
            below = [s.node.id for s in child.node.scopes[base:]]
            parts = [p for p in below if p not in ("Resource", "Default")]
            pin(child, prefix + "".join(pascal(p) for p in parts))


class VectorStore(Protocol):
    """One knowledge base's vector store, as the knowledge base and its role need it."""

    identity: str
    """What decides the store's identity (names, sizes): a change replaces the knowledge base."""

    def storage_configuration(self) -> bedrock.CfnKnowledgeBase.StorageConfigurationProperty:
        """The knowledge base's ``StorageConfiguration``."""
        ...

    def statements(self) -> list[iam.PolicyStatement]:
        """What the knowledge-base role needs on this store, and nothing else."""
        ...

    def authorize(self, role: iam.IRole) -> Sequence[Construct]:
        """Grant ``role`` data access where the store has its own policy; returns what the
        knowledge base must wait for."""
        ...
