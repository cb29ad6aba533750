"""``make call``: finds the stage's API from its stack outputs, signs, prints the answer."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from kit_runtime.contracts.common import Tier
from stacks.tools.client import main
from tests.fakes import Reply
from tests.functional.client.conftest import STAGE, Deployed
from tests.support.signed_front import SECRET_KEY, make_call, profile_environment


def run_call(deployed: Deployed, *args: str) -> int:
    return main(["call", f"--stage={STAGE}", f"--cdk-json={deployed.cdk_json}", *args])


def test_given_a_deployed_stage_when_called_then_the_signed_answer_is_printed(
    deployed: Deployed, capsys: pytest.CaptureFixture[str]
) -> None:
    deployed.api.server.enqueue(Reply.text("Hi there", input_tokens=7, output_tokens=3))

    status = run_call(deployed, "--message=Hello")

    out = capsys.readouterr().out
    assert status == 0
    assert "Hi there" in out
    fast_model = deployed.api.settings.tiers[deployed.api.settings.default_tier]
    assert fast_model in out
    assert "7 in, 3 out, 10 total" in out
    assert "USD" in out
    assert [s.refused for s in deployed.front.seen] == [None]
    # CloudFormation was asked in the stage's region, not the environment's.
    assert deployed.cloudformation.regions == [deployed.region]


def test_given_a_body_when_called_then_it_is_sent_as_given(
    deployed: Deployed, capsys: pytest.CaptureFixture[str]
) -> None:
    tier: Tier = "deep"
    body = {"tier": tier, "messages": [{"role": "user", "content": "one two three"}]}

    status = run_call(deployed, f"--body={json.dumps(body)}", "--raw")

    out = capsys.readouterr().out
    # The in-process handler logs to stdout too: the answer is the indented JSON at the end.
    answer = json.loads(out[out.rindex("\n{\n") :])
    assert status == 0
    assert answer["tier"] == tier
    assert answer["model"] == deployed.api.settings.tiers[tier]


def test_given_a_request_the_api_refuses_when_called_then_the_error_body_and_status_1(
    deployed: Deployed, capsys: pytest.CaptureFixture[str]
) -> None:
    status = run_call(deployed, '--body={"tier": "fast", "messages": []}')

    err = capsys.readouterr().err
    assert status == 1
    assert "HTTP 422" in err
    assert '"code": "invalid_request"' in err


def test_given_a_wrong_secret_when_called_then_the_front_refuses_the_signature(
    deployed: Deployed, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", SECRET_KEY + "-wrong")

    status = run_call(deployed, "--message=Hello")

    assert status == 1
    assert "HTTP 403" in capsys.readouterr().err
    assert [s.refused for s in deployed.front.seen] == ["signature does not match"]


def test_given_an_unsigned_request_when_sent_then_the_front_answers_403(
    deployed: Deployed,
) -> None:
    request = urllib.request.Request(
        deployed.front.url + "models", headers={"content-type": "application/json"}
    )

    with pytest.raises(urllib.error.HTTPError) as raised:
        urllib.request.urlopen(request, timeout=5)  # noqa: S310

    assert raised.value.code == 403
    assert json.loads(raised.value.read())["error"]["code"] == "INVALID_SIGNATURE"


def test_given_no_credentials_when_called_then_the_preflight_message_and_status_2(
    deployed: Deployed, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(name)

    status = run_call(deployed, "--message=Hello")

    err = capsys.readouterr().err
    assert status == 2
    assert "no AWS credentials found" in err
    assert "aws sso login" in err
    assert deployed.front.seen == []


def test_given_a_stage_that_is_not_deployed_when_called_then_status_2_names_the_stack(
    deployed: Deployed, capsys: pytest.CaptureFixture[str]
) -> None:
    deployed.cloudformation.stacks.clear()

    status = run_call(deployed, "--message=Hello")

    err = capsys.readouterr().err
    assert status == 2
    assert f"does not exist in {deployed.region}" in err


def test_given_an_unknown_stage_when_called_then_status_2_lists_the_stages(
    deployed: Deployed, capsys: pytest.CaptureFixture[str]
) -> None:
    status = main(["call", "--stage=nope", f"--cdk-json={deployed.cdk_json}"])

    assert status == 2
    assert STAGE in capsys.readouterr().err


def test_given_a_profile_when_make_call_runs_then_its_credentials_sign_the_request(
    deployed: Deployed, tmp_path: Path
) -> None:
    env = profile_environment(
        tmp_path, profile="client-test", cloudformation_url=deployed.cloudformation.endpoint_url
    )
    deployed.api.server.enqueue(Reply.text("from make"))

    done = make_call(
        [
            f"STAGE={STAGE}",
            f"CDK_JSON={deployed.cdk_json}",
            "PROFILE=client-test",
            'MESSAGE=it\'s "quoted"',
        ],
        env,
    )

    assert done.returncode == 0, done.stderr
    assert "from make" in done.stdout
    sent = deployed.api.server.requests[-1].body["messages"][0]["content"][0]["text"]
    assert sent == 'it\'s "quoted"'


@pytest.mark.parametrize("route", ["/rag", "/retrieve"])
def test_given_a_stage_without_knowledge_bases_when_a_knowledge_route_is_called_then_status_2(
    deployed: Deployed, capsys: pytest.CaptureFixture[str], route: str
) -> None:
    # Given the test stage, which declares no knowledge_bases
    status = run_call(deployed, f"--path={route}", "--knowledge-base=docs", "--message=q")

    # Then the stage's config says so, and AWS is not asked
    err = capsys.readouterr().err
    assert status == 2
    assert f"stage {STAGE!r} has no knowledge_bases, so POST {route} has none to use" in err
    assert deployed.cloudformation.regions == [] and deployed.front.seen == []


def test_given_a_stage_not_deployed_when_called_then_the_fix_names_that_stage(
    deployed: Deployed, capsys: pytest.CaptureFixture[str]
) -> None:
    deployed.cloudformation.stacks.clear()

    status = run_call(deployed, "--message=Hello")

    err = capsys.readouterr().err
    assert status == 2
    assert f"make deploy STAGE={STAGE})" in err
