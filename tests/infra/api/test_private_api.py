"""A private stage's API: PRIVATE, tied to the stage's execute-api endpoint, streaming, guarded.

The API is synthesized behind a test-only network (tests/support/private_api.py) that hands it
an ``execute-api`` endpoint, the way the network stack does for a private stage.
"""

from __future__ import annotations

from typing import Any

import pytest

from stacks.catalog import load_catalog
from stacks.tools.client import ALIAS_URL_OUTPUT, API_URL_OUTPUT
from tests.stages import full_stage
from tests.support.private_api import PrivateApi, synthesize_private_api
from tests.support.templates import as_list, only, render


@pytest.fixture(scope="module")
def private() -> PrivateApi:
    return synthesize_private_api(full_stage(load_catalog()))


def rest_api(private: PrivateApi) -> dict[str, Any]:
    apis = [r for r in private.api["Resources"].values() if r["Type"] == "AWS::ApiGateway::RestApi"]
    assert len(apis) == 1
    return apis[0]["Properties"]


def endpoint_ref(private: PrivateApi) -> str:
    """The execute-api endpoint id as the Api stack reads it from the network stack."""
    ids = rest_api(private)["EndpointConfiguration"]["VpcEndpointIds"]
    assert len(ids) == 1
    return render(ids[0])


def test_the_private_stage_synthesizes_and_passes_nag(private: PrivateApi) -> None:
    assert private.synth_error is None, private.synth_error
    assert private.nag_findings == []


def test_the_api_is_private_and_associated_with_the_stage_endpoint(private: PrivateApi) -> None:
    # Given a private stage, Then the API is PRIVATE and associated with the stage's endpoint
    config = rest_api(private)["EndpointConfiguration"]
    assert config["Types"] == ["PRIVATE"]
    assert private.network_stack_name in endpoint_ref(private)


def test_only_requests_through_the_stage_endpoint_are_let_in(private: PrivateApi) -> None:
    statements = rest_api(private)["Policy"]["Statement"]
    denies = [s for s in statements if s["Effect"] == "Deny"]
    allows = [s for s in statements if s["Effect"] == "Allow"]
    # A Deny on every invoke that did not come through the stage's endpoint
    assert len(denies) == 1
    deny = denies[0]
    assert deny["Action"] == "execute-api:Invoke" and deny["Resource"] == "execute-api:/*"
    assert deny["Principal"] in ("*", {"AWS": "*"})
    assert render(deny["Condition"]["StringNotEquals"]["aws:SourceVpce"]) == endpoint_ref(private)
    # And the only Allow names the account, so IAM decides who in it may call (never "*")
    assert len(allows) == 1
    principal = render(allows[0]["Principal"]["AWS"])
    assert principal.endswith(":root") and "*" not in principal


def test_every_method_still_requires_sigv4(private: PrivateApi) -> None:
    methods = [
        r["Properties"]
        for r in private.api["Resources"].values()
        if r["Type"] == "AWS::ApiGateway::Method"
    ]
    assert methods and all(m["AuthorizationType"] == "AWS_IAM" for m in methods)


def test_streaming_is_configured_on_the_private_api(private: PrivateApi) -> None:
    # Response streaming works for every REST endpoint type, private included (API Gateway
    # developer guide, "response-transfer-mode", checked 2026-12-01).
    streamed = [
        r["Properties"]
        for r in private.api["Resources"].values()
        if r["Type"] == "AWS::ApiGateway::Method"
        and r["Properties"]["Integration"].get("ResponseTransferMode") == "STREAM"
    ]
    assert len(streamed) == 1
    uri = render(streamed[0]["Integration"]["Uri"])
    assert uri.endswith("/response-streaming-invocations")
    resources = {
        lid: r["Properties"]
        for lid, r in private.api["Resources"].items()
        if r["Type"] == "AWS::ApiGateway::Resource"
    }
    stream_resource = resources[streamed[0]["ResourceId"]["Ref"]]
    assert stream_resource["PathPart"] == "stream"


def test_outputs_give_the_private_dns_url_and_the_endpoint_alias_url(private: PrivateApi) -> None:
    outputs = private.api["Outputs"]
    api_url = render(outputs[API_URL_OUTPUT]["Value"])
    alias = render(outputs[ALIAS_URL_OUTPUT]["Value"])
    # https://<api-id>.execute-api.<region>.<suffix>/<stage>/
    assert api_url.startswith("https://${RestApi") and ".execute-api." in api_url
    # https://<api-id>-<vpce-id>.execute-api.<region>.<suffix>/<stage>/ with the same endpoint
    host = alias.split("/")[2]
    assert host.startswith("${RestApi") and f"-{endpoint_ref(private)}.execute-api." in host
    assert api_url.split("/", 3)[3] == alias.split("/", 3)[3]  # the same stage path


def test_the_web_acl_guards_the_private_stage_too(private: PrivateApi) -> None:
    # Given a production private stage, Then its stage has the web ACL (docs/decisions.md)
    association = only(
        {
            lid: r
            for lid, r in private.api["Resources"].items()
            if r["Type"] == "AWS::WAFv2::WebACLAssociation"
        }
    )
    arn = render(association["Properties"]["ResourceArn"])
    assert "::/restapis/${RestApi" in arn and "/stages/${RestApiDeploymentStage" in arn
    assert as_list(rest_api(private)["EndpointConfiguration"]["Types"]) == ["PRIVATE"]
