"""The `guardrails` config: named, one default, every rule fails naming key, value and what is
allowed. Stages are the test-owned basic stage with its guardrails replaced."""

from __future__ import annotations

import copy
import time
from typing import Any

import pytest

from stacks.catalog import load_catalog
from stacks.config import ConfigError, load_stage_config
from stacks.config.guardrails import (
    MAX_REGEXES,
    MAX_TOPIC_EXAMPLES,
    MAX_TOPICS,
    REGEX_BUDGET_SECONDS,
    profile_geography,
)
from tests.stages import basic_stage

CATALOG = load_catalog()
NAME = "qa"
KEY = f"stages.{NAME}.guardrails"
BASE = basic_stage(CATALOG)
REGION = BASE["region"]


def stage(*guardrails: dict[str, Any], **changes: Any) -> dict[str, Any]:
    out = copy.deepcopy(BASE)
    out["guardrails"] = list(guardrails)
    out.update(changes)
    return out


def guardrail(name: str = "default", **keys: Any) -> dict[str, Any]:
    return {"name": name, **keys}


def problems(config: dict[str, Any]) -> str:
    with pytest.raises(ConfigError) as info:
        load_stage_config({"stages": {NAME: config}, "stage": NAME}, {}, CATALOG)
    return str(info.value)


def loads(config: dict[str, Any]) -> Any:
    return load_stage_config({"stages": {NAME: config}, "stage": NAME}, {}, CATALOG)


def topic(name: str = "Investment advice", **keys: Any) -> dict[str, Any]:
    return {"name": name, "definition": "Advice on buying or selling securities.", **keys}


# --- names, default, migration ---------------------------------------------------------------


def test_a_stage_without_guardrails_gets_one_default_guardrail() -> None:
    # Given the basic stage with no guardrails key / When it loads
    config = loads(copy.deepcopy(BASE))
    # Then it has exactly one guardrail, and it is the default
    assert len(config.guardrails) == 1
    assert config.guardrail is config.guardrails[0]


def test_the_old_guardrail_key_fails_saying_how_to_migrate() -> None:
    # Given a stage written with the single `guardrail` key
    old = {**copy.deepcopy(BASE), "guardrail": {"pii_entities": []}}
    # When it loads / Then the error names the key and the new shape
    text = problems(old)
    assert f"stages.{NAME}.guardrail:" in text
    assert '"guardrails": [{"name": "default", "default": true' in text


def test_several_guardrails_need_exactly_one_default() -> None:
    # Given two guardrails and none marked default / Then it fails naming the rule
    text = problems(stage(guardrail("a"), guardrail("b")))
    assert f"{KEY}: 0 guardrails are marked default" in text
    assert "exactly one `default: true`" in text
    # And two marked default fail too
    assert "2 guardrails are marked default" in problems(
        stage(guardrail("a", default=True), guardrail("b", default=True))
    )


def test_the_marked_guardrail_is_the_default() -> None:
    # Given two guardrails, the second marked default / When it loads
    config = loads(stage(guardrail("a"), guardrail("b", default=True)))
    # Then the stage's guardrail is the second
    assert config.guardrail.name == "b"


def test_guardrail_names_are_unique() -> None:
    text = problems(stage(guardrail("a", default=True), guardrail("a")))
    assert f"{KEY}[1].name: 'a' is listed twice" in text


@pytest.mark.parametrize("bad", ["Upper", "two--hyphens", "trailing-", "x" * 21, "1st"])
def test_guardrail_names_follow_the_pattern(bad: str) -> None:
    text = problems(stage(guardrail(bad)))
    assert f"{KEY}[0].name" in text
    assert repr(bad)[:20] in text or bad[:20] in text


# --- ranges and lengths ------------------------------------------------------------------------


@pytest.mark.parametrize("threshold", [1.5, -0.1, 1.0])
def test_grounding_threshold_outside_0_to_0_99_fails(threshold: float) -> None:
    config = stage(guardrail(contextual_grounding={"grounding": {"threshold": threshold}}))
    text = problems(config)
    assert f"{KEY}[0].contextual_grounding.grounding.threshold" in text
    assert "0.99" in text or ">= 0" in text


def test_relevance_threshold_outside_range_fails() -> None:
    text = problems(stage(guardrail(contextual_grounding={"relevance": {"threshold": 1.5}})))
    assert f"{KEY}[0].contextual_grounding.relevance.threshold" in text


