"""Streaming overhead over real HTTP on localhost: what ``POST /chat/stream`` adds to a direct
boto3 ``converse_stream`` against the same local Bedrock wire server. Prints its figures;
asserts nothing (the suite runs a tiny count: tests/functional/bench/test_benches.py).

    .venv/bin/python bench/stream_overhead.py                    # 300 requests of 50 events
    .venv/bin/python bench/stream_overhead.py -n 1000 --events 100 --warmup 50

Three processes: this one (the caller), the local Bedrock server, and the kit's streaming app
under uvicorn as the function runs it (bench/local_servers.py). The two paths alternate in
ABBA order, request by request, to cancel drift in the machine's load.

- direct: the kit's production botocore client calls ``converse_stream`` with exactly the
  arguments the kit sends; time from the call to the first ``contentBlockDelta`` the event
  stream yields, and from there to the last one.
- kit: ``POST /chat/stream`` written to a kept-alive raw socket; time from the write to the
  ``recv`` that brings the first ``event: delta``, and from there to the one bringing the last.
  The bytes are only scanned for event markers, so the caller adds almost nothing of its own.

Added time to the first event = kit - direct (paired, per ABBA pair); added cost per further
event = the difference of the slopes (last - first) / (events - 1). The local server writes the
whole stream at once, so a slope is the processing cost per event, not the network's pacing.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import socket
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "bench"), str(ROOT), str(ROOT / "lambda")]

from common import at_least, percentile  # noqa: E402
from local_servers import BENCH_ENV, spawn  # noqa: E402

for _key, _value in BENCH_ENV.items():
    os.environ.setdefault(_key, _value)

TARGET_FIRST_MS = 1.0
TARGET_PER_EVENT_MS = 0.03
REQUEST = {"tier": "fast", "messages": [{"role": "user", "content": "tell me a story"}]}
_DELTA = b"event: delta\n"
_END = b"\r\n0\r\n\r\n"  # the chunked body's last chunk
_KEEP = max(len(_DELTA), len(_END)) - 1


@dataclass
class Samples:
    """One path's samples, in ms: time to the first delta, and the per-event slope."""

    first: list[float] = field(default_factory=list)
    slope: list[float] = field(default_factory=list)

    def add(self, started: int, first: int, last: int, events: int) -> None:
        self.first.append((first - started) / 1e6)
        self.slope.append((last - first) / 1e6 / max(1, events - 1))


@dataclass
class StreamFigures:
    """The run's samples (ms) and conditions."""

    requests: int
    events: int
    direct: Samples
    kit: Samples

    def added_first(self) -> list[float]:
        return [k - d for k, d in zip(self.kit.first, self.direct.first, strict=True)]

    def added_slope(self) -> list[float]:
        return [k - d for k, d in zip(self.kit.slope, self.direct.slope, strict=True)]


class KitCaller:
    """``POST /chat/stream`` over one kept-alive socket, timing the event markers as they come."""

    def __init__(self, port: int) -> None:
        body = json.dumps(REQUEST).encode()
        self.request = (
            b"POST /chat/stream HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            b"Content-Type: application/json\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body)
        )
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=10)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def once(self, into: Samples, events: int) -> None:
        clock, recv = time.perf_counter_ns, self.sock.recv
        tail, count, first, last = b"", 0, 0, 0
        started = clock()
        self.sock.sendall(self.request)
        head = True
        while True:
            data = recv(65536)
            now = clock()
            if not data:
                raise RuntimeError("the kit closed the connection")
            if head:
                if not data.startswith(b"HTTP/1.1 200"):
                    raise RuntimeError(f"the kit answered {data[:300]!r}")
                head = False
            buf = tail + data
            found = buf.count(_DELTA)
            if found:
                if not count:
                    first = now
                count += found
                last = now
            if buf.endswith(_END):
                break
            tail = buf[-_KEEP:]
        if count != events:
            raise RuntimeError(f"the kit streamed {count} deltas, expected {events}")
        into.add(started, first, last, count)

    def close(self) -> None:
        self.sock.close()


