"""What every config module shares: the strict base model, the error type and its messages."""

from __future__ import annotations

import json
from typing import Any, get_args, get_origin

from pydantic import BaseModel, ConfigDict


class ConfigError(Exception):
    """Raised for any invalid configuration; ``str()`` is the message shown to the user."""

    def __init__(self, problems: list[str]):
        self.problems = list(dict.fromkeys(problems))
        lines = "\n".join(f"  - {p}" for p in self.problems)
        super().__init__(f"Invalid configuration ({len(self.problems)} problem(s)):\n{lines}")


class Strict(BaseModel):
    """A config block: unknown keys are errors (a typo must fail synth), values immutable."""

    # strict=True: `true` is not a number and "5" is not an integer in cdk.json.
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)


def show(value: Any, limit: int = 80) -> str:
    """A value as written in cdk.json (JSON spelling: true, null, "text" as 'text'), cut short
    so a pasted blob does not flood the message."""
    if isinstance(value, bool) or value is None:
        text = json.dumps(value)
    elif isinstance(value, float) and value.is_integer():
        text = str(int(value))
    elif isinstance(value, (dict, list, tuple)):
        text = json.dumps(value, default=str)
    else:
        text = repr(value)
    return text if len(text) <= limit else f"{text[: limit - 3]}..."


_BOUND_WORDS = {"ge": ">=", "gt": ">", "le": "<=", "lt": "<"}


def _constraints(root: type[BaseModel], loc: tuple[Any, ...], value: Any = None) -> str:
    """The bounds a field declares (``>= 1, <= 10000``, ``1-200 characters``), if any."""
    model: Any = root
    field = None
    for part in loc:
        if isinstance(part, int) or model is None:
            continue
        field = getattr(model, "model_fields", {}).get(part)
        model = _model_in(field.annotation) if field is not None else None
    if field is None:
        return ""
    bounds = []
    for meta in field.metadata:
        for name, word in _BOUND_WORDS.items():
            bound = getattr(meta, name, None)
            if bound is not None:
                bounds.append(f"{word} {show(bound)}")
        unit = "entries" if isinstance(value, (list, tuple, dict)) else "characters"
        for name, word in (("min_length", "at least"), ("max_length", "at most")):
            length = getattr(meta, name, None)
            if length is not None:
                bounds.append(f"{word} {length} {unit}")
    return ", ".join(bounds)


def describe(prefix: str, root: type[BaseModel], err: Any) -> str:
    """One pydantic error as ``<key path>: <value> is not allowed: <what is>``."""
    loc = err["loc"]
    path = prefix + "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in loc)
    value = err.get("input")
    if err["type"] == "extra_forbidden":
        allowed = _allowed_keys(root, loc[:-1])
        return f"{path}: unknown key; allowed keys here: {', '.join(allowed)}"
    if err["type"] == "missing":
        return f"{path}: required key is missing"
    msg = err["msg"]
    ctx = err.get("ctx") or {}
    if ctx.get("pattern"):
        msg = f"must match {ctx['pattern']}"
    elif ctx.get("expected"):
        msg = f"allowed: {ctx['expected']}"
    else:
        bounds = _constraints(root, loc, value)
        if bounds:
            msg = f"{msg}; allowed: {bounds}"
    return f"{path}: {show(value)} is not allowed: {msg}"


def _allowed_keys(root: type[BaseModel], loc: tuple[Any, ...]) -> list[str]:
    model: Any = root
    for part in loc:
        if isinstance(part, int) or model is None:
            continue
        field = getattr(model, "model_fields", {}).get(part)
        model = _model_in(field.annotation) if field is not None else None
    fields = getattr(model, "model_fields", {})
    return sorted(fields) if fields else ["(none)"]


def _model_in(annotation: Any) -> Any:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in get_args(annotation) if get_origin(annotation) else ():
        found = _model_in(arg)
        if found is not None:
            return found
    return None