def test_a_300_character_topic_definition_fails() -> None:
    text = problems(stage(guardrail(denied_topics={"topics": [topic(definition="d" * 300)]})))
    assert f"{KEY}[0].denied_topics.topics[0].definition" in text
    assert "at most 200 characters" in text


def test_a_blank_topic_definition_fails() -> None:
    text = problems(stage(guardrail(denied_topics={"topics": [topic(definition="   ")]})))
    assert "definition: '   ' is blank" in text


def test_topic_examples_are_limited_in_count_and_length() -> None:
    many = [f"example {i}" for i in range(MAX_TOPIC_EXAMPLES + 1)]
    assert f"{KEY}[0].denied_topics.topics[0].examples" in problems(
        stage(guardrail(denied_topics={"topics": [topic(examples=many)]}))
    )
    assert "at most 100 characters" in problems(
        stage(guardrail(denied_topics={"topics": [topic(examples=["e" * 101])]}))
    )


def test_too_many_topics_fail() -> None:
    topics = [topic(f"Topic {i}") for i in range(MAX_TOPICS + 1)]
    text = problems(stage(guardrail(denied_topics={"topics": topics})))
    assert f"{KEY}[0].denied_topics.topics" in text
    assert f"at most {MAX_TOPICS}" in text


def test_topic_names_are_unique_and_follow_the_service_pattern() -> None:
    assert "name: 'investment advice' is listed twice" in problems(
        stage(guardrail(denied_topics={"topics": [topic(), topic("investment advice")]}))
    )
    assert f"{KEY}[0].denied_topics.topics[0].name" in problems(
        stage(guardrail(denied_topics={"topics": [topic("Topic: money")]}))
    )


@pytest.mark.parametrize("key", ["blocked_input_message", "blocked_output_message"])
def test_blocked_messages_are_1_to_500_characters(key: str) -> None:
    assert f"{KEY}[0].{key}" in problems(stage(guardrail(**{key: "m" * 501})))
    assert f"{KEY}[0].{key}" in problems(stage(guardrail(**{key: ""})))


def test_words_are_limited_in_length_and_unique() -> None:
    assert f"{KEY}[0].word_filters.words[0].text" in problems(
        stage(guardrail(word_filters={"words": [{"text": "w" * 101}]}))
    )
    assert "text: 'foo' is listed twice" in problems(
        stage(guardrail(word_filters={"words": [{"text": "foo"}, {"text": "FOO"}]}))
    )


def test_unknown_pii_type_fails_listing_the_known_ones() -> None:
    text = problems(stage(guardrail(pii_entities=[{"type": "MY_NUMBER"}])))
    assert f"{KEY}[0].pii_entities[0].type" in text
    assert "'MY_NUMBER'" in text and "EMAIL" in text


def test_a_pii_type_listed_twice_fails() -> None:
    text = problems(stage(guardrail(pii_entities=[{"type": "EMAIL"}, {"type": "EMAIL"}])))
    assert f"{KEY}[0].pii_entities[1].type: 'EMAIL' is listed twice" in text


def test_pii_actions_per_direction_allow_none_only_from_the_service_enum() -> None:
    ok = loads(stage(guardrail(pii_entities=[{"type": "EMAIL", "input_action": "NONE"}])))
    assert ok.guardrail.pii_entities[0].input_action == "NONE"
    assert f"{KEY}[0].pii_entities[0].output_action" in problems(
        stage(guardrail(pii_entities=[{"type": "EMAIL", "output_action": "REDACT"}]))
    )


# --- regexes -----------------------------------------------------------------------------------


def regex(name: str = "my-number", pattern: str = r"\b\d{4}-\d{4}-\d{4}\b") -> dict[str, Any]:
    return {"name": name, "pattern": pattern}


def test_a_regex_that_does_not_compile_fails() -> None:
    text = problems(stage(guardrail(regexes=[regex(pattern="([0-9]")])))
    assert f"{KEY}[0].regexes[0].pattern: '([0-9]' does not compile" in text


def test_a_catastrophically_slow_regex_fails_within_the_time_guard() -> None:
    # Given a pattern with nested quantifiers that backtracks exponentially on a long input
    started = time.monotonic()
    text = problems(stage(guardrail(regexes=[regex(pattern=r"^(a+)+$")])))
    # Then it fails naming the key and the cause, and synth is not held up for long
    assert f"{KEY}[0].regexes[0].pattern" in text
    assert "catastrophic backtracking" in text
    assert time.monotonic() - started < REGEX_BUDGET_SECONDS + 10


