"""The client's pure parts: request bodies, the printed answer, the smoke table, the verifier."""

from __future__ import annotations

import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from stacks.tools.client import Check, ClientProblem, chat_body, describe_answer, table
from tests.support.signed_front import ACCESS_KEY, SECRET_KEY, SESSION_TOKEN, signature_problem

URL = "http://127.0.0.1:9/stage/chat"


def signed(region: str, body: bytes = b"{}") -> AWSRequest:
    request = AWSRequest(method="POST", url=URL, data=body, headers={"content-type": "x"})
    credentials = Credentials(ACCESS_KEY, SECRET_KEY, SESSION_TOKEN)
    SigV4Auth(credentials, "execute-api", region).add_auth(request)
    return request


def test_given_a_message_when_no_body_then_one_user_message_is_sent() -> None:
    assert chat_body(None, "Hi") == {"messages": [{"role": "user", "content": "Hi"}]}


@pytest.mark.parametrize("body", ["{not json", "[1, 2]"])
def test_given_a_body_that_is_not_a_json_object_then_a_problem_naming_body(body: str) -> None:
    with pytest.raises(ClientProblem, match="BODY"):
        chat_body(body, None)


def test_given_a_guardrail_answer_when_described_then_it_says_so() -> None:
    text = describe_answer({"text": "Sorry", "model": "m", "guardrail_intervened": True})

    assert "guardrail: intervened" in text


def test_given_one_miss_when_tabled_then_the_row_and_verdict_say_so() -> None:
    checks = [Check("a", "200", "200", True), Check("bb", "4xx", "500", False)]

    lines = table(checks).splitlines()

    assert lines[2].endswith("MISS") and lines[2].startswith("bb")
    assert lines[-1] == "1/2 checks passed, 1 missed"


def test_given_a_request_signed_for_the_region_then_the_verifier_accepts_it() -> None:
    request = signed("eu-west-3")

    problem = signature_problem(
        "POST", URL, dict(request.headers.items()), b"{}", region="eu-west-3", service="execute-api"
    )

    assert problem is None


def test_given_a_signed_request_with_another_body_then_the_verifier_refuses_it() -> None:
    request = signed("eu-west-3")

    problem = signature_problem(
        "POST",
        URL,
        dict(request.headers.items()),
        b"{1}",
        region="eu-west-3",
        service="execute-api",
    )

    assert problem == "signature does not match"


def test_given_a_request_signed_for_another_region_then_the_verifier_names_it() -> None:
    request = signed("us-east-1")

    problem = signature_problem(
        "POST", URL, dict(request.headers.items()), b"{}", region="eu-west-3", service="execute-api"
    )

    assert problem is not None and "us-east-1" in problem
