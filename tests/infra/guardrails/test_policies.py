"""Every policy type of a guardrail renders as configured, one guardrail (and retained
version) per name, the default keeping the single guardrail's logical id and name.

The test-owned ``guardrails`` stage (tests/stages) enables every policy type on its default
guardrail, with image filters, the standard tiers and the Region's cross-Region profile."""

from __future__ import annotations

import re
from typing import Any

import pytest

from stacks.guardrails.guardrail import pinned_key
from tests.support.synth import Synthesized
from tests.support.templates import render


@pytest.fixture(scope="module")
def stage(synth: Any) -> Synthesized:
    return synth("guardrails")


def _guardrail(stage: Synthesized, logical_id: str) -> dict[str, Any]:
    res = stage.templates["Guardrails"]["Resources"][logical_id]
    assert res["Type"] == "AWS::Bedrock::Guardrail"
    props: dict[str, Any] = res["Properties"]
    return props


def _default(stage: Synthesized) -> dict[str, Any]:
    return _guardrail(stage, "GuardrailA5094A7B")


def test_each_named_guardrail_has_its_own_guardrail_and_retained_version(
    stage: Synthesized,
) -> None:
    # Given a stage with two named guardrails
    names = [g.name for g in stage.config.guardrails]
    guardrails = stage.resources("AWS::Bedrock::Guardrail", "Guardrails")
    versions = stage.resources("AWS::Bedrock::GuardrailVersion", "Guardrails")
    # Then there is one guardrail and one retained version per name
    assert len(guardrails) == len(versions) == len(names) == 2
    for version in versions.values():
        assert version["DeletionPolicy"] == version["UpdateReplacePolicy"] == "Retain"
    # And the default keeps the single guardrail's logical id and physical name, the other is
    # pinned by its config name and named after it
    default = _default(stage)
    assert default["Name"] == f"{stage.plan.kit_name}-{stage.name}"
    other = next(g for g in stage.config.guardrails if g is not stage.config.guardrail)
    named = _guardrail(stage, f"{pinned_key(other.name)}Guardrail")
    assert named["Name"] == f"{stage.plan.kit_name}-{stage.name}-{other.name}"
    # And each version differs (its digest follows its own guardrail's rendering)
    assert len({v["Properties"]["Description"] for v in versions.values()}) == 2


def test_content_filters_render_strengths_actions_modalities_and_tier(
    stage: Synthesized,
) -> None:
    cfg = stage.config.guardrail.content_filters
    policy = _default(stage)["ContentPolicyConfig"]
    filters = {f["Type"]: f for f in policy["FiltersConfig"]}
    assert policy["ContentFiltersTierConfig"] == {"TierName": cfg.tier}
    hate = filters["HATE"]
    assert hate["InputModalities"] == list(cfg.hate.input_modalities or ())
    assert hate["OutputModalities"] == list(cfg.hate.output_modalities or ())
    assert "IMAGE" in hate["InputModalities"]
    assert filters["VIOLENCE"]["InputStrength"] == cfg.violence.input
    assert filters["VIOLENCE"]["OutputAction"] == cfg.violence.output_action
    assert filters["MISCONDUCT"]["OutputEnabled"] is cfg.misconduct.output_enabled
    # unset per-direction fields render nothing (the service defaults apply)
    assert "InputAction" not in filters["INSULTS"] and "InputModalities" not in filters["SEXUAL"]
    attack = filters["PROMPT_ATTACK"]
    assert attack["OutputStrength"] == "NONE"
    assert attack["InputModalities"] == list(cfg.prompt_attack.input_modalities or ())


def test_denied_topics_render_with_examples_actions_and_tier(stage: Synthesized) -> None:
    cfg = stage.config.guardrail.denied_topics
    policy = _default(stage)["TopicPolicyConfig"]
    assert policy["TopicsTierConfig"] == {"TierName": cfg.tier}
    rendered = policy["TopicsConfig"]
    assert [t["Name"] for t in rendered] == [t.name for t in cfg.topics]
    first, want = rendered[0], cfg.topics[0]
    assert first["Type"] == "DENY"
    assert first["Definition"] == want.definition
    assert first["Examples"] == list(want.examples)
    assert first["OutputAction"] == want.output_action


