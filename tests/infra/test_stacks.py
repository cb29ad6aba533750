"""Fine-grained assertions on each stage's stacks, derived from the stage config and catalog."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from kit_runtime.settings import Settings
from stacks.catalog import load_catalog
from tests.conftest import Synthesized
from tests.infra.helpers import as_list, render, statements

CATALOG = load_catalog()


def only(resources: dict[str, dict[str, Any]]) -> dict[str, Any]:
    assert len(resources) == 1, list(resources)
    return next(iter(resources.values()))


def tag_map(resource: dict[str, Any]) -> dict[str, str]:
    tags = resource["Properties"].get("Tags", [])
    if isinstance(tags, dict):
        return tags
    return {t["Key"]: t["Value"] for t in tags}


# ----------------------------------------------------------------------------- guardrail


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
    stage: Synthesized, synth: Any
) -> None:
    version = only(stage.resources("AWS::Bedrock::GuardrailVersion"))["Properties"]
    assert "GuardrailIdentifier" in version
    assert re.fullmatch(r"config [0-9a-f]{16}", version["Description"])
    # The other shipped stage has different guardrail config, hence a different digest
    others = [synth(s) for s in ("dev", "prod") if s != stage.name]
    other = only(others[0].resources("AWS::Bedrock::GuardrailVersion"))["Properties"]
    if stage.config.guardrail != others[0].config.guardrail:
        assert other["Description"] != version["Description"]


# ----------------------------------------------------------------------------- profiles


def test_one_application_profile_per_chat_model_copying_the_right_source(
    stage: Synthesized,
) -> None:
    profiles = stage.resources("AWS::Bedrock::ApplicationInferenceProfile")
    chat = stage.config.chat_models(CATALOG)
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
    check = only(stage.resources("Custom::BedrockModelAccessCheck"))["Properties"]
    assert [m["ModelId"] for m in check["Models"]] == [m.id for m in stage.config.models]
    assert check["Region"] == stage.config.region
    # And profiles wait for it
    profile = next(iter(stage.resources("AWS::Bedrock::ApplicationInferenceProfile").values()))
    assert profile.get("DependsOn")


# ----------------------------------------------------------------------------- IAM


def invoke_statement(stage: Synthesized) -> dict[str, Any]:
    found = [
        st
        for _, st in statements(stage.templates["Api"])
        if "bedrock:InvokeModel" in as_list(st["Action"])
    ]
    assert len(found) == 1
    return found[0]


def test_invoke_is_scoped_to_profiles_and_destination_regions(stage: Synthesized) -> None:
    st = invoke_statement(stage)
    resources = [render(r) for r in as_list(st["Resource"])]
    region = stage.config.region
    # The application profiles (imported from the platform stack)
    assert sum("Import:" in r for r in resources) == len(stage.config.chat_models(CATALOG))
    for ref in stage.config.chat_models(CATALOG):
        spec = CATALOG.models[ref.id]
        fm = [r for r in resources if r.endswith(f"::foundation-model/{ref.id}")]
        if ref.profile is None:
            assert fm == [f"arn:${{AWS::Partition}}:bedrock:{region}::foundation-model/{ref.id}"]
            continue
        # The system profile in the stage's region
        assert any(
            r.endswith(
                f":bedrock:{region}:${{AWS::AccountId}}:inference-profile/{ref.profile}.{ref.id}"
            )
            for r in resources
        )
        fm_regions = {re.search(r":bedrock:([^:]*)::", r).group(1) for r in fm}  # type: ignore[union-attr]
        if ref.profile == "global":
            # The global profile: source region plus the region-less ARN AWS documents
            assert fm_regions == {region, ""}
        else:
            # Exactly the catalog's destination regions, never a wildcard region
            assert fm_regions == set(spec.inference_profiles[ref.profile].destinations)


def test_invoke_requires_the_pinned_guardrail_version(stage: Synthesized) -> None:
    st = invoke_statement(stage)
    condition = render(st["Condition"]["StringEquals"]["bedrock:GuardrailIdentifier"])
    # <guardrail arn>:<version>, both imported from the guardrail stack
    assert re.fullmatch(
        r"\$\{Import:[^}]+GuardrailArn[^}]*\}:\$\{Import:[^}]+Version[^}]*\}", condition
    ), condition
    apply = [
        s
        for _, s in statements(stage.templates["Api"])
        if as_list(s["Action"]) == ["bedrock:ApplyGuardrail"]
    ]
    assert len(apply) == 1 and "GuardrailArn" in render(apply[0]["Resource"])


def test_chat_role_has_nothing_but_logs_tracing_and_bedrock(stage: Synthesized) -> None:
    allowed_prefixes = ("logs:", "xray:", "bedrock:")
    for _, st in statements(stage.templates["Api"]):
        for action in as_list(st["Action"]):
            assert action.startswith(allowed_prefixes), action


# ----------------------------------------------------------------------------- function


def chat_function(stage: Synthesized) -> dict[str, Any]:
    return next(
        f
        for f in stage.resources("AWS::Lambda::Function", "Api").values()
        if f["Properties"]["Handler"] == "handlers.chat.handler"
    )


def test_chat_function_runtime_and_settings(stage: Synthesized) -> None:
    props = chat_function(stage)["Properties"]
    rt = stage.config.runtime
    assert props["Architectures"] == ["arm64"]
    assert props["Runtime"].startswith("python3.1")
    assert props["TracingConfig"] == {"Mode": "Active"}
    assert props["MemorySize"] == rt.memory_mb and props["Timeout"] == rt.timeout_seconds
    assert props["LoggingConfig"]["LogFormat"] == "JSON"
    if rt.reserved_concurrency:
        assert props["ReservedConcurrentExecutions"] == rt.reserved_concurrency


def test_runtime_settings_document_validates_against_the_runtime_schema(
    stage: Synthesized,
) -> None:
    env = chat_function(stage)["Properties"]["Environment"]["Variables"]
    # Tokens (imports of profile/guardrail ARNs) rendered as placeholders, then parsed as JSON
    text = render(env["KIT_SETTINGS"])
    text = re.sub(r"\$\{[^}]*\}", "TOKEN", text)
    settings = Settings.model_validate(json.loads(text))
    chat = stage.config.chat_models(CATALOG)
    assert sorted(settings.models) == sorted(m.id for m in chat)
    assert dict(settings.tiers) == stage.config.tiers.model_dump()
    assert settings.log_prompts is stage.config.runtime.log_prompts
    for ref in chat:
        prices = CATALOG.models[ref.id].prices_for(ref.profile)
        assert settings.models[ref.id].input_per_mtok == prices.input_per_mtok
        assert settings.models[ref.id].output_per_mtok == prices.output_per_mtok


# ----------------------------------------------------------------------------- API


def test_api_methods_use_iam_auth_and_validate_bodies(stage: Synthesized) -> None:
    methods = stage.resources("AWS::ApiGateway::Method")
    assert methods
    for lid, m in methods.items():
        assert m["Properties"]["AuthorizationType"] == "AWS_IAM", lid
        assert "RequestValidatorId" in m["Properties"], lid
    post = [m for m in methods.values() if m["Properties"]["HttpMethod"] == "POST"]
    assert post and all("RequestModels" in m["Properties"] for m in post)
    validator = only(stage.resources("AWS::ApiGateway::RequestValidator"))["Properties"]
    assert validator["ValidateRequestBody"] is True


def test_api_stage_throttles_traces_and_logs_access(stage: Synthesized) -> None:
    props = only(stage.resources("AWS::ApiGateway::Stage"))["Properties"]
    api = stage.config.api
    settings = props["MethodSettings"][0]
    assert settings["ThrottlingRateLimit"] == api.throttle_rate_limit
    assert settings["ThrottlingBurstLimit"] == api.throttle_burst_limit
    assert settings["DataTraceEnabled"] is False  # request bodies hold prompts
    assert props["TracingEnabled"] is True
    assert "DestinationArn" in props["AccessLogSetting"]
    assert props["StageName"] == stage.name
    endpoint = only(stage.resources("AWS::ApiGateway::RestApi"))["Properties"]
    assert endpoint["EndpointConfiguration"]["Types"] == ["REGIONAL"]


# ----------------------------------------------------------------------------- retention


def test_log_groups_are_retained_with_configured_retention(stage: Synthesized) -> None:
    groups = stage.resources("AWS::Logs::LogGroup")
    assert len(groups) >= 3  # chat, API access, model access (+ its provider)
    for lid, group in groups.items():
        assert group["DeletionPolicy"] == "Retain", lid
        assert group["UpdateReplacePolicy"] == "Retain", lid
        assert group["Properties"]["RetentionInDays"] == stage.config.runtime.log_retention_days


# Stateful resources keep their logical ids: renaming one would replace (and orphan) it.
PINNED_LOGICAL_IDS = {
    "Api": {"ChatLogs5E9385DA", "ChatApiAccessLogs06A21BFA"},
    "Guardrails": {"GuardrailA5094A7B"},
    "Platform": {"ModelAccessFunctionLogs9DBAE89F", "ModelAccessProviderLogsC11F540D"},
}


def test_stateful_logical_ids_are_stable(stage: Synthesized) -> None:
    for stack, ids in PINNED_LOGICAL_IDS.items():
        assert ids <= set(stage.templates[stack]["Resources"]), (stack, ids)
