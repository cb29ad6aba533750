"""Cold start figures: the chat handler's import with and without bytecode, and the asset.

Lambda runs Python 3.14 on arm64; this machine has neither, so the import is measured on an
*equivalent site*: the same ``lambda`` dependency group from ``uv.lock`` installed for this
machine's Python, plus the asset's own sources and catalog facts. Each variant is imported in
fresh processes with ``-S`` (no venv site-packages) and ``PYTHONDONTWRITEBYTECODE=1`` (like
Lambda's read-only ``/var/task``: what is not compiled in the asset is compiled at every start).
The standard library keeps its bytecode, as Lambda's runtime does.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import statistics
import subprocess
import tempfile
import time
import zipfile
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from common import LAMBDA_ENV, ROOT, VENV_PYTHON, base_env, fact, header, row

UV = ROOT / ".build" / "tools" / "bin" / "uv"
# boto3 and what it pulls in: what the Lambda Python runtime ships in /var/runtime (the
# runtime-included SDK; the exact list for python3.14 is unverified, see docs/performance.md).
RUNTIME_SDK = ("boto3", "botocore", "s3transfer", "jmespath", "dateutil", "six", "urllib3")
_RUNTIME_SDK_DIST = ("python_dateutil",)

_IMPORT_SNIPPET = """
import time
t0 = time.perf_counter()
import handlers.chat
print(time.perf_counter() - t0)
"""

# Builds the shipped asset in a throw-away cache (cold: uv install + bytecode), in a subprocess
# because it loads aws-cdk (jsii). Prints one JSON line.
_BUILD_ASSET = """
import json, sys, time
from pathlib import Path
import stacks.core.lambda_asset as la
la.DEPS_CACHE = Path(sys.argv[1]) / "deps"
la.ASSET_CACHE = Path(sys.argv[1]) / "asset"
t0 = time.perf_counter()
path = la.build_asset()
compiler = la.bytecode_compiler()
print(json.dumps({"path": str(path), "seconds": time.perf_counter() - t0,
                  "bytecode": la.bytecode_tag(),
                  "reason": None if isinstance(compiler, la.BytecodeCompiler) else compiler}))
"""


def _top_name(entry: str) -> str:
    """``botocore-1.2.dist-info`` -> ``botocore``; ``six.py`` -> ``six``."""
    name = entry.removesuffix(".py")
    return name.split("-")[0] if name.endswith((".dist-info", ".data")) else name


def _is_runtime_sdk(entry: str) -> bool:
    top = _top_name(entry)
    return top in RUNTIME_SDK or top in _RUNTIME_SDK_DIST


def _link_tree(src: Path, dst: Path, skip: Iterable[str] = (), pyc: bool = True) -> None:
    """Hard-link ``src`` into ``dst`` without the top-level entries in ``skip``."""
    skipped = set(skip)
    ignore_pyc = shutil.ignore_patterns("__pycache__", "*.pyc")

    def ignore(directory: str, names: list[str]) -> set[str]:
        out = set(ignore_pyc(directory, names)) if not pyc else set()
        if Path(directory) == src:
            out |= {n for n in names if n in skipped}
        return out

    shutil.copytree(src, dst, ignore=ignore, copy_function=os.link)


def _compile(site: Path) -> None:
    """Unchecked-hash pycs, as the bundler writes them, with this machine's Python."""
    subprocess.run(
        [str(VENV_PYTHON), "-m", "compileall", "-q", "-j0", "--invalidation-mode"]
        + ["unchecked-hash", str(site)],
        check=True,
        stdout=subprocess.DEVNULL,
    )