def test_word_filters_render_words_and_the_managed_profanity_list(stage: Synthesized) -> None:
    cfg = stage.config.guardrail.word_filters
    policy = _default(stage)["WordPolicyConfig"]
    assert [w["Text"] for w in policy["WordsConfig"]] == [w.text for w in cfg.words]
    disabled = next(w for w in cfg.words if w.input_enabled is False)
    rendered = next(w for w in policy["WordsConfig"] if w["Text"] == disabled.text)
    assert rendered["InputEnabled"] is False
    assert [m["Type"] for m in policy["ManagedWordListsConfig"]] == ["PROFANITY"]


def test_sensitive_information_renders_entities_and_regexes(stage: Synthesized) -> None:
    cfg = stage.config.guardrail
    policy = _default(stage)["SensitiveInformationPolicyConfig"]
    entities = policy["PiiEntitiesConfig"]
    assert [(e["Type"], e["Action"]) for e in entities] == [
        (e.type, e.action) for e in cfg.pii_entities
    ]
    directed = next(e for e in cfg.pii_entities if e.input_action is not None)
    assert next(e for e in entities if e["Type"] == directed.type)["InputAction"] == (
        directed.input_action
    )
    regexes = policy["RegexesConfig"]
    assert [(r["Name"], r["Pattern"], r["Action"], r.get("Description")) for r in regexes] == [
        (r.name, r.pattern, r.action, r.description) for r in cfg.regexes
    ]


def test_contextual_grounding_and_relevance_render_their_thresholds(
    stage: Synthesized,
) -> None:
    cfg = stage.config.guardrail.contextual_grounding
    filters = {
        f["Type"]: f for f in _default(stage)["ContextualGroundingPolicyConfig"]["FiltersConfig"]
    }
    assert cfg.grounding is not None and cfg.relevance is not None
    assert filters["GROUNDING"]["Threshold"] == cfg.grounding.threshold
    assert filters["RELEVANCE"]["Threshold"] == cfg.relevance.threshold
    assert filters["RELEVANCE"]["Action"] == cfg.relevance.action


def test_cross_region_profile_and_messages_render(stage: Synthesized) -> None:
    cfg = stage.config.guardrail
    props = _default(stage)
    # The config's profile id renders as the ARN in the stage's Region (CloudFormation takes
    # only the ARN)
    arn = render(props["CrossRegionConfig"]["GuardrailProfileArn"])
    assert re.fullmatch(
        rf"arn:(aws|\$\{{AWS::Partition\}}):bedrock:{stage.plan.region}:(\d{{12}}|\$\{{AWS::AccountId\}}):"
        rf"guardrail-profile/{re.escape(str(cfg.cross_region_profile))}",
        arn,
    ), arn
    assert props["BlockedInputMessaging"] == cfg.blocked_input_message
    assert props["BlockedOutputsMessaging"] == cfg.blocked_output_message


def test_a_guardrail_without_optional_policies_renders_none_of_them(stage: Synthesized) -> None:
    # Given the second guardrail: no PII, topics, words, grounding or profile
    other = next(g for g in stage.config.guardrails if g is not stage.config.guardrail)
    props = _guardrail(stage, f"{pinned_key(other.name)}Guardrail")
    # Then only its content filters and messages render
    for absent in (
        "SensitiveInformationPolicyConfig",
        "TopicPolicyConfig",
        "WordPolicyConfig",
        "ContextualGroundingPolicyConfig",
        "CrossRegionConfig",
    ):
        assert absent not in props, absent


@pytest.mark.parametrize(
    "grounding", [None, {"threshold": 0.7}, {"threshold": 0.7, "enabled": False}]
)
def test_the_default_guardrail_tells_rag_whether_to_mark_passages_for_grounding(
    grounding: dict[str, Any] | None,
) -> None:
    # Given a default guardrail with no grounding filter, an enabled one, or a disabled one
    from aws_cdk import App, Stack

    from stacks.config.guardrails import GuardrailConfig
    from stacks.guardrails.guardrail import StageGuardrail

    config = GuardrailConfig.model_validate(
        {"name": "main", "contextual_grounding": {"grounding": grounding}}
    )
    # When it is built
    guardrail = StageGuardrail(
        Stack(App(), "Host"), "Guardrail", kit="kit", stage="qa", config=config
    )
    # Then its handle asks /rag for the grounding qualifiers exactly when a filter is on
    expected = grounding is not None and grounding.get("enabled") is not False
    assert guardrail.handle.contextual_grounding is expected
