"""``API_URL``: ``make smoke`` from a host in (or peered with) a private stage's network."""

from __future__ import annotations

import json

import pytest

from stacks.tools.client import ALIAS_URL_OUTPUT, API_URL_OUTPUT, api_stack_name, main
from tests.fakes import Reply
from tests.functional.client.conftest import STAGE, Deployed

# Where a private API's private-DNS URL would not resolve from a peered host.
UNREACHABLE = "https://127.0.0.1:9/unreachable/"


def smoke(deployed: Deployed, url: str) -> int:
    return main(["smoke", f"--stage={STAGE}", f"--cdk-json={deployed.cdk_json}", f"--url={url}"])


def healthy(deployed: Deployed) -> None:
    tiers = len(deployed.api.settings.tiers)
    deployed.api.server.enqueue(Reply.text("ok", times=tiers), Reply.guardrail_intervened())


def test_given_an_explicit_url_when_smoked_then_it_is_called_without_cloudformation(
    deployed: Deployed, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given a host that reaches only the API (no CloudFormation: the stack is unknown there)
    deployed.cloudformation.stacks.clear()
    healthy(deployed)

    # When smoked with API_URL=<the API's URL>
    status = smoke(deployed, deployed.front.url)

    # Then every check passes against that URL and CloudFormation was never asked
    out = capsys.readouterr().out
    assert status == 0, out
    assert f"smoke test of {deployed.front.url}" in out
    assert deployed.cloudformation.regions == []


def test_given_alias_when_smoked_then_the_endpoint_alias_output_is_called(
    deployed: Deployed, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given a private stage whose private-DNS URL does not resolve here, but whose alias does
    config = json.loads(deployed.cdk_json.read_text())
    config["context"]["stages"][STAGE]["network"] = {"mode": "create"}
    deployed.cdk_json.write_text(json.dumps(config))
    name = api_stack_name("kit", STAGE)
    deployed.cloudformation.stacks[name] = {
        API_URL_OUTPUT: UNREACHABLE,
        ALIAS_URL_OUTPUT: deployed.front.url,
    }
    healthy(deployed)

    # When smoked with API_URL=alias
    status = smoke(deployed, "alias")

    # Then the alias output is what was called, in the stage's region
    out = capsys.readouterr().out
    assert status == 0, out
    assert f"smoke test of {deployed.front.url}" in out
    assert deployed.cloudformation.regions == [deployed.region]


def test_given_alias_on_a_regional_stage_then_exit_2_naming_the_fix(
    deployed: Deployed, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given the regional stage of the fixture (ApiUrl only), When API_URL=alias
    status = smoke(deployed, "alias")

    # Then exit 2 before any AWS call or request: the stage's config has no network
    err = capsys.readouterr().err
    assert status == 2
    assert "API_URL=alias applies to a private stage" in err and "network.mode: none" in err
    assert deployed.cloudformation.regions == [] and deployed.front.seen == []


def test_given_a_malformed_url_then_exit_2_before_credentials_or_aws(
    deployed: Deployed, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given no credentials at all, When API_URL is not a base URL
    for variable in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(variable, raising=False)
    status = smoke(deployed, "api.example.com/prod")

    # Then the URL is what the message names (it is checked first), and nothing was called
    err = capsys.readouterr().err
    assert status == 2 and "API_URL='api.example.com/prod'" in err
    assert deployed.cloudformation.regions == [] and deployed.front.seen == []
