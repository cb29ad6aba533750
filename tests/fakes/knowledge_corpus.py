"""The knowledge-base half of the fake Bedrock: an in-memory corpus searched like ``Retrieve``.

Filters are evaluated for real, with the semantics of botocore's ``bedrock-agent-runtime``
``RetrievalFilter`` documentation (2023-07-26 model, checked 2026-12-01): ``notEquals`` also
matches documents without the key; every other comparison needs the key; ``in``/``notIn``
take a list; ``listContains`` looks into a list value; ``stringContains`` into a string or a
list's strings; ``andAll``/``orAll`` need at least two filters. A filter object holds exactly
one operator. Keys match case-sensitively and values by JSON type (``1`` is not ``"1"``, ``true``
is not ``1``): assumptions of the fake, not documented service facts.

Scores are deterministic: the share of the query's words found in the chunk, ties in insertion
order, so tests can predict the order of results.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

DATA_SOURCE_ID = "FAKEDS0001"
MAX_RESULTS = 100
MAX_QUERY_CHARS = 20_000
_WORD = re.compile(r"[a-z0-9]+")

_SCALAR_OPS = {"equals", "notEquals", "listContains"}
_NUMBER_OPS = {"greaterThan", "greaterThanOrEquals", "lessThan", "lessThanOrEquals"}
_LIST_OPS = {"in", "notIn"}
_STRING_OPS = {"startsWith", "stringContains"}
_GROUP_OPS = {"andAll", "orAll"}
OPERATORS = _SCALAR_OPS | _NUMBER_OPS | _LIST_OPS | _STRING_OPS | _GROUP_OPS


class FilterInvalid(ValueError):
    """The filter is one the service refuses (``ValidationException``)."""


@dataclass
class Chunk:
    """One chunk of a document, as a knowledge base stores it."""

    text: str
    uri: str
    metadata: dict[str, Any] = field(default_factory=dict)
    chunk_id: str = ""


def words(text: str) -> set[str]:
    return set(_WORD.findall(text.lower()))


def score(query: str, chunk: Chunk) -> float:
    """The share of the query's words the chunk holds (0 to 1)."""
    asked = words(query)
    return round(len(asked & words(chunk.text)) / len(asked), 6) if asked else 0.0


def check_filter(node: Any, path: str = "filter") -> None:
    """Raise :class:`FilterInvalid` for a filter the service would refuse."""
    if not isinstance(node, dict) or len(node) != 1:
        raise FilterInvalid(f"{path}: a RetrievalFilter must set exactly one operator")
    ((op, operand),) = node.items()
    if op not in OPERATORS:
        raise FilterInvalid(f"{path}: unknown operator {op}")
    if op in _GROUP_OPS:
        if not isinstance(operand, list) or len(operand) < 2:
            raise FilterInvalid(f"{path}.{op}: must hold at least 2 filters")
        for i, child in enumerate(operand):
            check_filter(child, f"{path}.{op}[{i}]")
        return
    if not isinstance(operand, dict) or set(operand) != {"key", "value"}:
        raise FilterInvalid(f"{path}.{op}: needs exactly key and value")
    key, value = operand["key"], operand["value"]
    if not isinstance(key, str) or not 1 <= len(key) <= 100:
        raise FilterInvalid(f"{path}.{op}.key: 1 to 100 characters")
    if op in _LIST_OPS and not isinstance(value, list):
        raise FilterInvalid(f"{path}.{op}.value: must be a list")
    if op in _NUMBER_OPS and not _is_number(value):
        raise FilterInvalid(f"{path}.{op}.value: must be a number")
    if op in _STRING_OPS and not isinstance(value, str):
        raise FilterInvalid(f"{path}.{op}.value: must be a string")


def matches(node: dict[str, Any], metadata: dict[str, Any]) -> bool:
    """Whether a document with ``metadata`` passes the (valid) filter ``node``."""
    ((op, operand),) = node.items()
    if op == "andAll":
        return all(matches(child, metadata) for child in operand)
    if op == "orAll":
        return any(matches(child, metadata) for child in operand)
    key, value = operand["key"], operand["value"]
    present = key in metadata
    have = metadata.get(key)
    if op == "notEquals":
        return not present or not _same(have, value)
    if not present:
        return False
    if op == "equals":
        return _same(have, value)
    if op == "in":
        return any(_same(have, v) for v in value)
    if op == "notIn":
        return not any(_same(have, v) for v in value)
    if op in _NUMBER_OPS:
        if not _is_number(have):
            return False
        return {
            "greaterThan": have > value,
            "greaterThanOrEquals": have >= value,
            "lessThan": have < value,
            "lessThanOrEquals": have <= value,
        }[op]
    if op == "startsWith":
        return isinstance(have, str) and have.startswith(value)
    if op == "stringContains":
        if isinstance(have, list):
            return any(isinstance(v, str) and value in v for v in have)
        return isinstance(have, str) and value in have
    # listContains
    return isinstance(have, list) and any(_same(v, value) for v in have)


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _same(have: Any, want: Any) -> bool:
    if isinstance(have, bool) or isinstance(want, bool):
        return type(have) is type(want) and have == want
    if _is_number(have) and _is_number(want):
        return bool(have == want)
    return type(have) is type(want) and have == want


def search(corpus: list[Chunk], body: dict[str, Any], *, knowledge_base_id: str) -> dict[str, Any]:
    """The ``RetrieveResponse`` for ``body`` over ``corpus``.

    Raises
    ------
    FilterInvalid
        The request is one the service refuses (a bad filter, query or result count).
    """
    query = (body.get("retrievalQuery") or {}).get("text")
    if not isinstance(query, str) or len(query) > MAX_QUERY_CHARS:
        raise FilterInvalid(f"retrievalQuery.text: a string of at most {MAX_QUERY_CHARS} chars")
    vector = (body.get("retrievalConfiguration") or {}).get("vectorSearchConfiguration") or {}
    count = vector.get("numberOfResults", 5)
    if not isinstance(count, int) or not 1 <= count <= MAX_RESULTS:
        raise FilterInvalid(f"numberOfResults: 1 to {MAX_RESULTS}")
    wanted = vector.get("filter")
    if wanted is not None:
        check_filter(wanted)
    ranked = sorted(
        (
            (score(query, chunk), i, chunk)
            for i, chunk in enumerate(corpus)
            if wanted is None or matches(wanted, chunk.metadata)
        ),
        key=lambda item: (-item[0], item[1]),
    )
    return {
        "retrievalResults": [
            {
                "content": {"type": "TEXT", "text": chunk.text},
                "location": {"type": "S3", "s3Location": {"uri": chunk.uri}},
                "metadata": {
                    **chunk.metadata,
                    "x-amz-bedrock-kb-source-uri": chunk.uri,
                    "x-amz-bedrock-kb-chunk-id": chunk.chunk_id or f"{knowledge_base_id}-{i}",
                    "x-amz-bedrock-kb-data-source-id": DATA_SOURCE_ID,
                },
                "score": value,
            }
            for value, i, chunk in ranked[:count]
        ]
    }