class DirectCaller:
    """boto3 ``converse_stream`` with the kit's client configuration and call arguments."""

    def __init__(self, bedrock_port: int) -> None:
        from kit_runtime.bedrock import runtime_client
        from kit_runtime.chat import ChatService
        from kit_runtime.contracts.chat_api import ChatRequest
        from tests.support.chat_api import catalog, make_settings

        settings = make_settings()
        self.client = runtime_client(
            settings.budget,
            endpoint_url=f"http://127.0.0.1:{bedrock_port}",
            region_name="us-east-1",
            aws_access_key_id="test",
            aws_secret_access_key="test",
        )
        service = ChatService(settings, catalog(), self.client)
        request = ChatRequest.model_validate(REQUEST)
        route = service.route_request(request)
        self.arguments: dict[str, Any] = service.converse_arguments(
            request, route.model, route.tier
        )

    def once(self, into: Samples, events: int) -> None:
        clock = time.perf_counter_ns
        count, first, last = 0, 0, 0
        started = clock()
        for event in self.client.converse_stream(**self.arguments)["stream"]:
            if "contentBlockDelta" in event:
                now = clock()
                if not count:
                    first = now
                count += 1
                last = now
        if count != events:
            raise RuntimeError(f"boto3 streamed {count} deltas, expected {events}")
        into.add(started, first, last, count)


def measure(requests: int, events: int, warmup: int) -> StreamFigures:
    """Run both paths ``requests`` times each (after ``warmup`` each), interleaved ABBA."""
    figures = StreamFigures(requests, events, Samples(), Samples())
    with (
        spawn("bedrock", f"--events={events}") as bedrock_port,
        spawn("kit-stream", f"--bedrock=http://127.0.0.1:{bedrock_port}") as kit_port,
    ):
        direct, kit = DirectCaller(bedrock_port), KitCaller(kit_port)
        try:
            for _ in range(warmup):
                direct.once(Samples(), events)
                kit.once(Samples(), events)
            for i in range(requests):
                if i % 2:
                    kit.once(figures.kit, events)
                    direct.once(figures.direct, events)
                else:
                    direct.once(figures.direct, events)
                    kit.once(figures.kit, events)
        finally:
            kit.close()
    return figures


def report(figures: StreamFigures) -> dict[str, float]:
    """Print the figures; the headline values (ms) by name."""
    added_first, added_slope = figures.added_first(), figures.added_slope()
    out = {
        "direct_first_p50": percentile(figures.direct.first, 0.5),
        "kit_first_p50": percentile(figures.kit.first, 0.5),
        "added_first_p50": percentile(added_first, 0.5),
        "added_first_p95": percentile(added_first, 0.95),
        "direct_slope_p50": percentile(figures.direct.slope, 0.5),
        "kit_slope_p50": percentile(figures.kit.slope, 0.5),
        "added_slope_p50": percentile(added_slope, 0.5),
        "added_slope_p95": percentile(added_slope, 0.95),
    }
    print(f"  {'path':<34}{'p50 ms':>10}{'p95 ms':>10}")
    rows = (
        ("direct: time to first delta", figures.direct.first),
        ("kit: time to first delta", figures.kit.first),
        ("added to first delta (paired)", added_first),
        ("direct: per further delta", figures.direct.slope),
        ("kit: per further delta", figures.kit.slope),
        ("added per further delta (paired)", added_slope),
    )
    for label, values in rows:
        print(f"  {label:<34}{percentile(values, 0.5):10.4f}{percentile(values, 0.95):10.4f}")
    first_ok = out["added_first_p50"] <= TARGET_FIRST_MS
    slope_ok = out["added_slope_p50"] <= TARGET_PER_EVENT_MS
    print(
        f"  added time to first event p50 {out['added_first_p50']:.3f} ms "
        f"(target <= {TARGET_FIRST_MS} ms): {'PASS' if first_ok else 'MISS'}"
    )
    print(
        f"  added cost per further event p50 {out['added_slope_p50']:.4f} ms "
        f"(target <= {TARGET_PER_EVENT_MS} ms): {'PASS' if slope_ok else 'MISS'}",
        flush=True,
    )
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("-n", "--requests", type=at_least(1), default=300)
    parser.add_argument(
        "--events",
        type=at_least(2),
        default=50,
        help="content deltas per stream (>= 2: the per-event cost needs a second event)",
    )
    parser.add_argument("--warmup", type=at_least(0), default=30, help="untimed requests per path")
    args = parser.parse_args()
    print(
        f"# stream overhead {datetime.date.today()} on {platform.machine()} "
        f"({os.cpu_count()} cores, load {os.getloadavg()[0]:.1f}), Python "
        f"{platform.python_version()}: {args.requests} requests per path of {args.events} "
        f"deltas, {args.warmup} warm-up each, ABBA",
        flush=True,
    )
    report(measure(args.requests, args.events, args.warmup))


if __name__ == "__main__":
    main()
