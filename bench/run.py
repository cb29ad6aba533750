"""Performance figures of the kit, dated: synth, test suites, handler overhead, cold start.

Run with ``make bench`` (``make bench ARGS="--cold"`` passes arguments on). This prints
measurements; it asserts nothing and is not part of the test suite.

    python bench/run.py                  # every section but the cold clone
    python bench/run.py --only handler   # one section (repeatable: --only synth --only import)
    python bench/run.py --cold           # also the cold `make test` in a fresh clone
    python bench/run.py --only cold      # only the cold run

Sections: synth (CLI and in-process, per stage), tests (warm `make test`), unit (`make
test-unit`), handler (added latency over a direct boto3 Converse), floor (the chat handler
against a minimal boto3 handler, the local server in its own process; bench/nonstream_floor.py),
stream (POST /chat/stream over localhost HTTP against a direct converse_stream;
bench/stream_overhead.py), import (cold import of the
chat handler with and without bytecode; bench/coldstart.py), asset (the Lambda asset: cold
build, determinism, sizes with our boto3 or the runtime's), cold (`make test` in a fresh clone
with empty caches).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from coldstart import bench_asset, bench_import
from common import (
    LAMBDA_DIR,
    LAMBDA_ENV,
    ROOT,
    ROWS,
    VENV_PYTHON,
    base_env,
    header,
    percentile,
    row,
    stages,
    stdout_to_devnull,
    tail,
    tool_version,
)

SECTIONS = ("synth", "tests", "unit", "handler", "floor", "stream", "import", "asset", "cold")


# --------------------------------------------------------------------------------- 1. synth
_INPROC_SYNTH = """
import json, sys, time
t0 = time.perf_counter()
from tests.support.synth import CDK_CONTEXT, clean_work_dir, synthesize
t1 = time.perf_counter()
import aws_cdk, cdk_nag, stacks.app_builder  # jsii kernel start + loading the JS libraries
t2 = time.perf_counter()
phases = {}
def timed(name, fn):
    def wrapper(*a, **k):
        s = time.perf_counter()
        try:
            return fn(*a, **k)
        finally:
            phases[name] = phases.get(name, 0.0) + time.perf_counter() - s
    return wrapper
stacks.app_builder.KitStage = timed("build", stacks.app_builder.KitStage)
aws_cdk.App.synth = timed("app.synth", aws_cdk.App.synth)
s = synthesize(sys.argv[1], CDK_CONTEXT["stages"])
t3 = time.perf_counter()
clean_work_dir()
print(json.dumps({"import_s": t1 - t0, "libs_s": t2 - t1, "synth_s": t3 - t2, "phases": phases,
                  "error": s.synth_error, "stacks": len(s.templates),
                  "nag": len(s.nag_findings)}))
"""

_BUNDLE_ONLY = """
import sys, tempfile, time
from stacks.core.lambda_asset import _UvLocalBundling
with tempfile.TemporaryDirectory() as out:
    t0 = time.perf_counter()
    _UvLocalBundling().try_bundle(out, None)
    print(time.perf_counter() - t0)
