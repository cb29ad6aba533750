"""The API stack: one REST API, the chat endpoint, its grants and settings."""

from __future__ import annotations

import json
import re
from typing import Any

from kit_runtime.contracts.chat import ChatSettings
from tests.support.synth import Synthesized
from tests.support.templates import as_list, only, render, statements


def chat_statements(stage: Synthesized) -> list[dict[str, Any]]:
    """The statements of the chat function's role (other endpoints have their own roles)."""
    return [st for lid, st in statements(stage.templates["Api"]) if lid.startswith("ChatFunction")]


def invoke_statement(stage: Synthesized) -> dict[str, Any]:
    found = [
        st
        for st in chat_statements(stage)
        if "bedrock:InvokeModel" in as_list(st["Action"]) and st.get("Effect") == "Allow"
    ]
    assert len(found) == 1
    return found[0]


def test_invoke_is_scoped_to_profiles_and_destination_regions(stage: Synthesized) -> None:
    st = invoke_statement(stage)
    resources = [render(r) for r in as_list(st["Resource"])]
    region = stage.config.region
    # The application profiles (read from the platform stack)
    assert sum("Output:" in r for r in resources) == len(stage.plan.chat_models)
    for ref in stage.plan.chat_models:
        spec = ref.spec
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
    # <guardrail arn>:<version>, both read from the guardrail stack
    assert re.fullmatch(
        r"\$\{Output:[^}]+GuardrailArn[^}]*\}:\$\{Output:[^}]+Version[^}]*\}", condition
    ), condition
    apply = [
        s for s in chat_statements(stage) if as_list(s["Action"]) == ["bedrock:ApplyGuardrail"]
    ]
    assert len(apply) == 1 and "GuardrailArn" in render(apply[0]["Resource"])


def test_chat_role_has_nothing_but_logs_tracing_and_bedrock(stage: Synthesized) -> None:
    # kms:Decrypt: the guardrail's customer-managed key, where the stage has one.
    # A private stage's roles also manage their VPC network interfaces (ec2:).
    private = stage.config.network.mode != "none"
    allowed_prefixes = (
        "logs:",
        "xray:",
        "bedrock:",
        "kms:Decrypt",
        *(("ec2:",) if private else ()),
    )
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
    # X-Ray is active unless the stage turns tracing off, and then the SDK is skipped too
    variables = props["Environment"]["Variables"]
    if rt.tracing:
        assert props["TracingConfig"] == {"Mode": "Active"}
        assert "POWERTOOLS_TRACE_DISABLED" not in variables
    else:
        # Lambda's default, PassThrough; no X-Ray write permission is granted
        assert props.get("TracingConfig", {"Mode": "PassThrough"}) == {"Mode": "PassThrough"}
        assert variables["POWERTOOLS_TRACE_DISABLED"] == "true"
    assert props["MemorySize"] == rt.memory_mb
    # The function outlives API Gateway's integration timeout by one second, never more
    assert props["Timeout"] == stage.config.api.integration_timeout_seconds + 1
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
    settings = ChatSettings.model_validate(json.loads(text))
    chat = stage.plan.chat_models
    assert sorted(settings.models) == sorted(m.id for m in chat)
    assert dict(settings.tiers) == stage.config.tiers.primaries()
    assert dict(settings.fallbacks) == stage.config.tiers.fallbacks()
    assert settings.allow_fallback_for_named_models is (
        stage.config.runtime.allow_fallback_for_named_models
    )
    assert settings.log_prompts is stage.config.runtime.log_prompts
    assert settings.limits.model_dump() == stage.config.api.limits.model_dump()
    for ref in chat:
        assert settings.models[ref.id].profile == ref.profile
    # And the time budget ends before API Gateway gives up, leaving the configured margin
    budget = settings.budget
    assert budget.integration_timeout_ms == stage.config.api.integration_timeout_seconds * 1000
    worst = (budget.connect_timeout_seconds + budget.read_timeout_seconds) * 1000
    assert worst + budget.safety_margin_ms <= budget.integration_timeout_ms


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
    assert endpoint["EndpointConfiguration"]["Types"] == (
        ["PRIVATE"] if stage.plan.private else ["REGIONAL"]
    )


