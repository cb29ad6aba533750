"""``make serve-local`` as a subprocess on a free port, and a reader of its event streams."""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
START_TIMEOUT_S = 60.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class LocalServer:
    """A running ``serve-local``: its port and the banner it printed."""

    port: int
    process: subprocess.Popen[str]

    def connection(self) -> http.client.HTTPConnection:
        return http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)

    def post(self, path: str, body: Any) -> http.client.HTTPResponse:
        """``POST path`` with ``body`` as JSON; the response, unread (it may stream)."""
        conn = self.connection()
        conn.request(
            "POST", path, body=json.dumps(body), headers={"content-type": "application/json"}
        )
        return conn.getresponse()


@contextmanager
def serve_local(cdk_json: Path, *, event_delay_s: float) -> Iterator[LocalServer]:
    """Run ``python -m stacks.tools.serve --local`` (what ``make serve-local`` runs) until the
    port answers; stop it on exit."""
    port = free_port()
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "stacks.tools.serve",
            "--local",
            f"--port={port}",
            f"--cdk-json={cdk_json}",
            f"--event-delay={event_delay_s}",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + START_TIMEOUT_S
        while True:
            if process.poll() is not None:
                raise AssertionError(f"serve-local exited: {process.stdout.read()}")  # type: ignore[union-attr]
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                    break
            except OSError:
                if time.monotonic() > deadline:
                    raise AssertionError("serve-local did not listen in time") from None
                time.sleep(0.1)
        yield LocalServer(port, process)
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def read_events(response: http.client.HTTPResponse) -> Iterator[tuple[str, Any, float]]:
    """Each server-sent event as ``(event, data, monotonic time it arrived)``."""
    name, data = "", ""
    while True:
        line = response.readline()
        if not line:
            return
        text = line.decode().rstrip("\r\n")
        if text.startswith("event: "):
            name = text[len("event: ") :]
        elif text.startswith("data: "):
            data = text[len("data: ") :]
        elif text == "" and name:
            yield name, json.loads(data), time.monotonic()
            name, data = "", ""


@contextmanager
def asgi_on_localhost(app: Any) -> Iterator[int]:
    """Serve ``app`` with uvicorn (the server the function runs) in a thread; its port."""
    import threading

    import uvicorn

    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline:
            raise AssertionError("uvicorn did not start")
        time.sleep(0.01)
    try:
        yield port
    finally:
        server.should_exit = True
        thread.join(timeout=5)


@dataclass
class MadeServer:
    """A running ``make serve-local``: its port, the make process (leader of its own process
    group) and the file its terminal output goes to."""

    port: int
    process: subprocess.Popen[bytes]
    output: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def printed(self) -> str:
        return self.output.read_text(errors="replace")


@contextmanager
def make_serve_local(cdk_json: Path, output: Path) -> Iterator[MadeServer]:
    """Run the literal ``make serve-local PORT=<free port> CDK_JSON=<cdk_json>`` in its own
    process group until the port answers; on exit stop the whole group (make, python,
    uvicorn) with SIGTERM, SIGKILL after 10 s."""
    port = free_port()
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL")
    }
    env["PYTHONUNBUFFERED"] = "1"
    with output.open("wb") as sink:
        process = subprocess.Popen(
            ["make", "-s", "serve-local", f"PORT={port}", f"CDK_JSON={cdk_json}"],
            cwd=ROOT,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=sink,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    running = MadeServer(port, process, output)
    try:
        deadline = time.monotonic() + START_TIMEOUT_S
        while True:
            if process.poll() is not None:
                raise AssertionError(f"make serve-local exited: {running.printed()}")
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                    break
            except OSError:
                if time.monotonic() > deadline:
                    raise AssertionError("make serve-local did not listen in time") from None
                time.sleep(0.1)
        yield running
    finally:
        stop_group(process)


def stop_group(process: subprocess.Popen[Any], *, grace_s: float = 10.0) -> None:
    """SIGTERM ``process``'s process group (it leads it), wait for the leader, SIGKILL what is
    left after ``grace_s``; returns once no process of the group remains."""
    group = process.pid
    with contextlib.suppress(ProcessLookupError):
        os.killpg(group, signal.SIGTERM)
    try:
        process.wait(timeout=grace_s)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(group, signal.SIGKILL)
        process.wait()
    deadline = time.monotonic() + grace_s
    while group_alive(group):
        if time.monotonic() > deadline:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(group, signal.SIGKILL)
        time.sleep(0.05)


def group_alive(group: int) -> bool:
    """Whether any process of process group ``group`` is still running (zombies excluded)."""
    try:
        os.killpg(group, 0)
    except ProcessLookupError:
        return False
    # A member that exited but was not yet reaped still counts for killpg: look at its state.
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[2]) == group and fields[0] != "Z":
            return True
    return False