"""


def bench_synth() -> None:
    header("1. synth time per stage")
    env = base_env()
    cli_total, cli_ok = 0.0, True
    for name in stages():
        with tempfile.TemporaryDirectory(prefix=f"bench-synth-{name}-") as out:
            cmd = [
                "npx",
                "cdk",
                "synth",
                "--quiet",
                "--no-notices",
                "-c",
                f"stage={name}",
                "-o",
                out,
            ]
            t0 = time.perf_counter()
            proc = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True)
            wall = time.perf_counter() - t0
        ok = proc.returncode == 0
        cli_ok &= ok
        cli_total += wall
        status = "ok" if ok else f"FAILED rc={proc.returncode}: {tail(proc.stderr, 1)[:300]}"
        print(f"  cdk synth -c stage={name:<6} {wall:6.2f} s  {status}", flush=True)
        row(
            f"cdk synth {name} (CLI, with bundling)",
            wall,
            "s",
            None,
            note="" if ok else "synth FAILED",
        )
    print(f"  cdk synth, all stages          {cli_total:6.2f} s", flush=True)
    row(
        "cdk synth all stages (CLI)",
        cli_total,
        "s",
        10,
        failed=not cli_ok,
        note="" if cli_ok else "a synth FAILED",
    )

    inproc_total, inproc_ok = 0.0, True
    pyenv = {**env, "PYTHONPATH": os.pathsep.join([str(ROOT), str(LAMBDA_DIR)])}
    for name in stages():
        t0 = time.perf_counter()
        proc = subprocess.run(
            [str(VENV_PYTHON), "-c", _INPROC_SYNTH, name],
            cwd=ROOT,
            env=pyenv,
            capture_output=True,
            text=True,
        )
        wall = time.perf_counter() - t0
        inproc_total += wall
        try:
            info = json.loads(proc.stdout.strip().splitlines()[-1])
        except (json.JSONDecodeError, IndexError):
            info = None
        ok = proc.returncode == 0 and info is not None and not info["error"]
        inproc_ok &= ok
        if info is not None:
            ph = info["phases"]
            detail = (
                f"(import tests.support.synth {info['import_s']:.2f} s + import aws_cdk/cdk_nag/"
                f"stacks {info['libs_s']:.2f} s + synthesize() {info['synth_s']:.2f} s "
                f"[constructs {ph.get('build', 0):.2f} s, app.synth incl. cdk-nag "
                f"{ph.get('app.synth', 0):.2f} s]; "
                f"{info['stacks']} stacks, {info['nag']} nag findings"
                + (f"; synth_error: {info['error'][:200]}" if info["error"] else "")
                + ")"
            )
        else:
            detail = f"FAILED rc={proc.returncode}: {tail(proc.stderr, 1)[:300]}"
        print(
            f"  tests.support.synth.synthesize({name!r}) subprocess {wall:6.2f} s  {detail}",
            flush=True,
        )
        row(
            f"in-process synth {name} (fresh subprocess)",
            wall,
            "s",
            None,
            note="" if ok else "FAILED",
        )
    print(f"  in-process synth, all stages   {inproc_total:6.2f} s", flush=True)
    row("in-process synth all stages", inproc_total, "s", 10, failed=not inproc_ok)

    # Fixed costs inside each CLI synth, to see what dominates.
    t0 = time.perf_counter()
    subprocess.run(["npx", "cdk", "--version"], cwd=ROOT, env=env, capture_output=True)
    cli_start = time.perf_counter() - t0
    t0 = time.perf_counter()
    subprocess.run([str(VENV_PYTHON), "-c", "pass"], cwd=ROOT, env=env, capture_output=True)
    py_start = time.perf_counter() - t0
    proc = subprocess.run(
        [str(VENV_PYTHON), "-c", _BUNDLE_ONLY], cwd=ROOT, env=pyenv, capture_output=True, text=True
    )
    try:
        bundle = float(proc.stdout.strip().splitlines()[-1])
        bundle_text = f"{bundle:.2f} s"
    except (ValueError, IndexError):
        bundle_text = f"n/a ({tail(proc.stderr, 1)[:200]})"
    print(
        f"  fixed costs: `npx cdk --version` {cli_start:.2f} s; python start {py_start:.2f} s; "
        f"asset bundling alone (copy of the asset cached per asset hash; "
        f"the cold build is in section 'asset') "
        f"{bundle_text}",
        flush=True,
    )


# --------------------------------------------------------------------------------- 2./3. tests
def _pytest_summary(output: str) -> str:
    for line in reversed(output.strip().splitlines()):
        if any(w in line for w in (" passed", " failed", " error", "no tests ran")):
            return line.strip("= ").strip()
    return tail(output, 1)


def run_make_test(root: Path, env: dict[str, str]) -> tuple[float, int, str, str]:
    t0 = time.perf_counter()
    proc = subprocess.run(["make", "test"], cwd=root, env=env, capture_output=True, text=True)
    wall = time.perf_counter() - t0
    output = proc.stdout + proc.stderr
    return wall, proc.returncode, _pytest_summary(proc.stdout), output


def bench_tests() -> None:
    header("2. warm `make test`")
    # Make sure "warm" means installed: an untimed `make install` first.
    subprocess.run(["make", "install"], cwd=ROOT, env=base_env(), capture_output=True)
    wall, rc, summary, _ = run_make_test(ROOT, base_env())
    print(f"  make test (warm)  {wall:6.2f} s  rc={rc}  {summary}", flush=True)
    row("make test, warm", wall, "s", 60, note="" if rc == 0 else f"rc={rc}: {summary}")


def _has_make_target(name: str) -> bool:
    return any(line.startswith(f"{name}:") for line in (ROOT / "Makefile").read_text().splitlines())


def bench_unit() -> None:
    header("2b. unit suite")
    env = base_env()
    if _has_make_target("test-unit"):
        cmd, label = ["make", "test-unit"], "make test-unit"
    else:
        # Until the Makefile has the target: the same tests, the same runner.
        cmd = [str(ROOT / ".build" / "tools" / "bin" / "uv"), "run", "--frozen", "pytest"]
        cmd += ["-q", "tests/unit"]
        label = "pytest tests/unit (no `make test-unit` target yet)"
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True)
    wall = time.perf_counter() - t0
    summary = _pytest_summary(proc.stdout)
    print(f"  {label}  {wall:6.2f} s  rc={proc.returncode}  {summary}", flush=True)
    row(
        label.split(" (")[0],
        wall,
        "s",
        10,
        note="" if proc.returncode == 0 else f"rc={proc.returncode}: {summary}",
    )


def bench_cold() -> None:
    header("3. cold `make test` (fresh clone of HEAD, empty caches)")
    with tempfile.TemporaryDirectory(prefix="bench-cold-") as tmp:
        tmpd = Path(tmp)
        clone = tmpd / "repo"
        subprocess.run(
            ["git", "clone", "--quiet", "--no-hardlinks", str(ROOT), str(clone)], check=True
        )
        commit = subprocess.run(
            ["git", "-C", str(clone), "log", "-1", "--format=%h %s"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        leftovers = [p for p in (".venv", "node_modules", ".build") if (clone / p).exists()]
        print(f"  cloned HEAD {commit!r} into {clone}", flush=True)
        if leftovers:
            print(f"  removing committed {leftovers} so the clone starts empty", flush=True)
            for p in leftovers:
                shutil.rmtree(clone / p)
        env = base_env(clone)
        caches = {
            "UV_CACHE_DIR": "uv-cache",
            "npm_config_cache": "npm-cache",
            "PIP_CACHE_DIR": "pip-cache",
            "XDG_CACHE_HOME": "xdg-cache",
            "JSII_RUNTIME_PACKAGE_CACHE_ROOT": "jsii-cache",
        }
        for var, sub in caches.items():
            (tmpd / sub).mkdir()
            env[var] = str(tmpd / sub)
        print(f"  fresh empty caches: {', '.join(caches)}", flush=True)
        wall, rc, summary, output = run_make_test(clone, env)
        (tmpd / "make-test.log").write_text(output)
        print(f"  make test (cold)  {wall:6.2f} s  rc={rc}  {summary}", flush=True)
        if rc != 0:
            print(
                "  last lines of the cold run:\n    "
                + "\n    ".join(output.strip().splitlines()[-15:]),
                flush=True,
            )
    row(
        f"make test, cold (clone of {commit.split()[0]})",
        wall,
        "s",
        180,
        note="" if rc == 0 else f"rc={rc}: {summary}",
    )


# --------------------------------------------------------------------------------- 4. handler
class _StubClient:
    """Answers ``converse`` from memory: isolates the handler's own cost from HTTP."""

    def __init__(self, answer: dict[str, Any]) -> None:
        self.answer = answer

    def converse(self, **_: Any) -> dict[str, Any]:
        return self.answer


