"""``make call STREAM=1``: signs ``POST /chat/stream`` and prints the text as it streams.

The deployed stage is played by the signed front (SigV4 checked) proxying the streaming
function's ASGI app under uvicorn, chunk by chunk, over real HTTP on localhost; the app calls
the local Bedrock wire server, which waits between stream events.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from stacks.tools.client import main
from tests.fakes import Reply
from tests.functional.client.conftest import STAGE, Deployed
from tests.support.routing import arn, chained_settings, fast_chain
from tests.support.signed_front import (
    ROOT,
    SECRET_KEY,
    profile_environment,
    serve_streams,
)
from tests.support.timed_output import TimedWriter, first_arrival, read_timed, without_metrics

STORY = "once upon a time a kit streamed its answer to a terminal one piece at a time"
EVENT_DELAY_S = 0.1


def run_stream(deployed: Deployed, *args: str) -> int:
    return main(["call", f"--stage={STAGE}", f"--cdk-json={deployed.cdk_json}", "--stream", *args])


def test_given_a_slow_stream_when_called_then_the_first_delta_prints_before_the_last_event_is_sent(
    deployed_streaming: Deployed, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a model that streams two words an event, EVENT_DELAY_S apart
    deployed_streaming.api.server.enqueue(
        Reply.text(STORY, input_tokens=11, output_tokens=16, delay_s=EVENT_DELAY_S)
    )
    out = TimedWriter()
    monkeypatch.setattr(sys, "stdout", out)
    # When the client streams through the signed front
    status = run_stream(deployed_streaming, "--message=tell me a story")
    # Then the whole text and a one-line summary from the done event were printed
    printed = out.getvalue()
    assert status == 0, printed
    assert printed.startswith(STORY)
    summary = printed.strip().splitlines()[-1]
    model = deployed_streaming.api.settings.tiers[deployed_streaming.api.settings.default_tier]
    assert f"model {model}" in summary
    assert "attempts 1, fallbacks 0" in summary
    assert "tokens 11 in / 16 out" in summary and "USD" in summary
    # And the first words were on the terminal before the front had sent the done event
    first_words = " ".join(STORY.split()[:2])
    done_sent = first_arrival(deployed_streaming.front.streamed, b"event: done")
    assert out.first_time(first_words) < done_sent - EVENT_DELAY_S
    # And the request was signed and reached the stream route
    assert [(s.path, s.refused) for s in deployed_streaming.front.seen] == [
        (f"/{STAGE}/chat/stream", None)
    ]


def test_given_an_error_after_the_first_delta_when_streamed_then_it_is_printed_and_status_1(
    deployed_streaming: Deployed, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given the model's stream breaks after some text
    deployed_streaming.api.server.enqueue(
        Reply.stream_error("modelStreamErrorException", text_before="partial words")
    )
    # When the client streams
    status = run_stream(deployed_streaming, "--message=hello")
    # Then the text so far is printed, then the error event's code, and the status is 1
    captured = capsys.readouterr()
    out = without_metrics(captured.out)
    assert status == 1
    assert "partial words" in out
    assert "the stream ended with an error" in captured.err
    assert '"code": "model_stream_error"' in captured.err
    assert "model" not in out.replace("partial words", "").strip()


def test_given_a_request_the_api_refuses_when_streamed_then_the_json_error_and_status_1(
    deployed_streaming: Deployed, capsys: pytest.CaptureFixture[str]
) -> None:
    status = run_stream(deployed_streaming, '--body={"tier": "fast", "messages": []}')

    captured = capsys.readouterr()
    assert status == 1
    assert "POST /chat/stream failed: HTTP 422" in captured.err
    assert '"code": "invalid_request"' in captured.err
    assert deployed_streaming.api.server.requests == []


def test_given_a_throttled_first_model_when_streamed_then_the_summary_names_the_fallback(
    deployed_streaming: Deployed, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given a fast tier of two models whose first throttles every ConverseStream call
    settings = chained_settings(2)
    deployed_streaming.api.use(settings)
    serve_streams(deployed_streaming.api)
    first, second = fast_chain(settings)
    deployed_streaming.api.server.enqueue_for(arn(settings, first), Reply.throttle(times=50))
    body = {"tier": "fast", "messages": [{"role": "user", "content": "hello there"}]}
    # When the client streams from the tier
    status = run_stream(deployed_streaming, f"--body={json.dumps(body)}")
    # Then the second model answered, and the summary says so
    out = without_metrics(capsys.readouterr().out)
    assert status == 0
    assert "Echo: hello there" in out
    summary = out.strip().splitlines()[-1]
    attempts = settings.budget.max_attempts + 1
    assert f"model {second} (tier fast), attempts {attempts}, fallbacks 1" in summary


def test_given_a_wrong_secret_when_streamed_then_the_front_refuses_and_status_1(
    deployed_streaming: Deployed,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", SECRET_KEY + "-wrong")

    status = run_stream(deployed_streaming, "--message=Hello")

    assert status == 1
    assert "HTTP 403" in capsys.readouterr().err
    assert [s.refused for s in deployed_streaming.front.seen] == ["signature does not match"]


@pytest.mark.parametrize(
    ("args", "names"),
    [
        (["--path=/rag", "--knowledge-base=docs"], "STREAM=1 streams /chat only"),
        (["--raw"], "--raw prints one JSON answer"),
    ],
)
def test_given_a_route_or_flag_that_cannot_stream_when_streamed_then_status_2(
    deployed_streaming: Deployed,
    capsys: pytest.CaptureFixture[str],
    args: list[str],
    names: str,
) -> None:
    status = run_stream(deployed_streaming, "--message=q", *args)

    assert status == 2
    assert names in capsys.readouterr().err
    assert deployed_streaming.front.seen == []


def test_given_no_credentials_when_streamed_then_status_2_and_nothing_is_sent(
    deployed_streaming: Deployed,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(name)

    status = run_stream(deployed_streaming, "--message=Hello")

    assert status == 2
    assert "no AWS credentials found" in capsys.readouterr().err
    assert deployed_streaming.front.seen == []


def test_given_make_call_stream_1_when_run_then_the_terminal_gets_the_text_while_it_streams(
    deployed_streaming: Deployed, tmp_path: Path
) -> None:
    # Given a profile's credentials and a model that streams EVENT_DELAY_S apart
    env = profile_environment(
        tmp_path,
        profile="client-test",
        cloudformation_url=deployed_streaming.cloudformation.endpoint_url,
    )
    deployed_streaming.api.server.enqueue(Reply.text(STORY, delay_s=EVENT_DELAY_S))
    # When `make call STREAM=1` runs as a user types it
    process = subprocess.Popen(
        [
            "make",
            "-s",
            "call",
            f"STAGE={STAGE}",
            f"CDK_JSON={deployed_streaming.cdk_json}",
            "PROFILE=client-test",
            "STREAM=1",
            "MESSAGE=tell me a story",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        pieces = read_timed(process, timeout_s=60)
        returncode = process.wait(timeout=10)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    # Then it exits 0 having printed the story and the summary line
    assert process.stderr is not None
    output = b"".join(chunk for _, chunk in pieces).decode()
    assert returncode == 0, process.stderr.read().decode()
    assert output.startswith(STORY)
    assert "attempts 1, fallbacks 0" in output.strip().splitlines()[-1]
    # And the first words reached the pipe before the front sent the done event
    first_words = " ".join(STORY.split()[:2]).encode()
    done_sent = first_arrival(deployed_streaming.front.streamed, b"event: done")
    assert first_arrival(pieces, first_words) < done_sent - EVENT_DELAY_S
