"""Throttling storm: 2,000 chat requests while the local Bedrock server refuses 30% of Converse
calls at random; the kit's retries and tier fallback must answer >= 99.9%, none lost, none
answered twice. Prints the outcome with p50/p99 latency; asserts nothing (the test suite runs a
small count: tests/functional/chat/test_throttling_storm.py).

    .venv/bin/python bench/throttling_storm.py                 # the full count
    .venv/bin/python bench/throttling_storm.py -n 500 --rate 0.5 --seed 3 --workers 16

The chat service runs with the kit's default retry policy (3 attempts per model, full-jitter
backoff from 200 ms up to 2 s, botocore's retries off) over a fast tier of three models, with
``--workers`` threads standing in for concurrent Lambda environments.
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "bench"), str(ROOT), str(ROOT / "lambda")]
os.environ.setdefault("POWERTOOLS_METRICS_NAMESPACE", "BedrockKitBench")


def chain_length(text: str) -> int:
    """An argparse type: a tier chain's length, 1-4 like ``tiers`` in config."""
    from stacks.config.models import MAX_CHAIN

    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not an integer") from None
    if not 1 <= value <= MAX_CHAIN:
        raise argparse.ArgumentTypeError(f"{value} is not a chain length (1-{MAX_CHAIN})")
    return value


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    from common import at_least, fraction

    parser.add_argument("-n", "--requests", type=at_least(1), default=2000)
    parser.add_argument("--rate", type=fraction, default=0.3, help="share of calls throttled")
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--workers", type=at_least(1), default=16)
    parser.add_argument(
        "--chain", type=chain_length, default=3, help="models in the fast tier (1-4, as config)"
    )
    args = parser.parse_args()

    from stacks.config.runtime import RuntimeConfig
    from tests.fakes import FakeBedrock
    from tests.support.chat_api import make_service
    from tests.support.routing import chained_settings
    from tests.support.storm import run_storm

    defaults = RuntimeConfig()
    settings = chained_settings(
        args.chain,
        budget={
            "integration_timeout_ms": 29_000,
            "safety_margin_ms": defaults.deadline_margin_ms,
            "connect_timeout_seconds": defaults.connect_timeout_seconds,
            "read_timeout_seconds": 25.0,
            "max_attempts": defaults.max_attempts,
            "backoff_base_ms": defaults.retry_base_delay_ms,
            "backoff_max_ms": defaults.retry_max_delay_ms,
        },
    )
    print(
        f"# throttling storm {datetime.date.today()} on {platform.machine()} "
        f"({os.cpu_count()} cores, load {os.getloadavg()[0]:.1f}), Python "
        f"{platform.python_version()}: {args.requests} requests, {args.rate:.0%} throttled "
        f"(seed {args.seed}), {args.workers} workers, chain of {args.chain}, "
        f"{defaults.max_attempts} attempts per model, backoff "
        f"{defaults.retry_base_delay_ms}-{defaults.retry_max_delay_ms} ms"
    )
    with FakeBedrock() as server:
        service = make_service(server, settings)
        result = run_storm(
            server,
            service,
            requests=args.requests,
            rate=args.rate,
            seed=args.seed,
            workers=args.workers,
        )
    print(result.summary())
    verdict = (
        result.success_rate >= 0.999
        and not result.lost()
        and not result.answered_twice()
        and not result.wrong_answers()
    )
    print(
        f"success {result.success_rate:.2%} (target >= 99.9%), lost {len(result.lost())}, "
        f"answered twice {len(result.answered_twice())}, wrong answers "
        f"{len(result.wrong_answers())}, failures {sorted(set(result.failed.values()))}: "
        + ("OK" if verdict else "MISS")
    )


if __name__ == "__main__":
    main()
