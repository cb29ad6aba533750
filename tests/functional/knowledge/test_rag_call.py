"""``make call`` to /rag and /retrieve: signed, through the local stand-in of a deployed stage."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from stacks.catalog import load_catalog
from stacks.tools.client import api_stack_name, main
from tests.fakes import Reply
from tests.stages import basic_stage, with_knowledge_bases
from tests.support.knowledge_runtime import KnowledgeApi
from tests.support.signed_front import (
    FakeCloudFormation,
    SignedFront,
    credentials_env,
    make_call,
    profile_environment,
)

STAGE = "kb-client-test"
# The knowledge bases the local runtime serves (tests/support/knowledge_runtime.py).
SERVED = ("docs", "tenants")


@pytest.fixture
def stage(
    knowledge_api: KnowledgeApi, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[Path, FakeCloudFormation, SignedFront]]:
    """A stage whose ApiUrl points at a SigV4-checking front over the knowledge handlers."""
    catalog = load_catalog()
    config = with_knowledge_bases(catalog, basic_stage(catalog), SERVED)
    cdk_json = tmp_path / "cdk.json"
    cdk_json.write_text(json.dumps({"context": {"stages": {STAGE: config}}}))
    with SignedFront(knowledge_api, stage=STAGE, region=config["region"]) as front:  # type: ignore[arg-type]
        stacks = {api_stack_name("kit", STAGE): {"ApiUrl": front.url}}
        with FakeCloudFormation(stacks) as cloudformation:
            monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-config"))
            monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-credentials"))
            monkeypatch.delenv("AWS_PROFILE", raising=False)
            for key, value in credentials_env().items():
                monkeypatch.setenv(key, value)
            monkeypatch.setenv("AWS_ENDPOINT_URL_CLOUDFORMATION", cloudformation.endpoint_url)
            yield cdk_json, cloudformation, front


def test_given_a_knowledge_base_when_retrieve_is_called_then_the_chunks_are_printed(
    stage: tuple[Path, FakeCloudFormation, SignedFront], capsys: pytest.CaptureFixture[str]
) -> None:
    cdk_json, _, front = stage
    status = main(
        [
            "call",
            f"--stage={STAGE}",
            f"--cdk-json={cdk_json}",
            "--path=/retrieve",
            "--knowledge-base=docs",
            "--message=when are refunds paid",
        ]
    )
    out = capsys.readouterr().out
    assert status == 0
    assert "chunk(s) from docs" in out and "s3://docs/policies/refunds.md" in out
    assert [(s.path, s.refused) for s in front.seen] == [(f"/{STAGE}/retrieve", None)]


def test_given_no_knowledge_base_when_rag_is_called_then_status_2_names_kb(
    stage: tuple[Path, FakeCloudFormation, SignedFront], capsys: pytest.CaptureFixture[str]
) -> None:
    cdk_json, _, front = stage
    status = main(["call", f"--stage={STAGE}", f"--cdk-json={cdk_json}", "--path=/rag"])
    assert status == 2 and "KB=<name>" in capsys.readouterr().err
    assert front.seen == []


def test_given_make_call_with_route_rag_then_the_cited_answer_is_printed(
    stage: tuple[Path, FakeCloudFormation, SignedFront],
    knowledge_api: KnowledgeApi,
    tmp_path: Path,
) -> None:
    cdk_json, cloudformation, _ = stage
    env = profile_environment(
        tmp_path, profile="kb-test", cloudformation_url=cloudformation.endpoint_url
    )
    knowledge_api.server.enqueue(
        Reply.text("Within 14 days [1].", input_tokens=40, output_tokens=6)
    )
    done = make_call(
        [
            f"STAGE={STAGE}",
            f"CDK_JSON={cdk_json}",
            "PROFILE=kb-test",
            "ROUTE=/rag",
            "KB=docs",
            "MESSAGE=when are refunds paid",
        ],
        env,
    )
    assert done.returncode == 0, done.stderr
    assert "Within 14 days [1]." in done.stdout
    assert "[1] s3://docs/policies/refunds.md" in done.stdout
    assert "40 in, 6 out" in done.stdout
    (sent,) = knowledge_api.retrievals()
    assert sent["retrievalQuery"] == {"text": "when are refunds paid"}


@pytest.mark.parametrize("route", ["/rag", "/retrieve"])
def test_given_a_kb_the_stage_lacks_when_called_then_status_2_lists_its_kbs_before_any_aws_call(
    stage: tuple[Path, FakeCloudFormation, SignedFront],
    capsys: pytest.CaptureFixture[str],
    route: str,
) -> None:
    cdk_json, cloudformation, front = stage

    status = main(
        [
            "call",
            f"--stage={STAGE}",
            f"--cdk-json={cdk_json}",
            f"--path={route}",
            "--knowledge-base=nope",
            "--message=q",
        ]
    )

    err = capsys.readouterr().err
    assert status == 2
    assert f"KB='nope' is not a knowledge base of stage {STAGE!r}" in err
    assert all(name in err for name in SERVED)
    assert cloudformation.regions == [] and front.seen == []


def test_given_a_body_naming_a_kb_the_stage_lacks_then_status_2_before_any_aws_call(
    stage: tuple[Path, FakeCloudFormation, SignedFront], capsys: pytest.CaptureFixture[str]
) -> None:
    cdk_json, cloudformation, front = stage
    body = json.dumps({"knowledge_base": "nope", "question": "q"})

    status = main(
        ["call", f"--stage={STAGE}", f"--cdk-json={cdk_json}", "--path=/rag", f"--body={body}"]
    )

    err = capsys.readouterr().err
    assert status == 2
    assert "BODY's knowledge_base 'nope' is not a knowledge base" in err
    assert cloudformation.regions == [] and front.seen == []


def test_given_make_call_with_kb_and_no_route_then_status_2_says_kb_needs_rag_or_retrieve(
    stage: tuple[Path, FakeCloudFormation, SignedFront], tmp_path: Path
) -> None:
    cdk_json, cloudformation, front = stage
    env = profile_environment(
        tmp_path, profile="kb-test", cloudformation_url=cloudformation.endpoint_url
    )

    done = make_call(
        [f"STAGE={STAGE}", f"CDK_JSON={cdk_json}", "PROFILE=kb-test", "KB=docs", "MESSAGE=hi"],
        env,
    )

    assert done.returncode == 2
    assert "applies to ROUTE=/rag (a cited answer) or ROUTE=/retrieve" in done.stderr
    assert cloudformation.regions == [] and front.seen == []
