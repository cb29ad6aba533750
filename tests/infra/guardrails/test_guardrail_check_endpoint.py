"""POST /guardrail/check: its route, and a role that may only apply the stage's guardrail."""

from __future__ import annotations

from typing import Any

from tests.support.synth import Synthesized
from tests.support.templates import as_list, render, statements


def allowed(stage: Synthesized, prefix: str) -> list[dict[str, Any]]:
    return [
        st
        for lid, st in statements(stage.templates["Api"])
        if lid.startswith(prefix) and st.get("Effect") == "Allow"
    ]


def test_the_check_route_is_an_iam_authorized_post_with_a_request_model(
    stage: Synthesized,
) -> None:
    # Given the Api stack, When its /guardrail/check resource and method are read
    resources = stage.templates["Api"]["Resources"]
    parts = {
        lid: r["Properties"]["PathPart"]
        for lid, r in resources.items()
        if r["Type"] == "AWS::ApiGateway::Resource"
    }
    (check_id,) = [lid for lid, part in parts.items() if part == "check"]
    parent = resources[check_id]["Properties"]["ParentId"]
    assert parts[parent["Ref"]] == "guardrail"
    methods = [
        r["Properties"]
        for r in resources.values()
        if r["Type"] == "AWS::ApiGateway::Method"
        and r["Properties"].get("ResourceId") == {"Ref": check_id}
    ]
    # Then one POST, signed (IAM) unless the stage uses Cognito, with a validated body
    (method,) = methods
    assert method["HttpMethod"] == "POST"
    assert method["AuthorizationType"] in ("AWS_IAM", "COGNITO_USER_POOLS")
    assert "application/json" in method["RequestModels"]


def test_the_check_function_may_apply_only_the_stage_guardrail_and_invoke_nothing(
    stage: Synthesized,
) -> None:
    # Given the check function's and the chat function's Allow statements
    check = allowed(stage, "GuardrailCheckFunction")
    chat = allowed(stage, "ChatFunction")
    bedrock = [st for st in check if any(a.startswith("bedrock:") for a in as_list(st["Action"]))]

    # Then its only Bedrock action is ApplyGuardrail, on the guardrail the chat function applies
    assert [as_list(st["Action"]) for st in bedrock] == [["bedrock:ApplyGuardrail"]]
    chat_apply = [st for st in chat if "bedrock:ApplyGuardrail" in as_list(st["Action"])]
    assert [render(r) for r in as_list(bedrock[0]["Resource"])] == [
        render(r) for r in as_list(chat_apply[0]["Resource"])
    ]
    assert "*" not in [render(r) for r in as_list(bedrock[0]["Resource"])]

    # And it may decrypt the guardrail's key exactly where the chat function may
    def decrypts(found: list[dict[str, Any]]) -> list[str]:
        return [
            render(r)
            for st in found
            if "kms:Decrypt" in as_list(st["Action"])
            for r in as_list(st["Resource"])
        ]

    assert decrypts(check) == decrypts(chat)
