"""``make serve-local`` as a subprocess on a free port, and a reader of its event streams."""

from __future__ import annotations

import http.client
import json
import os
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
