"""The knowledge endpoints in the Api stack: routes, request models, settings and IAM.

Built by the harness (:mod:`tests.support.knowledge_api`): the Api stack of the test-owned
``knowledge`` stage with literal Knowledge, Platform and Guardrail handles.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from kit_runtime.contracts.chat import ChatSettings
from kit_runtime.contracts.knowledge import (
    RagRequest,
    RagSettings,
    RetrieveRequest,
    RetrieveSettings,
)
from stacks.api.rag_endpoint import LOG_GROUP_LOGICAL_ID as RAG_LOGS
from stacks.api.request_model import api_gateway_schema
from stacks.api.retrieve_endpoint import LOG_GROUP_LOGICAL_ID as RETRIEVE_LOGS
from tests.support.knowledge_api import knowledge_api, literal_handles
from tests.support.synth import Synthesized
from tests.support.templates import as_list, render, statements

RAG = "handlers.rag.handler"
RETRIEVE = "handlers.retrieve.handler"
CHAT = "handlers.chat.handler"


@pytest.fixture(scope="module")
def api() -> Synthesized:
    return knowledge_api()


def function(api: Synthesized, handler: str) -> tuple[str, dict[str, Any]]:
    found = [
        (lid.split("/", 1)[1], f)
        for lid, f in api.resources("AWS::Lambda::Function", "Api").items()
        if f["Properties"]["Handler"] == handler
    ]
    assert len(found) == 1, handler
    return found[0]


def role_statements(api: Synthesized, handler: str) -> list[dict[str, Any]]:
    """Every statement of the policies attached to ``handler``'s role."""
    _, fn = function(api, handler)
    role = fn["Properties"]["Role"]["Fn::GetAtt"][0]
    template = api.templates["Api"]
    found = []
    for lid, st in statements(template):
        roles = template["Resources"][lid]["Properties"].get("Roles", [])
        if {"Ref": role} in roles:
            found.append(st)
    return found


def settings_of(api: Synthesized, handler: str) -> dict[str, Any]:
    _, fn = function(api, handler)
    loaded: dict[str, Any] = json.loads(
        fn["Properties"]["Environment"]["Variables"]["KIT_SETTINGS"]
    )
    return loaded


