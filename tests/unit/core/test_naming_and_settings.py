"""Generated names fit CloudFormation's patterns; function environments fit Lambda's limit."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from stacks.core.naming import description, resource_name
from stacks.core.settings import (
    LAMBDA_ENV_LIMIT_BYTES,
    EnvironmentTooLarge,
    bounded,
    check_environment,
    longest_size,
)

DESCRIPTION = re.compile(r"([0-9a-zA-Z:.][ _-]?)+")
NAME = re.compile(r"([0-9a-zA-Z][ _-]?)+")


@given(st.text(min_size=0, max_size=300))
def test_any_text_becomes_a_valid_profile_description(text: str) -> None:
    # Given any display name (parentheses, plus signs, unicode)
    got = description(f"dev: {text}")
    # Then the description satisfies Bedrock's pattern and length
    assert DESCRIPTION.fullmatch(got) and len(got) <= 200


@given(st.lists(st.text(min_size=1, max_size=80), min_size=1, max_size=4), st.integers(20, 128))
def test_any_parts_become_a_valid_bounded_name(parts: list[str], max_length: int) -> None:
    got = resource_name("kit", *parts, max_length=max_length, unique_by="x")
    assert NAME.fullmatch(got) and len(got) <= max_length


def test_a_replaced_resource_gets_a_new_name() -> None:
    # Given the same model reached in-region and then through a profile
    before = resource_name("kit", "dev", "model-a", max_length=64, unique_by=None)
    after = resource_name("kit", "dev", "model-a", max_length=64, unique_by="us")
    # Then the two names differ, so the replacement never collides with the old resource
    assert before != after


def test_long_names_stay_unique_when_cut() -> None:
    a = resource_name("kit", "dev", "x" * 80 + "a", max_length=64)
    b = resource_name("kit", "dev", "x" * 80 + "b", max_length=64)
    assert a != b and len(a) <= 64 and len(b) <= 64


def test_environment_is_measured_as_lambda_does_with_tokens_at_their_longest() -> None:
    # Given a value holding a token of at most 150 characters
    token = bounded("${Token[TOKEN.900001]}", 150)
    # Then the size is that of {"K":"[<150 chars>]"}, the JSON Lambda measures
    assert longest_size({"K": f"[{token}]"}) == len('{"K":"[') + 150 + len(']"}')


def test_quotes_inside_a_value_count_twice() -> None:
    # Lambda measures the JSON of the map, where an inner quote is escaped as \"
    plain, quoted = longest_size({"K": "ab"}), longest_size({"K": 'a"b'})
    assert quoted == plain + 2


def test_environment_that_could_pass_4_kb_fails_naming_the_function() -> None:
    token = bounded("${Token[TOKEN.900002]}", 151)
    env = {f"M{i}": token for i in range(LAMBDA_ENV_LIMIT_BYTES // 150)}
    with pytest.raises(EnvironmentTooLarge, match="the demo/Chat function's environment"):
        check_environment("demo/Chat", env)


def test_a_token_of_unknown_length_is_refused() -> None:
    with pytest.raises(EnvironmentTooLarge, match="unknown length"):
        longest_size({"K": "${Token[TOKEN.900003]}"})
