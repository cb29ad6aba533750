"""API Gateway request models derived from the runtime's pydantic request models.

API Gateway validates bodies against JSON Schema draft 4, so the pydantic schema (draft 2020-12
with ``$defs``) is rewritten: references inlined, ``const`` as a one-value ``enum``, numeric
``exclusiveMinimum``/``exclusiveMaximum`` as draft 4's boolean form. The handler still checks
every request itself: API Gateway applies a model only to the content type it is mapped to.
"""

from __future__ import annotations

import copy
from typing import Any

from pydantic import BaseModel

DRAFT4 = "http://json-schema.org/draft-04/schema#"
_DROP = {"title", "$defs", "discriminator"}


def api_gateway_schema(model: type[BaseModel]) -> dict[str, Any]:
    """The draft-4 schema of ``model`` with every reference inlined."""
    schema = model.model_json_schema(mode="validation")
    defs = schema.get("$defs", {})
    draft4 = _rewrite(schema, defs, depth=0)
    draft4["$schema"] = DRAFT4
    return draft4


def _rewrite(node: Any, defs: dict[str, Any], depth: int) -> Any:
    if depth > 32:
        raise ValueError("request schema is recursive; API Gateway models cannot inline it")
    if isinstance(node, list):
        return [_rewrite(item, defs, depth) for item in node]
    if not isinstance(node, dict):
        return node
    if "$ref" in node:
        name = node["$ref"].rsplit("/", 1)[-1]
        merged = {**copy.deepcopy(defs[name]), **{k: v for k, v in node.items() if k != "$ref"}}
        return _rewrite(merged, defs, depth + 1)
    out: dict[str, Any] = {}
    for key, value in node.items():
        if key in _DROP:
            continue
        if key == "const":
            out["enum"] = [value]
        elif key in ("exclusiveMinimum", "exclusiveMaximum") and not isinstance(value, bool):
            out["minimum" if key == "exclusiveMinimum" else "maximum"] = value
            out[key] = True
        elif key == "properties":
            out[key] = {name: _rewrite(sub, defs, depth) for name, sub in value.items()}
        else:
            out[key] = _rewrite(value, defs, depth)
    return out
