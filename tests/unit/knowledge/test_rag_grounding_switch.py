"""RAG's grounding check follows the stage's guardrail: on when it has a contextual grounding
policy, so the guardrail checks every answer against the passages it was given."""

from __future__ import annotations

import dataclasses

import pytest

from stacks.api.rag_endpoint import rag_settings
from stacks.core.references import GuardrailHandles
from tests.support.knowledge_api import knowledge_plan, literal_handles


@pytest.mark.parametrize("grounding", [False, True])
def test_given_the_guardrails_grounding_policy_when_settings_are_built_then_rag_follows_it(
    grounding: bool,
) -> None:
    # Given a stage whose guardrail has (or lacks) a contextual grounding policy
    plan = knowledge_plan()
    profiles, guardrail, knowledge = literal_handles(plan)
    guardrail = dataclasses.replace(guardrail, contextual_grounding=grounding)
    # When the RAG function's settings are built
    settings = rag_settings(
        plan, profiles=profiles, guardrails=GuardrailHandles.single(guardrail), knowledge=knowledge
    )
    # Then the grounding check is on exactly when the guardrail can use it
    assert settings.grounding_check is grounding


def test_given_an_explicit_switch_then_it_overrides_the_guardrail() -> None:
    plan = knowledge_plan()
    profiles, guardrail, knowledge = literal_handles(plan)
    guardrail = dataclasses.replace(guardrail, contextual_grounding=True)
    settings = rag_settings(
        plan,
        profiles=profiles,
        guardrails=GuardrailHandles.single(guardrail),
        knowledge=knowledge,
        grounding_check=False,
    )
    assert settings.grounding_check is False
