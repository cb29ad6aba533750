"""What every config module shares: the strict base model, the error type and its messages."""

from __future__ import annotations

import json
from typing import Any, Literal, get_args, get_origin

from pydantic import BaseModel, ConfigDict
from pydantic.json_schema import JsonDict


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


PATTERN_IN_WORDS = "pattern_in_words"
"""The ``json_schema_extra`` key :func:`describe` reads a field's pattern in words from."""


def pattern_in_words(words: str) -> JsonDict:
    """``json_schema_extra`` for a ``Field(pattern=...)`` whose error should say ``words``
    (``a folder such as "docs/": ...``) instead of the regular expression.

    Examples
    --------
    >>> from pydantic import Field
    >>> prefix = Field(pattern=r"^[^/].*/$", json_schema_extra=pattern_in_words("a folder"))
    """
    return {PATTERN_IN_WORDS: words}


def _pattern_words(root: type[BaseModel], loc: tuple[Any, ...]) -> str | None:
    field, _ = _walk(root, loc)
    extra = getattr(field, "json_schema_extra", None)
    words = extra.get(PATTERN_IN_WORDS) if isinstance(extra, dict) else None
    return words if isinstance(words, str) else None


_BOUND_WORDS = {"ge": ">=", "gt": ">", "le": "<=", "lt": "<"}


def _constraints(root: type[BaseModel], loc: tuple[Any, ...], value: Any = None) -> str:
    """The bounds a field declares (``>= 1, <= 10000``, ``1-200 characters``), if any."""
    field, _ = _walk(root, loc)
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
                noun = unit if length != 1 else unit.replace("entries", "entry")
                bounds.append(f"{word} {length} {noun}")
    return ", ".join(bounds)


def describe(prefix: str, root: type[BaseModel], err: Any) -> str:
    """One pydantic error as ``<key path>: <value> is not allowed: <what is>``."""
    loc = err["loc"]
    shown = clean_loc(root, tuple(loc))
    path = prefix + "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in shown)
    value = err.get("input")
    if err["type"] == "extra_forbidden":
        allowed = _allowed_keys(root, loc[:-1])
        return f"{path}: unknown key; allowed keys here: {', '.join(allowed)}"
    if err["type"] == "missing":
        return f"{path}: required key is missing"
    ctx = err.get("ctx") or {}
    if err["type"] in ("union_tag_invalid", "union_tag_not_found"):
        key = ctx.get("discriminator", "").strip("'")
        tags: str = ctx.get("expected_tags") or ", ".join(_tags(root, tuple(loc), key))
        if err["type"] == "union_tag_not_found":
            return f"{path}.{key}: required key is missing; allowed: {tags}"
        return f"{path}.{key}: {show(ctx.get('tag'))} is not allowed; allowed: {tags}"
    msg = err["msg"]
    if shown and shown[-1] == "[key]":  # a mapping key not among the allowed ones
        key_path = path.removesuffix(".[key]")
        allowed_keys = ctx.get("expected") or ctx.get("pattern") or "see the README"
        return f"{key_path}: unknown key; allowed keys here: {allowed_keys}"
    if err["type"] == "bool_type":
        return f"{path}: {show(value)} is not allowed; allowed: true, false"
    if ctx.get("pattern"):
        words = _pattern_words(root, tuple(loc))
        msg = f"expected {words}" if words else f"must match {ctx['pattern']}"
    elif ctx.get("expected"):
        msg = f"allowed: {ctx['expected']}"
    else:
        bounds = _constraints(root, loc, value)
        if bounds and err["type"] in ("too_long", "too_short"):
            msg = f"allowed: {bounds}"
        elif bounds:
            msg = f"{msg}; allowed: {bounds}"
    joiner = ";" if msg.startswith("allowed:") else ":"
    return f"{path}: {show(value)} is not allowed{joiner} {msg}"


def _allowed_keys(root: type[BaseModel], loc: tuple[Any, ...]) -> list[str]:
    _, model = _walk(root, loc)
    fields = getattr(model, "model_fields", {})
    return sorted(fields) if fields else ["(none)"]


def _walk(root: type[BaseModel], loc: tuple[Any, ...]) -> tuple[Any, Any]:
    """The field at ``loc`` and the model it holds, stepping through list indexes and the tag
    pydantic adds to the path of a discriminated union member (``chunking.fixed.max_tokens``)."""
    model: Any = root
    field = None
    for part in loc:
        if isinstance(part, int) or model is None:
            continue
        found = getattr(model, "model_fields", {}).get(part)
        if found is None and field is not None:
            member = _union_member(field.annotation, part)
            if member is not None:
                model = member
                continue
        field = found
        model = _model_in(field.annotation) if field is not None else None
    return field, model


def _union_member(annotation: Any, tag: str) -> Any:
    """The member of a discriminated union whose tag field (any Literal) equals ``tag``."""
    for arg in _flatten(annotation):
        if isinstance(arg, type) and issubclass(arg, BaseModel):
            for f in arg.model_fields.values():
                if get_origin(f.annotation) is Literal and tag in get_args(f.annotation):
                    return arg
    return None


def _flatten(annotation: Any) -> list[Any]:
    args = get_args(annotation) if get_origin(annotation) else ()
    if not args:
        return [annotation]
    return [leaf for arg in args for leaf in _flatten(arg)]


def _tags(root: type[BaseModel], loc: tuple[Any, ...], key: str) -> list[str]:
    field, _ = _walk(root, loc)
    if field is None:
        return []
    return [
        repr(tag)
        for arg in _flatten(field.annotation)
        if isinstance(arg, type) and issubclass(arg, BaseModel) and key in arg.model_fields
        for tag in get_args(arg.model_fields[key].annotation)
    ]


def clean_loc(root: type[BaseModel], loc: tuple[Any, ...]) -> tuple[Any, ...]:
    """``loc`` without the union tags pydantic inserts (they are not keys of the config)."""
    out: list[Any] = []
    for i, part in enumerate(loc):
        if isinstance(part, str) and i and _is_tag(root, loc[:i], part):
            continue
        out.append(part)
    return tuple(out)


def _is_tag(root: type[BaseModel], loc: tuple[Any, ...], part: str) -> bool:
    field, model = _walk(root, loc)
    if field is None or part in getattr(model, "model_fields", {}):
        return False
    return _union_member(field.annotation, part) is not None


def _model_in(annotation: Any) -> Any:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in get_args(annotation) if get_origin(annotation) else ():
        found = _model_in(arg)
        if found is not None:
            return found
    return None
