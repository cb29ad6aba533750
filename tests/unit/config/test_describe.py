"""Config error messages: a field may say its pattern in words instead of the regex."""

from __future__ import annotations

import pytest
from pydantic import Field, ValidationError

from stacks.config.base import Strict, describe, pattern_in_words


class Block(Strict):
    folder: str = Field(pattern=r"^[a-z]+/$", json_schema_extra=pattern_in_words("a folder"))
    code: str = Field(pattern=r"^[A-Z]{3}$")


class Outer(Strict):
    blocks: tuple[Block, ...]


def messages_for(data: object) -> list[str]:
    with pytest.raises(ValidationError) as raised:
        Outer.model_validate(data)
    return [describe("stage", Outer, e) for e in raised.value.errors(include_url=False)]


def test_given_a_pattern_in_words_when_it_fails_then_the_words_replace_the_regex() -> None:
    # Given a nested field that carries its pattern in words, and one that does not
    messages = messages_for({"blocks": ({"folder": "Nope", "code": "abc"},)})

    # Then the first reads as words, the second still shows its regex
    assert messages == [
        "stage.blocks[0].folder: 'Nope' is not allowed: expected a folder",
        "stage.blocks[0].code: 'abc' is not allowed: must match ^[A-Z]{3}$",
    ]