def without_nulls(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: without_nulls(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [without_nulls(v) for v in value]
    return value


def bedrock(sts: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [s for s in sts if any(a.startswith("bedrock:") for a in as_list(s["Action"]))]


def test_the_stack_synthesizes_and_cdk_nag_finds_nothing(api: Synthesized) -> None:
    assert api.synth_error is None, api.synth_error
    assert api.nag_findings == []


def test_cfn_lint_finds_nothing(api: Synthesized) -> None:
    from cfnlint.api import ManualArgs, lint_file

    found = lint_file(
        api.template_files["Api"],
        config=ManualArgs(ignore_checks=["W3005"], regions=[api.plan.region]),
    )
    assert [str(m) for m in found] == []


def test_both_routes_are_iam_authorized_and_validated_against_the_runtime_schema(
    api: Synthesized,
) -> None:
    models = {
        m["Properties"]["Name"]: m["Properties"]["Schema"]
        for m in api.resources("AWS::ApiGateway::Model").values()
    }
    # (CloudFormation templates drop null values such as "default": null)
    assert models["RagRequest"] == without_nulls(api_gateway_schema(RagRequest))
    assert models["RetrieveRequest"] == without_nulls(api_gateway_schema(RetrieveRequest))
    for name in ("RagRequest", "RetrieveRequest"):
        assert "$ref" not in json.dumps(models[name])
    methods = [
        m["Properties"]
        for m in api.resources("AWS::ApiGateway::Method").values()
        if m["Properties"]["HttpMethod"] == "POST"
    ]
    by_model = {next(iter(m["RequestModels"].values())): m for m in methods}
    for name, handler in (("RagRequest", RAG), ("RetrieveRequest", RETRIEVE)):
        method = by_model[name]
        assert method["AuthorizationType"] == "AWS_IAM" and "RequestValidatorId" in method
        fn_lid, _ = function(api, handler)
        assert fn_lid in json.dumps(method["Integration"]["Uri"])
    outputs = api.templates["Api"]["Outputs"]
    assert {"RagUrl", "RetrieveUrl"} <= set(outputs)
    assert render(outputs["RagUrl"]["Value"]).endswith("/rag")


def test_retrieve_settings_carry_each_knowledge_base_from_config_and_handles(
    api: Synthesized,
) -> None:
    settings = RetrieveSettings.model_validate(settings_of(api, RETRIEVE))
    handles = api.knowledge.bases  # type: ignore[attr-defined]
    assert set(settings.knowledge_bases) == {kb.name for kb in api.plan.knowledge_bases}
    for kb in api.plan.knowledge_bases:
        route = settings.knowledge_bases[kb.name]
        assert route.id == handles[kb.name].id
        assert route.tenant_key == kb.tenant_key
        assert (route.default_results, route.max_results) == (
            kb.retrieval.default_results,
            kb.retrieval.max_results,
        )
    assert any(r.tenant_key for r in settings.knowledge_bases.values())
    assert settings.budget == api.plan.time_budget()
    assert settings.log_prompts is api.plan.config.runtime.log_prompts
    assert settings.limits.max_body_bytes == api.plan.config.api.limits.max_body_bytes


def test_rag_settings_are_the_retrieval_settings_plus_the_chat_functions(
    api: Synthesized,
) -> None:
    rag = RagSettings.model_validate(settings_of(api, RAG))
    assert rag.retrieval == RetrieveSettings.model_validate(settings_of(api, RETRIEVE))
    assert rag.chat == ChatSettings.model_validate(settings_of(api, CHAT))
    assert rag.grounding_check is False


def test_the_retrieve_role_may_only_retrieve_from_the_stages_knowledge_bases(
    api: Synthesized,
) -> None:
    sts = bedrock(role_statements(api, RETRIEVE))
    arns = sorted(h.arn for h in api.knowledge.bases.values())  # type: ignore[attr-defined]
    assert len(sts) == 1
    assert as_list(sts[0]["Action"]) == ["bedrock:Retrieve"]
    assert sorted(as_list(sts[0]["Resource"])) == arns
    assert "Condition" not in sts[0]


def test_the_rag_role_may_retrieve_and_invoke_only_through_the_guardrail(
    api: Synthesized,
) -> None:
    sts = bedrock(role_statements(api, RAG))
    _, guardrail, knowledge = literal_handles(api.plan)
    by_action = {tuple(as_list(s["Action"])): s for s in sts}
    assert set(by_action) == {
        ("bedrock:Retrieve",),
        ("bedrock:InvokeModel",),
        ("bedrock:ApplyGuardrail",),
    }
    retrieve = by_action[("bedrock:Retrieve",)]
    assert sorted(as_list(retrieve["Resource"])) == sorted(h.arn for h in knowledge.bases.values())
    invoke = by_action[("bedrock:InvokeModel",)]
    assert invoke["Condition"] == {
        "StringEquals": {"bedrock:GuardrailIdentifier": guardrail.version_arn}
    }
    # The same model resources as the chat function's invoke statement: nothing more
    chat_invoke = next(
        s for s in role_statements(api, CHAT) if as_list(s["Action"]) == ["bedrock:InvokeModel"]
    )
    assert sorted(map(render, as_list(invoke["Resource"]))) == sorted(
        map(render, as_list(chat_invoke["Resource"]))
    )
    assert as_list(by_action[("bedrock:ApplyGuardrail",)]["Resource"]) == [guardrail.arn]


def test_the_iam_walk_holds_for_the_new_statements(api: Synthesized) -> None:
    # The gate of tests/infra/gates walks every stage; the harness stack gets the same rules
    walked = 0
    for handler in (RAG, RETRIEVE):
        for st in role_statements(api, handler):
            actions = [a.lower() for a in as_list(st["Action"])]
            resources = [render(r) for r in as_list(st["Resource"])]
            assert not any("*" in a for a in actions), st
            assert all(a.split(":")[0] in {"bedrock", "logs", "xray"} for a in actions), st
            if not any(a.startswith("bedrock:") for a in actions):
                continue
            # Bedrock actions name exact ARNs only, and invoking needs the stage's guardrail
            assert resources and all("*" not in r for r in resources), st
            if any(a.startswith("bedrock:invoke") for a in actions):
                assert "bedrock:GuardrailIdentifier" in st["Condition"]["StringEquals"], st
            walked += 1
    assert walked >= 4  # Retrieve twice, InvokeModel, ApplyGuardrail


def test_the_new_log_groups_are_retained_with_pinned_ids(api: Synthesized) -> None:
    resources = api.templates["Api"]["Resources"]
    for lid in (RAG_LOGS, RETRIEVE_LOGS):
        assert resources[lid]["Type"] == "AWS::Logs::LogGroup"
        assert resources[lid]["DeletionPolicy"] == "Retain"


def test_a_stage_without_knowledge_handles_gets_no_knowledge_endpoint(
    synth: Any,
) -> None:
    basic = synth("basic")
    handlers = {
        f["Properties"]["Handler"] for f in basic.resources("AWS::Lambda::Function", "Api").values()
    }
    assert RAG not in handlers and RETRIEVE not in handlers
