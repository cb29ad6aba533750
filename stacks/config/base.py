"""What every config module shares: the strict base model, the error type and its messages."""

from __future__ import annotations

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
    """A value as the user wrote it, cut short so a pasted blob does not flood the message."""
    text = repr(value)
    return text if len(text) <= limit else f"{text[: limit - 3]}..."


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
