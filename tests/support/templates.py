"""Small readers over synthesized CloudFormation templates (imported by tests)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any


def statements(template: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    """Every IAM statement of a template: inline policies, roles' policies, managed policies."""
    for lid, res in template.get("Resources", {}).items():
        props = res.get("Properties", {})
        docs: list[dict[str, Any]] = []
        if res["Type"] in ("AWS::IAM::Policy", "AWS::IAM::ManagedPolicy"):
            docs.append(props.get("PolicyDocument", {}))
        if res["Type"] in ("AWS::IAM::Role", "AWS::IAM::User", "AWS::IAM::Group"):
            docs += [p.get("PolicyDocument", {}) for p in props.get("Policies", [])]
        for doc in docs:
            for st in doc.get("Statement", []):
                yield lid, st


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def render(value: Any) -> str:
    """A CloudFormation value as text, with intrinsic functions spelled out (for matching)."""
    if isinstance(value, str):
        return value
    if isinstance(value, dict) and "Fn::Join" in value:
        sep, parts = value["Fn::Join"]
        return sep.join(render(p) for p in parts)
    if isinstance(value, dict) and "Ref" in value:
        return "${" + value["Ref"] + "}"
    if isinstance(value, dict) and "Fn::GetAtt" in value:
        return "${" + ".".join(as_list(value["Fn::GetAtt"])) + "}"
    if isinstance(value, dict) and "Fn::GetStackOutput" in value:
        ref = value["Fn::GetStackOutput"]
        return "${Output:" + ref["StackName"] + "." + ref["OutputName"] + "}"
    if isinstance(value, dict) and "Fn::ImportValue" in value:
        return "${Import:" + render(value["Fn::ImportValue"]) + "}"
    return json.dumps(value, sort_keys=True)


def only(resources: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """The single resource of a lookup (fails listing what was found otherwise)."""
    assert len(resources) == 1, list(resources)
    return next(iter(resources.values()))


def tag_map(resource: dict[str, Any]) -> dict[str, str]:
    """A resource's tags as a dict, whichever form the resource type uses."""
    tags = resource["Properties"].get("Tags", [])
    if isinstance(tags, dict):
        return tags
    return {t["Key"]: t["Value"] for t in tags}
