"""``make ingest``: finds the deployed ids, starts or joins a job, follows it, exits by outcome."""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from stacks.catalog import load_catalog
from stacks.knowledge.ingestion_stack import TARGETS_OUTPUT as STACK_OUTPUT
from stacks.tools import ingest
from tests.fakes.bedrock_agent_server import BedrockAgentServer, IngestionService
from tests.stages import knowledge_stage
from tests.support.signed_front import FakeCloudFormation, credentials_env

ROOT = Path(__file__).resolve().parents[3]
STAGE = "ingest-test"


@dataclass
class Deployed:
    cdk_json: Path
    kb: str
    ids: tuple[str, str]
    service: IngestionService
    agent: BedrockAgentServer
    cloudformation: FakeCloudFormation
    names: list[str]

    def env(self) -> dict[str, str]:
        return {
            **credentials_env(),
            "AWS_ENDPOINT_URL_CLOUDFORMATION": self.cloudformation.endpoint_url,
            "AWS_ENDPOINT_URL_BEDROCK_AGENT": self.agent.endpoint_url,
        }


@pytest.fixture
def deployed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Deployed]:
    config = knowledge_stage(load_catalog())
    names = [kb["name"] for kb in config["knowledge_bases"]]
    cdk_json = tmp_path / "cdk.json"
    cdk_json.write_text(json.dumps({"context": {"stages": {STAGE: config}}}))
    targets = {
        n: {"knowledgeBaseId": f"KB{i:08d}", "dataSourceId": f"DS{i:08d}"}
        for i, n in enumerate(names)
    }
    service = IngestionService(
        ("STARTING", "IN_PROGRESS", "IN_PROGRESS", "COMPLETE"),
        statistics={"numberOfDocumentsScanned": 4, "numberOfNewDocumentsIndexed": 3},
    )
    stacks = {
        ingest.ingestion_stack_name("kit", STAGE): {ingest.TARGETS_OUTPUT: json.dumps(targets)}
    }
    with BedrockAgentServer(service) as agent, FakeCloudFormation(stacks) as cloudformation:
        d = Deployed(
            cdk_json, names[0], ("KB00000000", "DS00000000"), service, agent, cloudformation, names
        )
        monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-config"))
        monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-credentials"))
        for name in ("AWS_PROFILE", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
            monkeypatch.delenv(name, raising=False)
        for key, value in d.env().items():
            monkeypatch.setenv(key, value)
        yield d


def run(d: Deployed, kb: str | None = None, *flags: str) -> int:
    # The shortest POLL allowed, and no real wait between the checks.
    return ingest.main(
        [f"--stage={STAGE}", f"--kb={kb or d.kb}", f"--cdk-json={d.cdk_json}", "--poll-seconds=1"]
        + list(flags),
        sleep=lambda _: None,
    )


def test_the_tool_reads_the_output_the_stack_writes() -> None:
    assert ingest.TARGETS_OUTPUT == STACK_OUTPUT


def test_given_a_deployed_stage_when_ingesting_then_the_job_is_followed_to_complete(
    deployed: Deployed, capsys: pytest.CaptureFixture[str]
) -> None:
    status = run(deployed)

    out = capsys.readouterr().out
    assert status == 0
    assert deployed.agent.calls[0] == "StartIngestionJob"
    (job,) = deployed.service.jobs
    assert (job.knowledge_base_id, job.data_source_id) == deployed.ids
    # Progress: each status change once, then the summary
    assert out.index("STARTING") < out.index("IN_PROGRESS") < out.index("COMPLETE")
    assert out.count("IN_PROGRESS") == 1
    assert f"ingestion job {job.job_id}: COMPLETE" in out
    assert "scanned 4, indexed 3" in out
    assert deployed.cloudformation.regions and set(deployed.cloudformation.regions) != {""}


def test_given_a_running_job_when_ingesting_then_it_is_followed_and_the_user_told(
    deployed: Deployed, capsys: pytest.CaptureFixture[str]
) -> None:
    running = deployed.service.start_job(*deployed.ids)

    status = run(deployed)

    out = capsys.readouterr().out
    assert status == 0
    assert deployed.agent.calls[:2] == ["StartIngestionJob", "ListIngestionJobs"]
    assert f"already running ({running.job_id}" in out
    assert len(deployed.service.jobs) == 1


def test_given_a_job_with_failed_documents_then_the_reasons_are_listed_and_status_1(
    deployed: Deployed, capsys: pytest.CaptureFixture[str]
) -> None:
    deployed.service.statistics = {"numberOfDocumentsScanned": 2, "numberOfDocumentsFailed": 1}
    deployed.service.failure_reasons = ["s3://bucket/docs/bad.pdf: unsupported format"]

    status = run(deployed)

    out = capsys.readouterr().out
    assert status == 1
    assert "failed 1" in out
    assert "  - s3://bucket/docs/bad.pdf: unsupported format" in out


def test_given_a_failed_job_then_status_1(
    deployed: Deployed, capsys: pytest.CaptureFixture[str]
) -> None:
    deployed.service.script = ["STARTING", "FAILED"]

    assert run(deployed) == 1
    assert ": FAILED" in capsys.readouterr().out


def test_given_an_unknown_knowledge_base_then_the_stage_names_are_listed(
    deployed: Deployed, capsys: pytest.CaptureFixture[str]
) -> None:
    status = run(deployed, "no-such-kb")

    err = capsys.readouterr().err
    assert status == 2
    assert "'no-such-kb' is not a knowledge base" in err
    assert all(name in err for name in deployed.names)
    assert deployed.agent.calls == [] and deployed.cloudformation.regions == []


def test_given_a_stage_not_deployed_then_the_fix_is_named(
    deployed: Deployed, capsys: pytest.CaptureFixture[str]
) -> None:
    deployed.cloudformation.stacks.clear()

    status = run(deployed)

    assert status == 2
    assert "does not exist" in capsys.readouterr().err
    assert deployed.agent.calls == []


def make_ingest(deployed: Deployed, *words: str) -> subprocess.CompletedProcess[str]:
    """The documented command, run as written (the venv is already installed)."""
    env = {**os.environ, **deployed.env(), "CDK_JSON": str(deployed.cdk_json)}
    return subprocess.run(
        [
            "make",
            "--no-print-directory",
            "-o",
            ".venv/.installed",
            "-o",
            "node_modules/.installed",
            "ingest",
            *words,
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_make_ingest_runs_the_tool_with_kb_and_stage(deployed: Deployed) -> None:
    # Given a job the service ends at its first check after STARTING (one real POLL wait)
    deployed.service.script = ["STARTING", "COMPLETE"]

    proc = make_ingest(deployed, f"KB={deployed.kb}", f"STAGE={STAGE}", "POLL=1")

    assert proc.returncode == 0, proc.stderr
    assert "COMPLETE" in proc.stdout


@pytest.mark.parametrize("poll", ["-1", "0", "abc", "301", "nan", "inf", ""])
def test_given_a_poll_outside_1_to_300_seconds_when_make_ingest_runs_then_status_2_says_so(
    deployed: Deployed, poll: str
) -> None:
    proc = make_ingest(deployed, f"KB={deployed.kb}", f"STAGE={STAGE}", f"POLL={poll}")

    # Then one line names POLL and its range: no usage dump, no trace, nothing asked of AWS
    assert proc.returncode == 2
    assert proc.stderr.splitlines()[0] == (
        f"make ingest: POLL={poll!r} is not allowed: the seconds between progress checks, "
        "a number from 1 to 300 (default 15)"
    )
    assert "usage:" not in proc.stderr and "Traceback" not in proc.stderr
    assert deployed.cloudformation.regions == [] and deployed.agent.calls == []


def test_given_no_kb_when_make_ingest_runs_then_the_stage_given_and_its_names_are_shown(
    deployed: Deployed,
) -> None:
    proc = make_ingest(deployed, f"STAGE={STAGE}")

    assert proc.returncode == 2
    assert f"make ingest KB=<name> STAGE={STAGE};" in proc.stderr
    assert all(name in proc.stderr for name in deployed.names)


def test_given_no_stage_when_the_stack_is_missing_then_the_fix_names_the_default_stage(
    deployed: Deployed, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given a config whose default stage is the test's stage, and nothing deployed
    context = json.loads(deployed.cdk_json.read_text())["context"]
    context["kit"] = {"default_stage": STAGE}
    deployed.cdk_json.write_text(json.dumps({"context": context}))
    deployed.cloudformation.stacks.clear()

    # When make ingest runs without STAGE
    status = ingest.main(
        ["--stage=", f"--kb={deployed.kb}", f"--cdk-json={deployed.cdk_json}"],
        sleep=lambda _: None,
    )

    # Then the fix names the stage the default resolved to, not a placeholder
    err = capsys.readouterr().err
    assert status == 2
    assert f"make deploy STAGE={STAGE})" in err and "<name>" not in err
