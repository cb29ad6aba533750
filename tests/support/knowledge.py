"""Readers over a synthesized Knowledge stack (imported by tests).

Stateful knowledge resources carry pinned logical ids derived from the knowledge base's config
name (``my-kb`` -> ``MyKb``); tests find them by that scheme, spelled out here once.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from tests.support.synth import Synthesized
from tests.support.templates import as_list, render, statements


def kb_key(name: str) -> str:
    """The knowledge-base part of a pinned logical id."""
    return "".join(p[:1].upper() + p[1:] for p in re.split(r"[^0-9a-zA-Z]+", name) if p)


def refs(value: Any) -> set[str]:
    """Logical ids a CloudFormation value refers to (Ref, GetAtt, Fn::Sub variables)."""
    found: set[str] = set()
    if isinstance(value, dict):
        if "Ref" in value and not str(value["Ref"]).startswith("AWS::"):
            found.add(value["Ref"])
        if "Fn::GetAtt" in value:
            found.add(as_list(value["Fn::GetAtt"])[0])
        for v in value.values():
            found |= refs(v)
    elif isinstance(value, list):
        for v in value:
            found |= refs(v)
    return found


@dataclass
class KnowledgeBaseView:
    """One knowledge base of a synthesized stage: its resources and its role's statements."""

    config: Any
    template: dict[str, Any]
    knowledge_base: dict[str, Any]
    data_source: dict[str, Any]
    role_id: str

    @property
    def key(self) -> str:
        return kb_key(self.config.name)

    @property
    def resources(self) -> dict[str, dict[str, Any]]:
        return self.template["Resources"]

    def resource(self, suffix: str) -> dict[str, Any]:
        """The pinned resource ``<Key><suffix>`` of this knowledge base."""
        return self.resources[self.key + suffix]

    @property
    def role(self) -> dict[str, Any]:
        return self.resources[self.role_id]

    def role_statements(self) -> list[dict[str, Any]]:
        return [st for lid, st in statements(self.template) if lid == self.role_id]

    def statement(self, action: str) -> dict[str, Any]:
        found = [st for st in self.role_statements() if action in as_list(st["Action"])]
        assert len(found) == 1, (action, found)
        return found[0]

    def rendered_resources(self, action: str) -> list[str]:
        return [render(r) for r in as_list(self.statement(action)["Resource"])]


def knowledge_bases(stage: Synthesized) -> list[KnowledgeBaseView]:
    """Every configured knowledge base of ``stage`` with its synthesized resources."""
    template = stage.templates["Knowledge"]
    views = []
    for kb in stage.config.knowledge_bases:
        key = kb_key(kb.name)
        resource = template["Resources"][f"{key}KnowledgeBase"]
        role_id = as_list(resource["Properties"]["RoleArn"]["Fn::GetAtt"])[0]
        views.append(
            KnowledgeBaseView(
                config=kb,
                template=template,
                knowledge_base=resource,
                data_source=template["Resources"][f"{key}DataSource"],
                role_id=role_id,
            )
        )
    return views


def dimensions(stage: Synthesized, config: Any) -> int:
    """The vector size a knowledge base should get: configured, else the catalog's largest."""
    if config.embedding.dimensions is not None:
        return int(config.embedding.dimensions)
    return max(stage.plan.catalog.models[config.embedding.model].embedding_dimensions)
