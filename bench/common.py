"""What every bench section shares: paths, the environment `make` gives, the summary rows."""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LAMBDA_DIR = ROOT / "lambda"
VENV_PYTHON = ROOT / ".venv" / "bin" / "python"

# What the Makefile exports, so `python bench/run.py` run by hand measures the same thing.
MAKE_ENV = {
    "UV_COMPILE_BYTECODE": "1",
    "UV_LINK_MODE": "copy",
    "AWS_EC2_METADATA_DISABLED": "true",
    "CDK_DISABLE_CLI_TELEMETRY": "true",
    "JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION": "1",
}
# Variables a parent `make`/`uv run` leaves behind that must not leak into nested runs.
_LEAKY = (
    "MAKEFLAGS",
    "MAKELEVEL",
    "MFLAGS",
    "MAKEOVERRIDES",
    "VIRTUAL_ENV",
    "UV_RUN_RECURSION_DEPTH",
)

# Environment the chat function has in Lambda (import-relevant part; the stack sets these).
LAMBDA_ENV = {
    "POWERTOOLS_SERVICE_NAME": "chat",
    "POWERTOOLS_METRICS_NAMESPACE": "BedrockKitBench",
    "AWS_DEFAULT_REGION": "us-east-1",
}


@dataclass
class Row:
    figure: str
    value: str
    target: str
    verdict: str  # PASS / MISS / FAIL (could not measure) / info


ROWS: list[Row] = []


def row(
    figure: str,
    value: float | None,
    unit: str,
    target: float | None,
    *,
    note: str = "",
    failed: bool = False,
) -> None:
    """One line of the closing summary; ``target`` None means a figure without a target."""
    if value is None:
        shown = "n/a"
    elif unit == "s":
        shown = f"{value:.2f} s"
    elif unit == "ms":
        shown = f"{value:.3f} ms" if value < 10 else f"{value:.1f} ms"
    else:
        shown = f"{value:.1f} {unit}"
    if note:
        shown += f" ({note})"
    if target is None:
        verdict, tgt = "info", "-"
    else:
        tgt = f"<= {target:.4g} {unit}"
        passed = not failed and value is not None and value <= target
        verdict = "PASS" if passed else ("FAIL" if failed or value is None else "MISS")
    ROWS.append(Row(figure, shown, tgt, verdict))


def fact(figure: str, text: str, *, ok: bool | None = None) -> None:
    """A summary line that is a statement, not a number (PASS/FAIL when ``ok`` is given)."""
    verdict = "info" if ok is None else ("PASS" if ok else "FAIL")
    ROWS.append(Row(figure, text, "-", verdict))


def header(title: str) -> None:
    print(f"\n=== {title} " + "=" * max(0, 70 - len(title)), flush=True)


def base_env(root: Path = ROOT) -> dict[str, str]:
    """The environment `make` gives its recipes in ``root``."""
    env = {k: v for k, v in os.environ.items() if k not in _LEAKY}
    env.update(MAKE_ENV)
    path = [
        p
        for p in env.get("PATH", "").split(os.pathsep)
        if p
        and not p.startswith(str(ROOT / "node_modules"))
        and not p.startswith(str(ROOT / ".build"))
        and not p.startswith(str(ROOT / ".venv"))
    ]
    env["PATH"] = os.pathsep.join(
        [str(root / "node_modules" / ".bin"), str(root / ".build" / "tools" / "bin"), *path]
    )
    return env


def stages() -> list[str]:
    return sorted(json.loads((ROOT / "cdk.json").read_text())["context"]["stages"])


def tail(text: str, lines: int = 3) -> str:
    return " | ".join(line.strip() for line in text.strip().splitlines()[-lines:])


def at_least(minimum: int) -> Callable[[str], int]:
    """An argparse type: an integer of at least ``minimum`` (a clear usage error otherwise)."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not an integer") from None
        if value < minimum:
            raise argparse.ArgumentTypeError(f"{value} is below the minimum, {minimum}")
        return value

    return parse


def fraction(text: str) -> float:
    """An argparse type: a number from 0 to 1."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not 0 <= value <= 1:
        raise argparse.ArgumentTypeError(f"{value} is not between 0 and 1")
    return value


@contextlib.contextmanager
def stdout_to_devnull() -> Iterator[None]:
    """Point file descriptor 1 at /dev/null (the log and metric writes still happen)."""
    sys.stdout.flush()
    saved = os.dup(1)
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 1)
        yield
    finally:
        sys.stdout.flush()
        os.dup2(saved, 1)
        os.close(saved)
        os.close(devnull)


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    k = (len(ordered) - 1) * q
    lo, hi = int(k), min(int(k) + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo)


def tool_version(cmd: list[str], env: dict[str, str]) -> str:
    try:
        return (
            subprocess.run(
                cmd, env=env, capture_output=True, text=True, timeout=60, cwd=ROOT
            ).stdout.strip()
            or "?"
        )
    except OSError:
        return "not found"
