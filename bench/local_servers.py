"""Local servers for the overhead benches, each in its own process.

The local Bedrock wire server (:class:`tests.fakes.FakeBedrock`) and the kit's streaming app
(uvicorn, as the function runs it) each get a process of their own, so neither shares the
measuring client's interpreter lock: the figures are then what the kit adds in a deployment
(a gateway or adapter in front, Bedrock behind), not thread contention inside one Python.

    python bench/local_servers.py bedrock --events 50       # serves until stdin closes
    python bench/local_servers.py kit-stream --bedrock URL  # ditto: the ASGI app, uvicorn

Both print one line, ``port <n>``, once they listen. The bedrock server answers every Converse
and ConverseStream call with the same text of ``--events`` words, streamed one word an event.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BENCH_ENV = {
    # What the stack sets in Lambda (import-relevant), tracing off as in the tests.
    "POWERTOOLS_SERVICE_NAME": "chat",
    "POWERTOOLS_METRICS_NAMESPACE": "BedrockKitBench",
    "POWERTOOLS_TRACE_DISABLED": "true",
    "AWS_DEFAULT_REGION": "us-east-1",
}
FOREVER = 10**9


def answer_text(events: int) -> str:
    """``events`` words: streamed one word an event, ``events`` content deltas."""
    return " ".join(f"w{i}" for i in range(events))


def _paths() -> None:
    for path in (str(ROOT / "lambda"), str(ROOT)):
        if path not in sys.path:
            sys.path.insert(0, path)
    for key, value in BENCH_ENV.items():
        os.environ.setdefault(key, value)


def _serve_bedrock(events: int) -> None:
    _paths()
    from tests.fakes import FakeBedrock, Reply

    with FakeBedrock() as server:
        server.enqueue(Reply.text(answer_text(events), chunk_words=1, times=FOREVER))
        _announce(server.port)
        sys.stdin.read()  # until the parent closes our stdin


def _serve_kit_stream(bedrock_url: str) -> None:
    _paths()
    import uvicorn

    from handlers.chat_stream import app, use_service
    from kit_runtime.bedrock import runtime_client
    from kit_runtime.chat import ChatService
    from tests.support.chat_api import catalog, make_settings
    from tests.support.serve_local import free_port

    settings = make_settings()
    client = runtime_client(
        settings.budget,
        endpoint_url=bedrock_url,
        region_name="us-east-1",
        aws_access_key_id="test",
        aws_secret_access_key="test",
    )
    use_service(ChatService(settings, catalog(), client))
    port = free_port()
    # As handlers.chat_stream.main runs it in Lambda.
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", access_log=False)
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        thread.join(0.01)
    _announce(port)
    sys.stdin.read()
    server.should_exit = True
    thread.join(timeout=5)


def _announce(port: int) -> None:
    """Tell the parent our port, then send stdout (the kit's log and EMF lines, still
    formatted and written as in Lambda) to /dev/null."""
    print(f"port {port}", flush=True)
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)
    os.close(devnull)


@contextmanager
def spawn(*args: str) -> Iterator[int]:
    """Run this module with ``args`` in a fresh process; its port until the block ends."""
    process = subprocess.Popen(
        [sys.executable, str(Path(__file__).resolve()), *args],
        cwd=ROOT,
        env={**os.environ, **BENCH_ENV, "PYTHONUNBUFFERED": "1"},
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        if not line.startswith("port "):
            raise RuntimeError(f"{args[0]} server did not start (exit {process.poll()})")
        yield int(line.split()[1])
    finally:
        if process.stdin is not None:
            process.stdin.close()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("role", choices=("bedrock", "kit-stream"))
    parser.add_argument("--events", type=int, default=50)
    parser.add_argument("--bedrock", default="")
    args = parser.parse_args()
    if args.role == "bedrock":
        _serve_bedrock(args.events)
    else:
        _serve_kit_stream(args.bedrock)


if __name__ == "__main__":
    main()
