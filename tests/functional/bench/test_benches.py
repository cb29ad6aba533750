"""The overhead benches run end to end with tiny counts and print their figures (the figures'
values are the benches' business, recorded in docs/performance.md; a test on a shared machine
cannot hold them)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
NUMBER = r"-?\d+\.\d+"


def run_bench(script: str, *args: str) -> str:
    """``bench/<script>`` in a fresh process; its output (the test fails if it fails)."""
    proc = subprocess.run(
        [sys.executable, str(ROOT / "bench" / script), *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc.stdout


def test_given_a_tiny_count_when_the_stream_bench_runs_then_it_prints_both_added_costs() -> None:
    # Given three streams of four deltas per path, after one warm-up each
    # When the streaming overhead bench runs over localhost HTTP
    out = run_bench("stream_overhead.py", "-n", "3", "--events", "4", "--warmup", "1")
    # Then it prints both paths and the kit's added time to the first event and per event
    for label in ("direct: time to first delta", "kit: time to first delta"):
        assert re.search(rf"{label}\s+{NUMBER}\s+{NUMBER}", out), out
    assert re.search(rf"added time to first event p50 {NUMBER} ms .*: (PASS|MISS)", out), out
    assert re.search(rf"added cost per further event p50 {NUMBER} ms .*: (PASS|MISS)", out), out


def test_given_a_tiny_count_when_the_floor_bench_runs_then_it_prints_the_added_time() -> None:
    # Given four requests per handler, after one warm-up each
    # When the non-streaming floor bench runs both handlers against the local server
    out = run_bench("nonstream_floor.py", "-n", "4", "--warmup", "1")
    # Then it prints both handlers' times and what the kit adds, and nothing of the kit's logs
    for label in ("minimal: boto3 converse direct", "kit: handlers.chat.handler"):
        assert re.search(rf"{label}\s+{NUMBER}\s+{NUMBER}", out), out
    assert re.search(rf"added by the kit p50 {NUMBER} ms .*: (PASS|MISS)", out), out
    assert '"message":"chat answered"' not in out