def test_a_linear_regex_passes_the_time_guard() -> None:
    config = loads(stage(guardrail(regexes=[regex()])))
    assert config.guardrail.regexes[0].name == "my-number"


def test_regex_names_are_unique_and_counted() -> None:
    assert "name: 'r' is listed twice" in problems(
        stage(guardrail(regexes=[regex("r"), regex("r")]))
    )
    many = [regex(f"r{i}") for i in range(MAX_REGEXES + 1)]
    assert f"at most {MAX_REGEXES}" in problems(stage(guardrail(regexes=many)))


def test_a_regex_pattern_over_500_characters_fails() -> None:
    text = problems(stage(guardrail(regexes=[regex(pattern="a" * 501)])))
    assert f"{KEY}[0].regexes[0].pattern" in text and "at most 500 characters" in text


# --- modalities, tiers and the cross-Region profile -------------------------------------------


def test_unknown_modality_fails() -> None:
    text = problems(stage(guardrail(content_filters={"hate": {"input_modalities": ["AUDIO"]}})))
    assert f"{KEY}[0].content_filters.hate.input_modalities" in text
    assert "'TEXT'" in text and "'IMAGE'" in text


def test_a_modality_listed_twice_fails() -> None:
    text = problems(
        stage(guardrail(content_filters={"sexual": {"output_modalities": ["TEXT", "TEXT"]}}))
    )
    assert "content_filters.sexual.output_modalities" in text and "twice" in text


def test_an_unknown_tier_fails() -> None:
    text = problems(stage(guardrail(content_filters={"tier": "PREMIUM"})))
    assert f"{KEY}[0].content_filters.tier" in text and "'STANDARD'" in text


@pytest.mark.parametrize("block", ["content_filters", "denied_topics"])
def test_standard_tier_needs_a_cross_region_profile(block: str) -> None:
    text = problems(stage({"name": "default", block: {"tier": "STANDARD"}}))
    assert f"{KEY}[0].{block}.tier: 'STANDARD' needs a cross-Region guardrail profile" in text


def test_a_malformed_profile_fails() -> None:
    text = problems(stage(guardrail(cross_region_profile="my-profile")))
    assert f"{KEY}[0].cross_region_profile" in text


def test_a_profile_in_another_region_fails() -> None:
    geography = profile_geography(REGION) or "us"
    other = "ap-south-1" if REGION != "ap-south-1" else "us-east-1"
    arn = f"arn:aws:bedrock:{other}:123456789012:guardrail-profile/{geography}.guardrail.v1:0"
    text = problems(stage(guardrail(cross_region_profile=arn)))
    assert f"is in {other}; allowed: the stage's Region {REGION}" in text


def test_a_profile_of_another_geography_fails() -> None:
    geography = "us-gov" if profile_geography(REGION) != "us-gov" else "us"
    text = problems(stage(guardrail(cross_region_profile=f"{geography}.guardrail.v1:0")))
    assert f"cannot be called from {REGION}" in text


def test_standard_tier_with_the_regions_profile_loads() -> None:
    geography = profile_geography(REGION)
    assert geography is not None, f"no known guardrail profile geography for {REGION}"
    config = loads(
        stage(
            guardrail(
                cross_region_profile=f"{geography}.guardrail.v1:0",
                content_filters={"tier": "STANDARD"},
                denied_topics={"tier": "STANDARD", "topics": [topic()]},
            )
        )
    )
    assert config.guardrail.content_filters.tier == "STANDARD"


# --- the README documents every key -----------------------------------------------------------


def test_the_readme_reference_names_every_guardrail_key() -> None:
    from stacks.config import guardrails as g
    from tests.support.readme import undocumented_keys

    missing = undocumented_keys(
        [
            g.GuardrailConfig,
            g.ContentFilters,
            g.FilterStrength,
            g.PromptAttackFilter,
            g.DeniedTopics,
            g.DeniedTopic,
            g.WordFilters,
            g.Word,
            g.PiiEntity,
            g.RegexFilter,
            g.ContextualGrounding,
            g.GroundingFilter,
        ]
    )
    assert not missing, f"README's configuration reference lacks: {missing}"
