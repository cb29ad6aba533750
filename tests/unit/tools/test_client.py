"""The client's pure parts: request bodies, the printed answer, the smoke table, the verifier."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from stacks.tools.client import (
    Check,
    ClientProblem,
    chat_body,
    checked_request,
    describe_answer,
    request_body,
    table,
    with_guardrail,
)
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


def plan_with(*names: str) -> SimpleNamespace:
    """The parts of a ``StagePlan`` the knowledge-base checks read."""
    return SimpleNamespace(name="stage-a", knowledge_bases=[SimpleNamespace(name=n) for n in names])


def test_given_kb_with_the_chat_route_then_it_is_refused_not_dropped() -> None:
    with pytest.raises(
        ClientProblem, match=r"KB='docs' applies to ROUTE=/rag .* or ROUTE=/retrieve"
    ):
        request_body("chat", None, "hi", "docs")


def test_given_kb_beside_a_body_then_it_is_refused_not_dropped() -> None:
    with pytest.raises(ClientProblem, match="KB='docs' is not used with BODY"):
        request_body("rag", '{"knowledge_base": "x", "question": "q"}', None, "docs")


@pytest.mark.parametrize("route", ["rag", "retrieve"])
def test_given_a_stage_without_knowledge_bases_then_a_knowledge_route_is_refused(
    route: str,
) -> None:
    with pytest.raises(
        ClientProblem, match=f"stage 'stage-a' has no knowledge_bases, so POST /{route}"
    ):
        checked_request(plan_with(), route, None, "q", "docs")


def test_given_an_unknown_kb_then_the_stage_and_its_knowledge_bases_are_named() -> None:
    with pytest.raises(ClientProblem) as raised:
        checked_request(plan_with("docs", "faq"), "rag", None, "q", "nope")
    assert str(raised.value) == (
        "KB='nope' is not a knowledge base of stage 'stage-a'; its knowledge bases: docs, faq"
    )


def test_given_no_kb_then_the_message_lists_the_stage_knowledge_bases() -> None:
    with pytest.raises(ClientProblem, match=r"KB=<name> .*stage 'stage-a' has: docs, faq"):
        checked_request(plan_with("docs", "faq"), "retrieve", None, "q", None)


def test_given_a_known_kb_then_the_request_names_it() -> None:
    request = checked_request(plan_with("docs"), "retrieve", None, "q", "docs")
    assert request == {"knowledge_base": "docs", "query": "q"}


def test_given_the_chat_route_then_a_stage_without_knowledge_bases_is_fine() -> None:
    assert checked_request(plan_with(), "chat", None, "hi", None)["messages"]


def plan_guarded(*names: str) -> SimpleNamespace:
    """The parts of a ``StagePlan`` the guardrail check reads."""
    config = SimpleNamespace(guardrails=[SimpleNamespace(name=n) for n in names])
    return SimpleNamespace(name="stage-a", config=config)


@pytest.mark.parametrize("route", ["chat", "rag", "guardrail/check"])
def test_given_a_stage_guardrail_then_the_request_names_it(route: str) -> None:
    request = with_guardrail(
        plan_guarded("strict", "lenient"), route, {"text": "t"}, "lenient", body_given=False
    )
    assert request == {"text": "t", "guardrail": "lenient"}


def test_given_no_guardrail_then_the_request_is_unchanged() -> None:
    assert with_guardrail(plan_guarded("strict"), "chat", {"a": 1}, None, body_given=False) == {
        "a": 1
    }


@pytest.mark.parametrize(
    ("route", "name", "body_given", "problem"),
    [
        (
            "chat",
            "nope",
            False,
            "GUARDRAIL='nope' is not a guardrail of stage 'stage-a'; its "
            "guardrails: strict, lenient",
        ),
        ("retrieve", "strict", False, "does not apply to ROUTE=/retrieve"),
        ("chat", "strict", True, 'put "guardrail" in BODY'),
    ],
)
def test_given_a_guardrail_the_call_cannot_use_then_it_is_refused_before_aws(
    route: str, name: str, body_given: bool, problem: str
) -> None:
    with pytest.raises(ClientProblem) as raised:
        with_guardrail(plan_guarded("strict", "lenient"), route, {}, name, body_given=body_given)
    assert problem in str(raised.value)
