"""POST /chat/stream: response streaming into the web-adapted function, its grants and data."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from kit_runtime.contracts.chat import ChatSettings
from stacks.api.web_adapter import WebAdapterLayers, web_adapter_layers
from stacks.config import ConfigError
from tests.support.synth import Synthesized
from tests.support.templates import as_list, render, statements


def stream_function(stage: Synthesized) -> dict[str, Any]:
    functions = {
        lid: res
        for lid, res in stage.templates["Api"]["Resources"].items()
        if res["Type"] == "AWS::Lambda::Function" and lid.startswith("ChatStreamFunction")
    }
    assert len(functions) == 1
    return next(iter(functions.values()))["Properties"]


def stream_method(stage: Synthesized) -> dict[str, Any]:
    methods = [
        res["Properties"]
        for res in stage.templates["Api"]["Resources"].values()
        if res["Type"] == "AWS::ApiGateway::Method"
        and res["Properties"]["Integration"].get("ResponseTransferMode") == "STREAM"
    ]
    assert len(methods) == 1, methods
    return methods[0]


def test_the_stream_route_invokes_the_function_with_response_streaming(
    stage: Synthesized,
) -> None:
    # Given a synthesized stage, Then one method streams, IAM-authorized and body-validated
    method = stream_method(stage)
    assert method["HttpMethod"] == "POST" and method["AuthorizationType"] == "AWS_IAM"
    assert method["RequestModels"] and method["RequestValidatorId"]
    # And API Gateway calls InvokeWithResponseStream on the stream function
    uri = render(method["Integration"]["Uri"])
    assert "2021-11-15/functions/" in uri and uri.endswith("/response-streaming-invocations")
    assert "ChatStreamFunction" in uri


def test_the_stream_route_may_stream_as_long_as_the_function_runs_not_the_chat_timeout(
    stage: Synthesized,
) -> None:
    # In STREAM mode the integration timeout bounds the whole answer, so the chat route's
    # (29 s by default) would cut every long answer mid-stream.
    timeout_ms = stream_method(stage)["Integration"]["TimeoutInMillis"]
    assert timeout_ms == stream_function(stage)["Timeout"] * 1000
    assert timeout_ms > stage.config.api.integration_timeout_seconds * 1000


def test_the_stream_function_is_not_traced_by_the_sdk_the_adapter_gives_no_trace_id(
    stage: Synthesized,
) -> None:
    assert stream_function(stage)["Environment"]["Variables"]["POWERTOOLS_TRACE_DISABLED"] == "true"


def test_the_stream_function_runs_behind_the_web_adapter_of_its_region(
    stage: Synthesized,
) -> None:
    props = stream_function(stage)
    env = props["Environment"]["Variables"]
    # Then the layer is the adapter's for the stage's region and the function's architecture
    expected = web_adapter_layers().arn(stage.config.region, props["Architectures"][0])
    assert props["Layers"] == [expected]
    assert env["AWS_LAMBDA_EXEC_WRAPPER"] == "/opt/bootstrap"
    assert env["AWS_LWA_INVOKE_MODE"] == "response_stream"
    assert props["Handler"] == "run.sh"
    # And it reads the same settings contract as POST /chat
    settings = ChatSettings.model_validate_json(render(env["KIT_SETTINGS"]))
    assert set(settings.models) == {m.id for m in stage.plan.chat_models}


def test_the_stream_function_may_stream_only_through_the_guardrail(stage: Synthesized) -> None:
    found = [
        st
        for lid, st in statements(stage.templates["Api"])
        if lid.startswith("ChatStreamFunction")
        and "bedrock:InvokeModelWithResponseStream" in as_list(st["Action"])
        and st.get("Effect") == "Allow"
    ]
    assert len(found) == 1, found
    st = found[0]
    assert "bedrock:GuardrailIdentifier" in str(st.get("Condition"))
    assert "*" not in [render(r) for r in as_list(st["Resource"])]


def test_a_region_without_the_adapter_fails_naming_it_and_the_allowed_ones() -> None:
    # Given the adapter's data, When a region it is not published in is asked for
    layers = web_adapter_layers()
    with pytest.raises(ConfigError) as info:
        layers.arn("xx-nowhere-1", "arm64")
    # Then the error names the region and lists the allowed ones
    message = str(info.value)
    assert "xx-nowhere-1" in message and layers.regions[0] in message


def test_the_data_file_is_valid_and_dated() -> None:
    path = Path(__file__).resolve().parents[3] / "stacks" / "api" / "web_adapter.yaml"
    text = path.read_text()
    assert "Checked 20" in text and "Source:" in text
    assert isinstance(web_adapter_layers(path), WebAdapterLayers)