def _timed(fn: Callable[[], Any], n: int, out: list[float]) -> None:
    clock = time.perf_counter_ns
    for _ in range(n):
        t0 = clock()
        fn()
        out.append((clock() - t0) / 1e6)


def bench_handler(n: int, warmup: int, block: int) -> None:
    header("4. handler overhead (in-process, FakeBedrock on 127.0.0.1)")
    for key, value in LAMBDA_ENV.items():
        os.environ.setdefault(key, value)
    for path in (str(LAMBDA_DIR), str(ROOT)):
        if path not in sys.path:
            sys.path.insert(0, path)

    from handlers import chat as api
    from handlers.chat import handler
    from kit_runtime.chat import ChatService
    from kit_runtime.contracts.chat_api import ChatRequest
    from tests.fakes import FakeBedrock
    from tests.support.chat_api import catalog, client_for, make_settings, rest_event
    from tests.support.lambda_context import LambdaContext

    body = {
        "messages": [{"role": "user", "content": "hello there model, how are you today?"}],
        "tier": "fast",
    }
    with FakeBedrock() as server:
        settings = make_settings()
        client = client_for(server, settings)
        service = ChatService(settings, catalog(), client)
        api.use_service(service)
        request = ChatRequest.model_validate(body)
        model_id, _ = service.route(request)
        kwargs = service.converse_arguments(request, model_id)  # exactly what the runtime sends
        context = LambdaContext()

        # Sanity: both paths answer 200 and reach the server with the same arguments.
        with stdout_to_devnull():
            result = handler(rest_event("POST", "/chat", body), context)
        if result["statusCode"] != 200:
            print(f"  handler answered {result['statusCode']}: {result['body']}")
            row("handler overhead p50", None, "ms", 1, failed=True)
            return
        sent = server.last_request.body
        client.converse(**kwargs)
        same = sent == server.last_request.body
        print(
            f"  converse arguments identical for both paths: {same}; modelId={kwargs['modelId']}",
            flush=True,
        )

        def direct() -> None:
            client.converse(**kwargs)

        events: list[dict] = []

        def via_handler() -> None:
            result = handler(events.pop(), context)
            if result["statusCode"] != 200:
                raise RuntimeError(result["body"])

        def refill(count: int) -> None:
            events.clear()
            events.extend(rest_event("POST", "/chat", body) for _ in range(count))

        direct_ms: list[float] = []
        handler_ms: list[float] = []
        with stdout_to_devnull():
            refill(warmup)
            _timed(direct, warmup, [])
            _timed(via_handler, warmup, [])
            done = 0
            flip = False
            while done < n:
                size = min(block, n - done)
                refill(size)
                server.reset()
                order = [(direct, direct_ms), (via_handler, handler_ms)]
                for fn, out in reversed(order) if flip else order:
                    _timed(fn, size, out)
                flip = not flip
                done += size

        # The handler's own cost without HTTP: same handler, converse answered from memory.
        answer = client.converse(**kwargs)
        answer.pop("ResponseMetadata", None)
        api.use_service(ChatService(settings, catalog(), _StubClient(answer)))
        stub_ms: list[float] = []
        with stdout_to_devnull():
            refill(warmup)
            _timed(via_handler, warmup, [])
            refill(n)
            _timed(via_handler, n, stub_ms)
        api.use_service(None)

    d50, d99 = percentile(direct_ms, 0.5), percentile(direct_ms, 0.99)
    h50, h99 = percentile(handler_ms, 0.5), percentile(handler_ms, 0.99)
    s50, s99 = percentile(stub_ms, 0.5), percentile(stub_ms, 0.99)
    print(
        f"  N={n} per path after {warmup} warm-up calls each; alternating blocks of {block} "
        "(ABBA order);\n  stdout (fd 1) redirected to /dev/null while timing: Powertools "
        "log lines and EMF metrics\n  are still formatted and written (write syscalls "
        "counted), just not displayed.",
        flush=True,
    )
    print(f"  {'path':<44}{'p50 ms':>9}{'p99 ms':>9}{'mean ms':>9}")
    for label, values in (
        ("boto3 converse direct", direct_ms),
        ("handler(event, context) full path", handler_ms),
        ("handler with in-memory converse (no HTTP)", stub_ms),
    ):
        print(
            f"  {label:<44}{percentile(values, 0.5):9.3f}{percentile(values, 0.99):9.3f}"
            f"{statistics.fmean(values):9.3f}"
        )
    print(
        f"  handler overhead = handler - direct:  p50 {h50 - d50:+.3f} ms   "
        f"p99 {h99 - d99:+.3f} ms",
        flush=True,
    )
    row("boto3 converse direct p50 / p99", d50, "ms", None, note=f"p99 {d99:.3f} ms")
    row("handler full path p50 / p99", h50, "ms", None, note=f"p99 {h99:.3f} ms")
    row("handler overhead p50", h50 - d50, "ms", 0.5)
    row("handler overhead p99", h99 - d99, "ms", None)
    row("handler without HTTP (stub client) p50", s50, "ms", None, note=f"p99 {s99:.3f} ms")


