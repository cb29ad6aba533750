"""What README's configuration reference names: tests check that every config key is there."""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path

from pydantic import BaseModel

README = Path(__file__).resolve().parents[2] / "README.md"


def undocumented_keys(blocks: Iterable[type[BaseModel]]) -> list[str]:
    """``Block.field`` for each field of ``blocks`` that README never names as a key: the name
    between key-like delimiters (a dot, backtick, brace, bar or space before it; a dot,
    backtick, slash, colon, space or ``>`` after it)."""
    readme = README.read_text(encoding="utf-8")
    return [
        f"{block.__name__}.{field}"
        for block in blocks
        for field in block.model_fields
        if not re.search(rf"[.…`{{ <|]{field}[.`/: \\>]", readme)
    ]
