"""Account-level enforcement: one of the stage's guardrails at its pinned version, deleted with
the stage, and nothing of it in a stage that does not ask for it."""

from __future__ import annotations

from typing import Any

from tests.support.synth import Synthesized
from tests.support.templates import only

ENFORCEMENT = "AWS::Bedrock::EnforcedGuardrailConfiguration"


def _logical_id(template: dict[str, Any], resource: dict[str, Any]) -> str:
    return next(lid for lid, res in template["Resources"].items() if res is resource)


def test_the_enforced_guardrail_is_the_configured_one_at_its_pinned_version(synth: Any) -> None:
    # Given the test stage that enforces its non-default guardrail
    stage: Synthesized = synth("enforcement")
    config = stage.config.guardrail_enforcement
    template = stage.templates["Guardrails"]
    props = only(stage.resources(ENFORCEMENT, "Guardrails"))["Properties"]
    # Then it names that guardrail (not the default) and that guardrail's pinned version
    guardrails = stage.resources("AWS::Bedrock::Guardrail", "Guardrails")
    enforced = next(
        lid.split("/")[1]
        for lid, res in guardrails.items()
        if res["Properties"]["Name"].endswith(f"-{config.guardrail}")
    )
    assert props["GuardrailIdentifier"] == {"Fn::GetAtt": [enforced, "GuardrailArn"]}
    version = props["GuardrailVersion"]
    version_id = version["Fn::GetAtt"][0]
    assert template["Resources"][version_id]["Type"] == "AWS::Bedrock::GuardrailVersion"
    assert template["Resources"][version_id]["Properties"]["GuardrailIdentifier"] == {
        "Fn::GetAtt": [enforced, "GuardrailId"]
    }
    assert stage.config.guardrail.name != config.guardrail


def test_the_guarding_modes_and_model_lists_follow_the_config(synth: Any) -> None:
    # Given the enforcing test stage
    stage: Synthesized = synth("enforcement")
    config = stage.config.guardrail_enforcement
    props = only(stage.resources(ENFORCEMENT))["Properties"]
    # Then selective guarding is the config's, and excluding models alone includes ALL
    assert props["SelectiveContentGuarding"] == {
        "System": config.system_prompts,
        "Messages": config.messages,
    }
    assert props["ModelEnforcement"] == {
        "IncludedModels": ["ALL"],
        "ExcludedModels": list(config.exclude_models),
    }


def test_the_enforcement_is_deleted_with_the_stage_and_keeps_its_logical_id(synth: Any) -> None:
    # Given the enforcing test stage
    stage: Synthesized = synth("enforcement")
    template = stage.templates["Guardrails"]
    resource = only(stage.resources(ENFORCEMENT))
    # Then it is not retained (the stage's destroy deletes the guardrail it points at)
    assert resource.get("DeletionPolicy", "Delete") == "Delete"
    assert resource.get("UpdateReplacePolicy", "Delete") == "Delete"
    # And its logical id does not depend on the construct tree's hash
    assert _logical_id(template, resource) == "EnforcedGuardrailConfiguration"


def test_a_stage_without_the_key_enforces_nothing(stage: Synthesized) -> None:
    # Given the basic and full test stages (no guardrail_enforcement) / Then no enforcement
    assert stage.config.guardrail_enforcement is None
    assert stage.resources(ENFORCEMENT) == {}