# --------------------------------------------------------------------------------- 4b./4c.
def bench_floor(n: int, warmup: int) -> None:
    import nonstream_floor

    header("4b. non-streaming floor (chat handler vs a minimal boto3 handler)")
    print(f"  {n} requests per handler after {warmup} warm-up each, ABBA", flush=True)
    out = nonstream_floor.report(nonstream_floor.measure(n, warmup))
    row("floor: minimal handler p50", out["minimal_p50"], "ms", None)
    row("floor: kit handler p50", out["kit_p50"], "ms", None)
    row(
        "floor: added by the kit p50",
        out["added_p50"],
        "ms",
        nonstream_floor.TARGET_ADDED_MS,
        note=f"p95 {out['added_p95']:.3f} ms",
    )


def bench_stream(n: int, events: int, warmup: int) -> None:
    import stream_overhead

    header("4c. streaming overhead (POST /chat/stream vs direct converse_stream, HTTP)")
    print(f"  {n} requests per path of {events} deltas, {warmup} warm-up each, ABBA", flush=True)
    out = stream_overhead.report(stream_overhead.measure(n, events, warmup))
    row(
        "stream: added time to first event p50",
        out["added_first_p50"],
        "ms",
        stream_overhead.TARGET_FIRST_MS,
        note=f"p95 {out['added_first_p95']:.3f} ms",
    )
    row(
        "stream: added cost per further event p50",
        out["added_slope_p50"],
        "ms",
        stream_overhead.TARGET_PER_EVENT_MS,
        note=f"p95 {out['added_slope_p95']:.4f} ms",
    )


