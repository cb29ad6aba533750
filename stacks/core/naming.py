"""Names of generated resources: the kit's name first, CloudFormation's patterns, unique on
replacement. The name (``kit.name`` in cdk.json, default ``kit``) comes from the stage plan."""

from __future__ import annotations

import hashlib
import re


def digest(*parts: object, length: int = 8) -> str:
    """A short stable hash of ``parts`` (for names that must change with what they hold)."""
    text = "\x1f".join(str(p) for p in parts)
    return hashlib.sha256(text.encode()).hexdigest()[:length]


def stage_id(kit: str, stage: str) -> str:
    """The construct id (and stack-name prefix) of a stage, e.g. ``kit-dev``."""
    return f"{kit}-{stage}"


def resource_name(kit: str, *parts: str, max_length: int, unique_by: object | None = None) -> str:
    """A name of ``[0-9A-Za-z]`` words joined by single ``-``, at most ``max_length`` long.

    ``kit`` (the plan's ``kit_name``) comes first, so every resource of a fork carries its name.

    ``unique_by`` adds a digest of what the resource is made of, so a resource that
    CloudFormation must replace (an immutable property changed) gets a new name and the
    replacement never collides with the resource it replaces.
    """
    name = re.sub(r"[^0-9a-zA-Z]+", "-", "-".join((kit, *parts))).strip("-")
    suffix = f"-{digest(unique_by)}" if unique_by is not None else ""
    if len(name) + len(suffix) > max_length:
        cut = max_length - len(suffix) - 9
        name = f"{name[:cut].rstrip('-')}-{digest(name)}"
    return name + suffix


def description(text: str, *, max_length: int = 200) -> str:
    """Free text reduced to ``([0-9a-zA-Z:.][ _-]?)+`` (Bedrock profile descriptions).

    Other characters become spaces and runs of separators collapse to one (the pattern allows
    at most one between two words); leading and trailing separators are dropped.
    """
    cleaned = re.sub(r"[^0-9a-zA-Z:. _-]+", " ", text)
    cleaned = re.sub(r"[ _-]*([ _-])[ _-]*", r"\1", cleaned)
    cleaned = re.sub(r"^[ _-]+", "", cleaned)
    return cleaned[:max_length].rstrip(" _-") or "kit"
