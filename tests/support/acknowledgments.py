"""The cdk-nag acknowledgments a synthesized stage carries, read from its cloud assembly."""

from __future__ import annotations

import json
from pathlib import Path

# Where aws-cdk-lib's Validations.acknowledge records a rule and its reason (construct metadata,
# written into each stack's <artifact>.metadata.json).
METADATA_TYPE = "aws:cdk:acknowledged-rules"


def acknowledgments(outdir: Path) -> dict[str, dict[str, str]]:
    """Construct path -> {rule id -> reason}, for every acknowledgment in the assembly under
    ``outdir``; rule ids without the namespace CDK may prefix (``Annotation::``)."""
    found: dict[str, dict[str, str]] = {}
    for file in outdir.rglob("*.metadata.json"):
        for path, entries in json.loads(file.read_text()).items():
            for entry in entries:
                if entry.get("type") == METADATA_TYPE:
                    for rule, reason in entry["data"].items():
                        found.setdefault(path.lstrip("/"), {})[rule.rsplit("::", 1)[-1]] = reason
    return found


def reasons(outdir: Path, rule: str) -> dict[str, str]:
    """Construct path -> reason of every acknowledgment of ``rule``."""
    return {
        path: by_rule[rule] for path, by_rule in acknowledgments(outdir).items() if rule in by_rule
    }


def construct_paths(template: Path) -> dict[str, str]:
    """Logical id -> construct path of the resources of one synthesized ``template`` (read from
    the metadata file CDK writes beside it)."""
    metadata = template.with_name(template.name.replace(".template.json", ".metadata.json"))
    return {
        entry["data"]: path.lstrip("/")
        for path, entries in json.loads(metadata.read_text()).items()
        for entry in entries
        if entry.get("type") == "aws:cdk:logicalId"
    }