# --------------------------------------------------------------------------------- main
def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--only", action="append", choices=SECTIONS, help="run only this section (repeatable)"
    )
    parser.add_argument(
        "--cold",
        action="store_true",
        help="also run the cold `make test` (downloads packages; minutes)",
    )
    parser.add_argument("-n", type=int, default=2000, help="handler calls per path")
    parser.add_argument("--warmup", type=int, default=200, help="handler warm-up calls")
    parser.add_argument("--block", type=int, default=100, help="alternation block size")
    parser.add_argument("--import-runs", type=int, default=7)
    parser.add_argument("--floor-n", type=int, default=2000, help="floor requests per handler")
    parser.add_argument("--stream-n", type=int, default=300, help="streams per path")
    parser.add_argument("--stream-events", type=int, default=50, help="deltas per stream")
    args = parser.parse_args()
    chosen = list(args.only or [s for s in SECTIONS if s != "cold" or args.cold])
    if args.cold and "cold" not in chosen:
        chosen.append("cold")

    env = base_env()
    print(
        f"bench-run: {time.strftime('%Y-%m-%d %H:%M:%S %z')}  host {platform.node()}  "
        f"nproc {os.cpu_count()}  {platform.machine()}  "
        f"load average {' '.join(f'{v:.1f}' for v in os.getloadavg())}"
    )
    print(
        f"  python (.venv) {tool_version([str(VENV_PYTHON), '--version'], env)}; "
        f"node {tool_version(['node', '--version'], env)} "
        f"({shutil.which('node', path=env['PATH'])}); "
        f"cdk {tool_version(['npx', 'cdk', '--version'], env)}; "
        f"{tool_version(['uv', '--version'], env)}",
        flush=True,
    )

    if "synth" in chosen:
        bench_synth()
    if "tests" in chosen:
        bench_tests()
    if "handler" in chosen:
        bench_handler(args.n, args.warmup, args.block)
    if "floor" in chosen:
        bench_floor(args.floor_n, args.warmup)
    if "stream" in chosen:
        bench_stream(args.stream_n, args.stream_events, min(args.warmup, 30))
    if "unit" in chosen:
        bench_unit()
    if "import" in chosen:
        bench_import(args.import_runs)
    if "asset" in chosen:
        bench_asset()
    if "cold" in chosen:
        bench_cold()

    header("summary")
    w1 = max(len(r.figure) for r in ROWS) if ROWS else 10
    w2 = max(len(r.value) for r in ROWS) if ROWS else 10
    print(f"  {'figure':<{w1}}  {'measured':<{w2}}  {'target':<10}  result")
    for r in ROWS:
        print(f"  {r.figure:<{w1}}  {r.value:<{w2}}  {r.target:<10}  {r.verdict}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
