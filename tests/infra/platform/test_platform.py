"""The platform stack: application profiles and the model access check."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from tests.support.synth import Synthesized
from tests.support.templates import as_list, only, render, statements, tag_map


def test_one_application_profile_per_chat_model_copying_the_right_source(
    stage: Synthesized,
) -> None:
    profiles = stage.resources("AWS::Bedrock::ApplicationInferenceProfile")
    chat = stage.plan.chat_models
    assert len(profiles) == len(chat)
    sources = {render(p["Properties"]["ModelSource"]["CopyFrom"]) for p in profiles.values()}
    region = stage.config.region
    for ref in chat:
        if ref.profile is None:
            expected = f":bedrock:{region}::foundation-model/{ref.id}"
        else:
            expected = (
                f":bedrock:{region}:${{AWS::AccountId}}:inference-profile/{ref.profile}.{ref.id}"
            )
        assert any(s.endswith(expected) for s in sources), (expected, sources)


def test_profiles_carry_the_cost_allocation_tags(stage: Synthesized) -> None:
    tags = stage.config.tags
    for profile in stage.resources("AWS::Bedrock::ApplicationInferenceProfile").values():
        got = tag_map(profile)
        assert got["stage"] == stage.name
        assert got["team"] == tags.team and got["cost-center"] == tags.cost_center
        for key, value in tags.extra.items():
            assert got[key] == value


@pytest.mark.parametrize(
    "type_",
    [
        "AWS::Lambda::Function",
        "AWS::IAM::Role",
        "AWS::Logs::LogGroup",
        "AWS::ApiGateway::RestApi",
        "AWS::Bedrock::Guardrail",
    ],
)
def test_taggable_resources_carry_stage_tags(stage: Synthesized, type_: str) -> None:
    found = stage.resources(type_)
    assert found
    for lid, res in found.items():
        got = tag_map(res)
        assert got.get("stage") == stage.name and got.get("cost-center"), lid


def test_model_access_check_covers_every_enabled_model(stage: Synthesized) -> None:
    if not stage.config.model_access.enabled:
        assert not stage.resources("Custom::BedrockModelAccessCheck")
        return
    check = only(stage.resources("Custom::BedrockModelAccessCheck"))["Properties"]
    assert [m["ModelId"] for m in check["Models"]] == [m.id for m in stage.config.models]
    assert check["Region"] == stage.config.region
    # And profiles wait for it
    profile = next(iter(stage.resources("AWS::Bedrock::ApplicationInferenceProfile").values()))
    assert profile.get("DependsOn")


def test_profile_names_and_descriptions_fit_bedrock_patterns(any_stage: Synthesized) -> None:
    # InferenceProfileName / InferenceProfileDescription (botocore bedrock model, 2026-11-30)
    for lid, res in any_stage.resources("AWS::Bedrock::ApplicationInferenceProfile").items():
        props = res["Properties"]
        assert re.fullmatch(r"([0-9a-zA-Z][ _-]?)+", props["InferenceProfileName"]), lid
        assert len(props["InferenceProfileName"]) <= 64, lid
        assert re.fullmatch(r"([0-9a-zA-Z:.][ _-]?)+", props["Description"]), lid
        assert len(props["Description"]) <= 200, lid


def test_the_full_stage_covers_the_optional_access_branches(synth: Any) -> None:
    # Given the test stage that opts in to everything
    full = synth("full")
    actions = {a for _, st in statements(full.templates["Platform"]) for a in as_list(st["Action"])}
    # Then the form and the scoped agreement statements are really synthesized (and gated)
    assert "bedrock:PutUseCaseForModelAccess" in actions
    assert {"bedrock:CreateFoundationModelAgreement", "aws-marketplace:Subscribe"} <= actions
    subscribe = [
        st
        for _, st in statements(full.templates["Platform"])
        if as_list(st["Action"]) == ["aws-marketplace:Subscribe"]
    ]
    assert subscribe and "aws-marketplace:ProductId" in json.dumps(subscribe[0]["Condition"])