def test_integrations_wait_the_configured_time(stage: Synthesized) -> None:
    # Every route but the streamed one, whose timeout bounds the whole stream (test_chat_stream)
    expected = stage.config.api.integration_timeout_seconds * 1000
    for lid, m in stage.resources("AWS::ApiGateway::Method").items():
        integration = m["Properties"]["Integration"]
        if integration.get("ResponseTransferMode") != "STREAM":
            assert integration["TimeoutInMillis"] == expected, lid


def test_gateway_refusals_use_the_kit_error_shape(stage: Synthesized) -> None:
    responses = stage.resources("AWS::ApiGateway::GatewayResponse")
    types = {r["Properties"]["ResponseType"] for r in responses.values()}
    assert {"BAD_REQUEST_BODY", "DEFAULT_4XX", "DEFAULT_5XX", "INTEGRATION_TIMEOUT"} <= types
    for r in responses.values():
        template = r["Properties"]["ResponseTemplates"]["application/json"]
        assert '"error"' in template and "$context.requestId" in template
        # Gateway response templates substitute variables only: no $util calls
        assert "$util" not in template
    # And a body the request model rejects answers 422, like the handler's schema errors
    bad_body = next(
        r["Properties"]
        for r in responses.values()
        if r["Properties"]["ResponseType"] == "BAD_REQUEST_BODY"
    )
    assert bad_body["StatusCode"] == "422"
    assert '"code": "invalid_request"' in bad_body["ResponseTemplates"]["application/json"]


def test_chat_request_model_is_the_runtime_schema(stage: Synthesized) -> None:
    from kit_runtime.contracts.chat_api import ChatRequest

    model = only(
        {
            k: v
            for k, v in stage.resources("AWS::ApiGateway::Model").items()
            if v["Properties"]["Name"] == "ChatRequest"
        }
    )["Properties"]
    schema = model["Schema"]
    assert schema["$schema"].startswith("http://json-schema.org/draft-04/")
    assert set(schema["properties"]) == set(ChatRequest.model_fields)
    assert "$ref" not in json.dumps(schema)


def test_functions_environment_fits_lambda_limit_with_longest_values(
    any_stage: Synthesized,
) -> None:
    from stacks.core.settings import LAMBDA_ENV_LIMIT_BYTES

    for lid, f in any_stage.resources("AWS::Lambda::Function").items():
        variables = f["Properties"].get("Environment", {}).get("Variables", {})
        # Tokens rendered at their longest: ARNs of at most 151 characters
        size = sum(
            len(k) + len(re.sub(r"\$\{[^}]*\}", "x" * 151, render(v))) for k, v in variables.items()
        )
        assert size <= LAMBDA_ENV_LIMIT_BYTES, (lid, size)


def test_a_changed_request_schema_gives_a_new_deployment() -> None:
    # Given the same API built with two request schemas
    from aws_cdk import App, Stack
    from aws_cdk import aws_lambda as lambda_

    from stacks.api.rest_api import KitRestApi
    from stacks.catalog import load_catalog
    from stacks.config import load_plan
    from tests.stages import basic_stage

    plan = load_plan({"stages": {"t": basic_stage(load_catalog())}, "stage": "t"}, {})

    def deployment_ids(schema: dict[str, Any]) -> set[str]:
        app = App()
        stack = Stack(app, "Api")
        api = KitRestApi(stack, "RestApi", plan=plan)
        handler = lambda_.Function(
            stack,
            "Fn",
            runtime=lambda_.Runtime.PYTHON_3_13,
            handler="index.handler",
            code=lambda_.Code.from_inline("def handler(e, c): return e"),
        )
        api.add_route("/chat", "POST", handler, request_schema=schema, model_name="ChatRequest")
        template = app.synth().get_stack_by_name("Api").template
        return {
            lid
            for lid, r in template["Resources"].items()
            if r["Type"] == "AWS::ApiGateway::Deployment"
        }

    one = {"type": "object", "properties": {"a": {"type": "string"}}}
    two = {"type": "object", "properties": {"a": {"type": "string"}, "b": {"type": "integer"}}}
    # Then the deployment's logical id differs, so CloudFormation deploys the new model
    assert deployment_ids(one) != deployment_ids(two)
    assert deployment_ids(one) == deployment_ids(one)
