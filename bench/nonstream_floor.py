"""Non-streaming floor: the same ``POST /chat`` requests through the kit's chat handler and
through a minimal handler that calls boto3 ``converse`` directly, in one run, against the same
local Bedrock server. Prints what the kit adds at p50/p95; asserts nothing (the suite runs a
tiny count: tests/functional/bench/test_benches.py).

    .venv/bin/python bench/nonstream_floor.py                  # 2,000 requests per handler
    .venv/bin/python bench/nonstream_floor.py -n 500 --warmup 50

Both handlers get the same API Gateway REST proxy event (built before timing) and share one
botocore client with the kit's production configuration; the minimal one sends exactly the
arguments the kit builds (``ChatService.converse_arguments``), parses the body, and answers
with the text and usage as JSON: the floor any Lambda handler in front of Converse pays. The
local Bedrock server runs in its own process (bench/local_servers.py); the handlers alternate
in ABBA order, request by request. stdout (fd 1) goes to /dev/null while timing: the kit's log
line and EMF metrics are still formatted and written, as in Lambda, just not displayed.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "bench"), str(ROOT), str(ROOT / "lambda")]

from common import at_least, percentile, stdout_to_devnull  # noqa: E402
from local_servers import BENCH_ENV, spawn  # noqa: E402

for _key, _value in BENCH_ENV.items():
    os.environ.setdefault(_key, _value)

TARGET_ADDED_MS = 0.5
BODY = {
    "messages": [{"role": "user", "content": "hello there model, how are you today?"}],
    "tier": "fast",
}
Handler = Callable[[dict[str, Any], Any], dict[str, Any]]


@dataclass
class FloorFigures:
    """Per-request wall times (ms) of both handlers, in the order they ran."""

    requests: int
    minimal: list[float]
    kit: list[float]

    def added(self) -> list[float]:
        return [k - m for k, m in zip(self.kit, self.minimal, strict=True)]


def handlers(bedrock_port: int) -> tuple[Handler, Handler]:
    """(the minimal handler, the kit's handler), both over one client to ``bedrock_port``."""
    from handlers import chat as api
    from kit_runtime.bedrock import runtime_client
    from kit_runtime.chat import ChatService
    from kit_runtime.contracts.chat_api import ChatRequest
    from tests.support.chat_api import catalog, make_settings

    settings = make_settings()
    client = runtime_client(
        settings.budget,
        endpoint_url=f"http://127.0.0.1:{bedrock_port}",
        region_name="us-east-1",
        aws_access_key_id="test",
        aws_secret_access_key="test",
    )
    service = ChatService(settings, catalog(), client)
    api.use_service(service)
    request = ChatRequest.model_validate(BODY)
    route = service.route_request(request)
    arguments = service.converse_arguments(request, route.model, route.tier)

    def minimal(event: dict[str, Any], _context: Any) -> dict[str, Any]:
        json.loads(event["body"])  # a handler reads its request
        answer = client.converse(**arguments)
        content = answer["output"]["message"]["content"]
        body = {
            "text": "".join(block.get("text", "") for block in content),
            "stop_reason": answer["stopReason"],
            "usage": answer["usage"],
        }
        return {
            "statusCode": 200,
            "headers": {"Content-Type": "application/json"},
            "body": json.dumps(body),
        }

    return minimal, api.handler


def measure(requests: int, warmup: int) -> FloorFigures:
    """Both handlers ``requests`` times each (after ``warmup`` each), interleaved ABBA."""
    from tests.support.chat_api import rest_event
    from tests.support.lambda_context import LambdaContext

    figures = FloorFigures(requests, [], [])
    context = LambdaContext()
    clock = time.perf_counter_ns
    with spawn("bedrock") as bedrock_port:
        minimal, kit = handlers(bedrock_port)
        with stdout_to_devnull():
            for name, handler in (("minimal", minimal), ("kit", kit)):
                result = handler(rest_event("POST", "/chat", BODY), context)
                if result["statusCode"] != 200:
                    raise RuntimeError(f"the {name} handler answered {result}")

        def timed(handler: Handler, event: dict[str, Any], out: list[float] | None) -> None:
            started = clock()
            result = handler(event, context)
            elapsed = (clock() - started) / 1e6
            if result["statusCode"] != 200:
                raise RuntimeError(result["body"])
            if out is not None:
                out.append(elapsed)

        with stdout_to_devnull():
            for i in range(warmup + requests):
                # Events are built untimed, one fresh event (request id, time) per call.
                a, b = rest_event("POST", "/chat", BODY), rest_event("POST", "/chat", BODY)
                into = i >= warmup
                if i % 2:
                    timed(kit, a, figures.kit if into else None)
                    timed(minimal, b, figures.minimal if into else None)
                else:
                    timed(minimal, a, figures.minimal if into else None)
                    timed(kit, b, figures.kit if into else None)
    return figures


def report(figures: FloorFigures) -> dict[str, float]:
    """Print the figures; the headline values (ms) by name."""
    added = figures.added()
    out = {
        "minimal_p50": percentile(figures.minimal, 0.5),
        "kit_p50": percentile(figures.kit, 0.5),
        "added_p50": percentile(added, 0.5),
        "added_p95": percentile(added, 0.95),
        "added_p50_of_p50s": percentile(figures.kit, 0.5) - percentile(figures.minimal, 0.5),
    }
    print(f"  {'handler':<38}{'p50 ms':>10}{'p95 ms':>10}")
    for label, values in (
        ("minimal: boto3 converse direct", figures.minimal),
        ("kit: handlers.chat.handler", figures.kit),
        ("added by the kit (paired)", added),
    ):
        print(f"  {label:<38}{percentile(values, 0.5):10.4f}{percentile(values, 0.95):10.4f}")
    ok = out["added_p50"] <= TARGET_ADDED_MS
    print(
        f"  added by the kit p50 {out['added_p50']:.3f} ms (p50 kit - p50 minimal "
        f"{out['added_p50_of_p50s']:.3f} ms; target <= {TARGET_ADDED_MS} ms): "
        + ("PASS" if ok else "MISS"),
        flush=True,
    )
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("-n", "--requests", type=at_least(1), default=2000)
    parser.add_argument(
        "--warmup", type=at_least(0), default=200, help="untimed requests per handler"
    )
    args = parser.parse_args()
    print(
        f"# non-streaming floor {datetime.date.today()} on {platform.machine()} "
        f"({os.cpu_count()} cores, load {os.getloadavg()[0]:.1f}), Python "
        f"{platform.python_version()}: {args.requests} requests per handler, {args.warmup} "
        "warm-up each, ABBA",
        flush=True,
    )
    report(measure(args.requests, args.warmup))


if __name__ == "__main__":
    main()