def _build_asset(cache: Path) -> dict[str, Any]:
    env = {**base_env(), "PYTHONPATH": os.pathsep.join([str(ROOT), str(ROOT / "lambda")])}
    proc = subprocess.run(
        [str(VENV_PYTHON), "-c", _BUILD_ASSET, str(cache)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
    )
    if proc.returncode != 0:
        raise RuntimeError(f"building the asset failed: {proc.stderr[-1500:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def _equivalent_site(asset: Path, tmp: Path) -> Path:
    """The asset's own files plus the locked ``lambda`` group for *this* Python, no bytecode."""
    site = tmp / "site-src"
    requirements = tmp / "requirements.txt"
    subprocess.run(
        [str(UV), "export", "--frozen", "--only-group", "lambda", "--no-hashes"]
        + ["--no-emit-project", "--no-header", "-o", str(requirements)],
        cwd=ROOT,
        check=True,
        stdout=subprocess.DEVNULL,
    )
    subprocess.run(
        [str(UV), "pip", "install", "--quiet", "--no-deps", "--requirement", str(requirements)]
        + ["--target", str(site), "--python", str(VENV_PYTHON)],
        cwd=ROOT,
        check=True,
        env={**base_env(), "UV_COMPILE_BYTECODE": "0"},
    )
    for entry in (ROOT / "lambda").iterdir():
        if entry.is_dir() and entry.name != "__pycache__":
            shutil.copytree(
                asset / entry.name,
                site / entry.name,
                ignore=shutil.ignore_patterns("__pycache__", "*.pyc"),
            )
    return site


def _import_times(paths: list[Path], runs: int, tracing: bool = False) -> list[float]:
    env = {k: v for k, v in base_env().items() if not k.startswith(("POWERTOOLS_", "KIT_"))}
    env.update(LAMBDA_ENV)
    if tracing:
        # As in Lambda with runtime.tracing on: the Tracer imports the X-Ray SDK.
        env["LAMBDA_TASK_ROOT"] = "/var/task"
    env["PYTHONPATH"] = os.pathsep.join(str(p) for p in paths)
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    cmd = [str(VENV_PYTHON), "-S", "-c", _IMPORT_SNIPPET]
    subprocess.run(cmd, env=env, check=True, capture_output=True)  # warms the page cache
    times = []
    for _ in range(runs):
        out = subprocess.run(cmd, env=env, check=True, capture_output=True, text=True).stdout
        times.append(float(out.strip()) * 1000)
    return times


def _importtime(paths: list[Path]) -> None:
    env = {**base_env(), **LAMBDA_ENV, "PYTHONDONTWRITEBYTECODE": "1"}
    env["PYTHONPATH"] = os.pathsep.join(str(p) for p in paths)
    proc = subprocess.run(
        [str(VENV_PYTHON), "-S", "-X", "importtime", "-c", "import handlers.chat"],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    entries: list[tuple[int, int, str]] = []
    for line in proc.stderr.splitlines():
        if not line.startswith("import time:") or "self [us]" in line:
            continue
        self_text, cum_text, module = line.split(":", 1)[1].split("|", 2)
        entries.append((int(self_text), int(cum_text), module))
    by_package: dict[str, int] = {}
    for self_us, _, module in entries:
        top = module.strip().split(".")[0]
        by_package[top] = by_package.get(top, 0) + self_us
    total = sum(by_package.values()) or 1
    print("  -X importtime of the compiled site (one run; importtime adds its own overhead):")
    print("  top 8 imports by cumulative time (ms):")
    for _self, cum_us, name in sorted(entries, key=lambda e: -e[1])[:8]:
        print(f"    {cum_us / 1000:8.1f}  {name.rstrip()}")
    print("  self time by top-level package (ms):")
    for pkg, us in sorted(by_package.items(), key=lambda kv: -kv[1])[:8]:
        print(f"    {us / 1000:8.1f}  {pkg}  ({100 * us / total:.0f} %)")


def bench_import(runs: int) -> None:
    """Cold import of ``handlers.chat``: no bytecode, full bytecode, the runtime's boto3."""
    header("5. cold import of handlers.chat (equivalent site for this machine's Python)")
    with tempfile.TemporaryDirectory(prefix="bench-import-") as tmp_name:
        tmp = Path(tmp_name)
        info = _build_asset(tmp / "cache")
        shipped_with_bytecode = info["reason"] is None
        src = _equivalent_site(Path(info["path"]), tmp)
        pyc = tmp / "site-pyc"
        _link_tree(src, pyc)
        _compile(pyc)
        own_src, own_pyc, sdk = tmp / "own-src", tmp / "own-pyc", tmp / "runtime"
        sdk_entries = [e.name for e in src.iterdir() if _is_runtime_sdk(e.name)]
        _link_tree(src, own_src, skip=sdk_entries)
        _link_tree(pyc, own_pyc, skip=sdk_entries)
        sdk.mkdir()
        for name in sdk_entries:
            (shutil.copytree if (pyc / name).is_dir() else shutil.copy2)(pyc / name, sdk / name)

        variants = {
            "no bytecode (the asset before this change)": [src],
            "bytecode, unchecked-hash (the bundler's output)": [pyc],
            "runtime's boto3 (compiled) + own deps compiled": [own_pyc, sdk],
            "runtime's boto3 (compiled) + own deps not compiled": [own_src, sdk],
        }
        medians: dict[str, float] = {}
        print(
            f"  {runs} fresh `python -S` processes per variant (after one untimed run), "
            f"PYTHONDONTWRITEBYTECODE=1; ms",
            flush=True,
        )
        variants["bytecode, X-Ray tracing on (as in Lambda by default)"] = [pyc]
        for label, paths in variants.items():
            times = _import_times(paths, runs, tracing="X-Ray" in label)
            medians[label] = statistics.median(times)
            print(
                f"  {label:<52} median {medians[label]:7.1f}  min {min(times):7.1f}  "
                f"(all: {', '.join(f'{t:.0f}' for t in times)})",
                flush=True,
            )
        _importtime([pyc])

    with_pyc = medians["bytecode, unchecked-hash (the bundler's output)"]
    without = medians["no bytecode (the asset before this change)"]
    shipped = with_pyc if shipped_with_bytecode else without
    print(
        f"  the asset this machine bundles: bytecode {info['bytecode']}"
        + ("" if shipped_with_bytecode else f" ({info['reason']})"),
        flush=True,
    )
    row("import handlers.chat, with bytecode, tracing off (median)", with_pyc, "ms", 200)
    row(
        "import handlers.chat, with bytecode, tracing on (median)",
        medians["bytecode, X-Ray tracing on (as in Lambda by default)"],
        "ms",
        200,
    )
    row("import handlers.chat, no bytecode (median)", without, "ms", None)
    row(
        "import handlers.chat, as shipped (median)",
        shipped,
        "ms",
        with_pyc + 50,
        note="bytecode" if shipped_with_bytecode else "NO bytecode",
    )
    for label in list(variants)[2:4]:
        row(f"import, {label}", medians[label], "ms", None)


def _tree_digest(root: Path) -> str:
    digest = hashlib.sha256()
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        digest.update(str(path.relative_to(root)).encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


def _zip_size(root: Path, keep: Callable[[Path], bool]) -> tuple[int, int, int]:
    """(files, unzipped bytes, zipped bytes) of the files ``keep`` accepts."""
    files = [p for p in sorted(root.rglob("*")) if p.is_file() and keep(p.relative_to(root))]
    unzipped = sum(p.stat().st_size for p in files)
    with tempfile.TemporaryFile() as out:
        # The CDK CLI zips assets with yazl's default deflate (zlib level 6), dates reset.
        with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=6) as archive:
            for path in files:
                archive.write(path, str(path.relative_to(root)))
        zipped = out.tell()
    return len(files), unzipped, zipped


def bench_asset() -> None:
    """The Lambda asset: cold build time, determinism, sizes with our boto3 or the runtime's."""
    header("6. the Lambda asset (python3.14, arm64)")
    with tempfile.TemporaryDirectory(prefix="bench-asset-") as tmp_name:
        tmp = Path(tmp_name)
        t0 = time.perf_counter()
        first = _build_asset(tmp / "one")
        wall = time.perf_counter() - t0
        second = _build_asset(tmp / "two")
        one, two = Path(first["path"]), Path(second["path"])
        same = _tree_digest(one) == _tree_digest(two)
        print(
            f"  cold build (uv install from the warm uv cache + bytecode): "
            f"{first['seconds']:.2f} s in the bundler ({wall:.2f} s with the process start); "
            f"bytecode: {first['bytecode']}",
            flush=True,
        )
        print(
            f"  built twice from empty caches: same hash {one.name == two.name}, "
            f"identical bytes {same}",
            flush=True,
        )
        row("asset cold build (bundler)", first["seconds"], "s", None)
        fact(
            "asset deterministic (two cold builds)",
            "same hash, identical bytes" if same and one.name == two.name else "DIFFERENT",
            ok=same and one.name == two.name,
        )

        def everything(_rel: Path) -> bool:
            return True

        def no_pyc(rel: Path) -> bool:
            return "__pycache__" not in rel.parts

        def no_sdk(rel: Path) -> bool:
            return not _is_runtime_sdk(rel.parts[0])

        variants = {
            "bundled boto3, with bytecode (shipped)": everything,
            "bundled boto3, no bytecode (before)": no_pyc,
            "runtime's boto3, with bytecode": no_sdk,
            "runtime's boto3, no bytecode": lambda rel: no_sdk(rel) and no_pyc(rel),
        }
        print(f"  {'variant':<42}{'files':>7}{'unzipped MB':>13}{'zipped MB':>11}")
        for label, keep in variants.items():
            count, unzipped, zipped = _zip_size(one, keep)
            print(f"  {label:<42}{count:7d}{unzipped / 1e6:13.1f}{zipped / 1e6:11.1f}")
            row(
                f"asset size, {label}",
                unzipped / 1e6,
                "MB",
                None,
                note=f"{zipped / 1e6:.1f} MB zipped",
            )
        sizes: dict[str, int] = {}
        for entry in one.iterdir():
            total = (
                sum(p.stat().st_size for p in entry.rglob("*") if p.is_file())
                if entry.is_dir()
                else entry.stat().st_size
            )
            sizes[_top_name(entry.name)] = sizes.get(_top_name(entry.name), 0) + total
        print(
            "  largest parts (unzipped MB, with bytecode): "
            + ", ".join(
                f"{name} {size / 1e6:.1f}"
                for name, size in sorted(sizes.items(), key=lambda kv: -kv[1])[:6]
            )
        )
