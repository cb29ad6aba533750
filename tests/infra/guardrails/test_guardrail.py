"""The guardrail stack: policies from config, a pinned and retained version."""

from __future__ import annotations

import re
from typing import Any

from stacks.tools.guardrail_test import ID_OUTPUT, VERSION_OUTPUT
from tests.support.synth import Synthesized
from tests.support.templates import only


def test_guardrail_filters_and_pii_follow_the_config(stage: Synthesized) -> None:
    cfg = stage.config.guardrail
    guardrail = only(stage.resources("AWS::Bedrock::Guardrail"))["Properties"]
    filters = {f["Type"]: f for f in guardrail["ContentPolicyConfig"]["FiltersConfig"]}
    # Then every content filter category is present with the configured strengths
    assert set(filters) == {"HATE", "INSULTS", "SEXUAL", "VIOLENCE", "MISCONDUCT", "PROMPT_ATTACK"}
    assert filters["HATE"]["InputStrength"] == cfg.content_filters.hate.input
    assert filters["PROMPT_ATTACK"]["InputStrength"] == cfg.content_filters.prompt_attack.input
    assert filters["PROMPT_ATTACK"]["OutputStrength"] == "NONE"
    # And PII entities are those of the config
    pii = guardrail["SensitiveInformationPolicyConfig"]["PiiEntitiesConfig"]
    assert [(p["Type"], p["Action"]) for p in pii] == [(e.type, e.action) for e in cfg.pii_entities]
    assert guardrail["BlockedInputMessaging"] == cfg.blocked_input_message


def test_guardrail_version_is_pinned_and_follows_config_changes(
    synth: Any,
) -> None:
    # Given two test stages whose guardrail configs differ
    basic, full = synth("basic"), synth("full")
    assert basic.config.guardrail != full.config.guardrail
    versions = [only(s.resources("AWS::Bedrock::GuardrailVersion")) for s in (basic, full)]
    # Then each version is pinned to its config digest, and the digests differ
    for version in versions:
        assert "GuardrailIdentifier" in version["Properties"]
        assert re.fullmatch(r"config [0-9a-f]{16}", version["Properties"]["Description"])
    assert versions[0]["Properties"]["Description"] != versions[1]["Properties"]["Description"]
    # And superseded versions are retained, so a running function never loses its version
    for version in versions:
        assert version["DeletionPolicy"] == "Retain"
        assert version["UpdateReplacePolicy"] == "Retain"


def test_guardrail_stack_outputs_the_id_and_pinned_version_for_the_probe_harness(
    stage: Synthesized,
) -> None:
    # Given the stage's guardrail stack, When its outputs are read
    (sid,) = [s for s in stage.templates if s.endswith("Guardrails")]
    outputs = stage.templates[sid]["Outputs"]
    guardrail_id = next(iter(stage.resources("AWS::Bedrock::Guardrail", sid)))
    version_id = next(iter(stage.resources("AWS::Bedrock::GuardrailVersion", sid)))
    # Then the keys the probe harness reads name the guardrail's id and the pinned version's
    # number (never DRAFT)
    assert outputs[ID_OUTPUT]["Value"] == {
        "Fn::GetAtt": [guardrail_id.split("/")[1], "GuardrailId"]
    }
    assert outputs[VERSION_OUTPUT]["Value"] == {"Fn::GetAtt": [version_id.split("/")[1], "Version"]}
