"""Reading resolved IAM policy documents: pure functions over the JSON CloudFormation gets.

A value CloudFormation computes at deploy time (``Ref``, ``Fn::GetAtt``, ``Fn::Join``...) is
left as the intrinsic it resolves to. Actions and condition keys are literals in every policy
CDK writes; an action that is an intrinsic is not matched (the rules say so where it matters).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from fnmatch import fnmatchcase
from typing import Any

# Operators under which a condition key restricts a request to the listed values; a negated
# operator ("StringNotEquals"...) or an ...IfExists one lets a request without the key through.
_POSITIVE_OPERATORS = ("stringequals", "stringlike", "arnequals", "arnlike")


def as_list(value: Any) -> list[Any]:
    """``value`` as a list (IAM allows a single value or a list almost everywhere)."""
    if value is None:
        return []
    return list(value) if isinstance(value, list | tuple) else [value]


def statements(document: Any) -> list[Mapping[str, Any]]:
    """The statements of a resolved policy document (none if it is not a literal document)."""
    if not isinstance(document, Mapping):
        return []
    return [s for s in as_list(document.get("Statement")) if isinstance(s, Mapping)]


def _patterns(statement: Mapping[str, Any], key: str) -> list[str]:
    return [a.lower() for a in as_list(statement.get(key)) if isinstance(a, str)]


def covers(statement: Mapping[str, Any], action: str) -> bool:
    """Whether ``statement`` names ``action`` (lower case), through a wildcard too; a
    ``NotAction`` statement covers every action it does not exclude."""
    if "NotAction" in statement:
        return not any(fnmatchcase(action, p) for p in _patterns(statement, "NotAction"))
    return any(fnmatchcase(action, p) for p in _patterns(statement, "Action"))


def covered(statement: Mapping[str, Any], actions: Iterable[str]) -> set[str]:
    """The members of ``actions`` that ``statement`` covers."""
    return {a for a in actions if covers(statement, a)}


def is_allow(statement: Mapping[str, Any]) -> bool:
    return statement.get("Effect") == "Allow"


def is_deny(statement: Mapping[str, Any]) -> bool:
    return statement.get("Effect") == "Deny"


def _conditions(statement: Mapping[str, Any]) -> Iterator[tuple[str, str]]:
    """(operator, key) pairs of the statement's condition block, both lower case; the
    ``ForAnyValue:``/``ForAllValues:`` set qualifiers are dropped from the operator."""
    block = statement.get("Condition")
    if not isinstance(block, Mapping):
        return
    for operator, keys in block.items():
        if not isinstance(keys, Mapping):
            continue
        op = str(operator).lower().split(":")[-1]
        for key in keys:
            yield op, str(key).lower()


def requires(statement: Mapping[str, Any], keys: Iterable[str]) -> bool:
    """Whether an Allow ``statement`` matches only requests carrying one of ``keys`` with a
    listed value: a positive operator, not ``...IfExists``."""
    wanted = set(keys)
    return any(op in _POSITIVE_OPERATORS and key in wanted for op, key in _conditions(statement))


def denies_unless(statement: Mapping[str, Any], keys: Iterable[str]) -> bool:
    """Whether a Deny ``statement`` applies when one of ``keys`` is absent or differs: a
    negated operator (``StringNotEquals``, ``StringNotEqualsIfExists``, ``ArnNotLike``...) on
    one of them, or ``Null: {key: true}``."""
    wanted = set(keys)
    for op, key in _conditions(statement):
        if key in wanted and ("not" in op or op == "null"):
            return True
    return False


def wildcard_resources(statement: Mapping[str, Any]) -> bool:
    """Whether an Allow ``statement`` applies to every resource: ``Resource: "*"`` or a
    ``NotResource``."""
    return "NotResource" in statement or "*" in as_list(statement.get("Resource"))


def bedrock_patterns(statement: Mapping[str, Any]) -> list[str]:
    """The statement's action patterns that can match a Bedrock action (``bedrock:...`` or a
    bare ``*``); for ``NotAction`` statements, ``["*"]`` unless every Bedrock action is
    excluded."""
    if "NotAction" in statement:
        return [] if not covers(statement, "bedrock:*") else ["*"]
    return [p for p in _patterns(statement, "Action") if _may_be_bedrock(p)]


def _may_be_bedrock(pattern: str) -> bool:
    service, colon, _ = pattern.partition(":")
    return pattern == "*" or (colon == ":" and fnmatchcase("bedrock", service))
