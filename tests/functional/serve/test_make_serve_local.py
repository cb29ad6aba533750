"""The literal ``make serve-local PORT=<port>``: it starts, ``/chat`` answers, ``/chat/stream``
streams to ``curl -N`` as the events come, and stopping its process group leaves no process."""

from __future__ import annotations

import json
import shutil
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from stacks.catalog import load_catalog
from stacks.tools.serve import DEFAULT_EVENT_DELAY_S
from tests.stages import basic_stage
from tests.support.serve_local import group_alive, make_serve_local, stop_group
from tests.support.timed_output import first_arrival, read_timed

STAGE = "make-serve-test"
STORY = "a newcomer typed one command and watched the kit stream a story back word by word"


def body(text: str) -> str:
    return json.dumps({"messages": [{"role": "user", "content": text}]})


def curl(*args: str) -> list[str]:
    found = shutil.which("curl")
    assert found is not None
    return [found, "--silent", "--show-error", "--max-time", "30", *args]


def post_timed(url: str, payload: str) -> list[tuple[float, bytes]]:
    """POST ``payload``; each piece of the answer with the time it arrived (``curl -N`` when
    the machine has curl, else urllib reading what is there as it comes)."""
    if shutil.which("curl"):
        process = subprocess.Popen(
            curl("-N", url, "-H", "content-type: application/json", "-d", payload),
            stdout=subprocess.PIPE,
        )
        try:
            return read_timed(process, timeout_s=30)
        finally:
            stop_curl(process)
    request = urllib.request.Request(
        url, data=payload.encode(), headers={"content-type": "application/json"}
    )
    pieces: list[tuple[float, bytes]] = []
    with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
        while chunk := response.read1(65536):
            pieces.append((time.monotonic(), chunk))
    return pieces


def stop_curl(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.kill()
    process.wait(timeout=10)


def post(url: str, payload: str) -> tuple[int, dict]:
    if shutil.which("curl"):
        done = subprocess.run(
            curl(
                "-w", "\n%{http_code}", url, "-H", "content-type: application/json", "-d", payload
            ),
            capture_output=True,
            text=True,
            timeout=60,
            check=True,
        )
        text, _, status = done.stdout.rpartition("\n")
        return int(status), json.loads(text)
    request = urllib.request.Request(
        url, data=payload.encode(), headers={"content-type": "application/json"}
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def test_given_make_serve_local_when_called_then_it_answers_streams_and_stops_cleanly(
    tmp_path: Path,
) -> None:
    # Given a test-owned config whose default stage is the test's own
    cdk_json = tmp_path / "cdk.json"
    context = {"stages": {STAGE: basic_stage(load_catalog())}, "kit": {"default_stage": STAGE}}
    cdk_json.write_text(json.dumps({"context": context}))
    with make_serve_local(cdk_json, tmp_path / "serve.out") as server:
        # When /chat is posted, Then it answers 200 with the stand-in's echo, metered
        status, answer = post(f"{server.url}/chat", body("hello kit"))
        assert status == 200, answer
        assert answer["text"] == "Echo: hello kit" and answer["cost"]["total_usd"] > 0
        # And bad input gets the API's 422
        status, refused = post(f"{server.url}/chat", json.dumps({"messages": []}))
        assert status == 422 and refused["error"]["code"] == "invalid_request"
        # When /chat/stream is read with curl -N, Then the events arrive as they are sent
        pieces = post_timed(f"{server.url}/chat/stream", body(STORY))
        raw = b"".join(chunk for _, chunk in pieces).decode()
        events = [block for block in raw.split("\n\n") if block]
        assert events[0].startswith("event: delta") and events[-1].startswith("event: done")
        deltas = [json.loads(e.split("data: ", 1)[1])["text"] for e in events[:-1]]
        assert "".join(deltas) == f"Echo: {STORY}"
        first, last = first_arrival(pieces, b"event: delta"), first_arrival(pieces, b"event: done")
        # The stand-in waits between its events (serve.py --event-delay; make passes none):
        # the first delta came well before the end, not with it.
        assert last - first >= (len(events) - 2) * DEFAULT_EVENT_DELAY_S * 0.5
        # And the terminal showed where it serves
        assert f"serving the kit's API on {server.url}" in server.printed()
        process = server.process
    # When the context stops the group, Then make and every child are gone
    assert process.returncode is not None
    assert not group_alive(process.pid)


def test_given_a_process_group_when_stopped_then_a_child_that_would_outlive_its_leader_is_gone(
    tmp_path: Path,
) -> None:
    # Given a shell leading its own group with a child that would outlive it
    process = subprocess.Popen(
        ["sh", "-c", "sleep 300 & wait"], start_new_session=True, stdout=subprocess.DEVNULL
    )
    assert group_alive(process.pid)
    # When the group is stopped, Then no process of it is left
    stop_group(process, grace_s=5)
    assert not group_alive(process.pid)


pytestmark = pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")
