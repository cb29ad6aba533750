"""The one Lambda asset every kit function ships, bundled locally (never with Docker).

The asset is ``lambda/`` (the shared ``kit_runtime`` package plus the thin ``handlers``), the
third-party runtime dependencies pinned in ``uv.lock`` (dependency group ``lambda``) installed
for linux/arm64, the catalog facts the runtime reads (``contracts/catalog.json``) and, when a
Python of the runtime's version is at hand, the bytecode of all of it.

Bytecode: Lambda's ``/var/task`` is read-only, so a ``.py`` without a matching ``.pyc`` is
compiled again at every cold start. The ``.pyc`` files must come from the runtime's own minor
version (3.14); this machine's Python is older, so the bundler compiles with CPython 3.14 built
for WebAssembly (the ``pyodide`` npm package, pinned in ``package-lock.json`` and run by the
pinned Node). Bytecode is platform independent, so wasm32 writes what arm64 reads. The files are
``unchecked-hash`` pycs: valid whatever the files' timestamps (the asset zip does not keep them)
and never compared against the source at import. Without the compiler the asset ships without
bytecode and the bundler says so (see ``docs/performance.md`` for what that costs).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import jsii
from aws_cdk import BundlingOptions, DockerImage, ILocalBundling
from aws_cdk import aws_lambda as lambda_

from kit_runtime.contracts.catalog import FILE_NAME
from stacks.catalog import CATALOG_FILE, load_catalog
from stacks.catalog.runtime_facts import runtime_catalog

ROOT = Path(__file__).resolve().parents[2]
CATALOG_FACTS = Path("kit_runtime") / "contracts" / FILE_NAME
LAMBDA_DIR = ROOT / "lambda"
LOCK_FILE = ROOT / "uv.lock"
RUNTIME = lambda_.Runtime.PYTHON_3_14
PYTHON_VERSION = "3.14"
ARCHITECTURE = lambda_.Architecture.ARM_64
_EXCLUDE = ("__pycache__", "*.pyc", ".pytest_cache")
DEPS_CACHE = ROOT / ".build" / "lambda-deps"
ASSET_CACHE = ROOT / ".build" / "lambda-asset"
PYODIDE_DIR = ROOT / "node_modules" / "pyodide"
# Where Lambda unpacks the asset: the file names recorded in the bytecode (tracebacks).
TASK_ROOT = "/var/task"
_KEEP_ASSETS = 4

# Runs CPython 3.14 (pyodide) under Node: mounts the target directory and compiles it.
# argv: pyodide dir, target dir, expected "major.minor", then the subdirectories to compile
# (none: the whole target). Prints {"version", "magic", "ok"} as JSON on its last line.
_COMPILE_JS = r"""
import { pathToFileURL } from "node:url";
const [pyodideDir, target, expected, ...subdirs] = process.argv.slice(1);
const { loadPyodide } = await import(pathToFileURL(pyodideDir + "/pyodide.mjs").href);
const py = await loadPyodide({ indexURL: pyodideDir + "/" });
py.FS.mkdirTree("/asset");
py.FS.mount(py.FS.filesystems.NODEFS, { root: target }, "/asset");
py.globals.set("subdirs", py.toPy(subdirs));
py.globals.set("expected", expected);
py.globals.set("task_root", process.env.KIT_TASK_ROOT);
const result = py.runPython(`
import compileall, importlib.util, json, posixpath, py_compile, sys
version = "%d.%d" % sys.version_info[:2]
ok = version == expected
if ok:
    for sub in (subdirs or [""]):
        ok &= bool(compileall.compile_dir(
            posixpath.join("/asset", sub), quiet=1, workers=1,
            ddir=posixpath.join(task_root, sub).rstrip("/"),
            invalidation_mode=py_compile.PycInvalidationMode.UNCHECKED_HASH))
json.dumps({"version": sys.version.split()[0], "ok": ok,
            "magic": int.from_bytes(importlib.util.MAGIC_NUMBER[:2], "little")})
`);
console.log(result);
"""


@dataclass(frozen=True)
class BytecodeCompiler:
    """A CPython of the runtime's minor version that writes the asset's ``.pyc`` files."""

    node: str
    pyodide: Path
    description: str  # what compiled the bytecode; part of the asset hash

    def compile(self, target: Path, subdirs: list[str] | None = None) -> None:
        """Write unchecked-hash ``.pyc`` files for every module under ``target``.

        Parameters
        ----------
        target
            The directory that becomes ``/var/task`` (or a dependency cache laid out like it).
        subdirs
            Only these subdirectories of ``target``; all of it when omitted.
        """
        proc = subprocess.run(
            [
                self.node,
                "--input-type=module",
                "-e",
                _COMPILE_JS,
                str(self.pyodide),
                str(target),
                PYTHON_VERSION,
                *(subdirs or []),
            ],
            capture_output=True,
            text=True,
            env={**os.environ, "KIT_TASK_ROOT": TASK_ROOT},
            check=False,
        )
        lines = proc.stdout.strip().splitlines()
        try:
            result = json.loads(lines[-1])
        except (IndexError, json.JSONDecodeError):
            result = None
        if proc.returncode != 0 or result is None or not result["ok"]:
            raise RuntimeError(
                f"compiling the Lambda asset's bytecode with {self.description} failed "
                f"(exit {proc.returncode}):\n{proc.stdout[-2000:]}{proc.stderr[-2000:]}\n"
                "Reinstall with `npm ci`, or remove node_modules/pyodide to ship without "
                "bytecode."
            )


@cache
def bytecode_compiler() -> BytecodeCompiler | str:
    """The compiler for the runtime's bytecode, or why there is none (a sentence).

    Only files are checked here (no process starts), so synth in tests stays fast.
    """
    lock = PYODIDE_DIR / "pyodide-lock.json"
    if not (PYODIDE_DIR / "pyodide.mjs").is_file() or not lock.is_file():
        return (
            f"no Python {PYTHON_VERSION} to compile with: node_modules/pyodide is missing "
            "(run `npm ci`)"
        )
    python = json.loads(lock.read_text(encoding="utf-8"))["info"]["python"]
    if not python.startswith(f"{PYTHON_VERSION}."):
        return (
            f"node_modules/pyodide runs Python {python}, not the Lambda runtime's "
            f"{PYTHON_VERSION}: pin a pyodide release built on Python {PYTHON_VERSION}"
        )
    node_bin = str(ROOT / "node_modules" / ".bin")
    node = shutil.which("node", path=node_bin) or shutil.which("node")
    if node is None:
        return "no Node to run pyodide with (run `npm ci`)"
    version = json.loads((PYODIDE_DIR / "package.json").read_text(encoding="utf-8"))["version"]
    return BytecodeCompiler(node, PYODIDE_DIR, f"CPython {python} (pyodide {version})")


def bytecode_tag() -> str:
    """What the asset's bytecode is made with ("none" without it): part of the asset hash."""
    compiler = bytecode_compiler()
    return compiler.description if isinstance(compiler, BytecodeCompiler) else "none"


@cache
def _asset_hash() -> str:
    """Hash of the runtime sources, the lock, the catalog and the bytecode compiler.

    Any of them changing redeploys; nothing else does (the hash never reads the bundle, so it
    is the same on every machine with the same inputs).
    """
    digest = hashlib.sha256(LOCK_FILE.read_bytes())
    digest.update(CATALOG_FILE.read_bytes())
    digest.update(f"python {PYTHON_VERSION}; bytecode {bytecode_tag()}".encode())
    # Every shipped file, not only modules: a changed start script (run.sh) or its execute bit
    # must redeploy too.
    for path in sorted(LAMBDA_DIR.rglob("*")):
        if not path.is_file() or "__pycache__" in path.parts or path.suffix == ".pyc":
            continue
        digest.update(str(path.relative_to(LAMBDA_DIR)).encode())
        digest.update(b"x" if os.access(path, os.X_OK) else b"-")
        digest.update(path.read_bytes())
    return digest.hexdigest()


@jsii.implements(ILocalBundling)
class _UvLocalBundling:
    """Copies the asset, built once per asset hash in ``.build/lambda-asset/<hash>``.

    The third-party part comes from ``.build/lambda-deps/<lock digest>`` (it changes only with
    ``uv.lock``), so a source change compiles only the kit's own modules.
    """

    def try_bundle(self, output_dir: str, *_args: Any, **_kwargs: Any) -> bool:
        shutil.copytree(build_asset(), output_dir, dirs_exist_ok=True, copy_function=_link_or_copy)
        return True


def build_asset() -> Path:
    """The bundled asset's directory (built on first use, then cached by asset hash)."""
    target = ASSET_CACHE / _asset_hash()
    if target.is_dir():
        return target
    compiler = bytecode_compiler()
    deps = _dependencies()
    ASSET_CACHE.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=ASSET_CACHE) as tmp:
        staging = Path(tmp) / "asset"
        shutil.copytree(deps, staging, copy_function=_link_or_copy)
        shutil.copytree(
            LAMBDA_DIR, staging, dirs_exist_ok=True, ignore=shutil.ignore_patterns(*_EXCLUDE)
        )
        facts = runtime_catalog(load_catalog()).model_dump_json(exclude_none=True)
        (staging / CATALOG_FACTS).write_text(facts, encoding="utf-8")
        if isinstance(compiler, BytecodeCompiler):
            own = sorted(
                p.name for p in LAMBDA_DIR.iterdir() if p.is_dir() and p.name not in _EXCLUDE
            )
            compiler.compile(staging, own)
        _publish(staging, target)
    _prune(ASSET_CACHE, keep=target)
    return target


def _dependencies() -> Path:
    key_source = LOCK_FILE.read_bytes() + f"{PYTHON_VERSION} {bytecode_tag()}".encode()
    target = DEPS_CACHE / hashlib.sha256(key_source).hexdigest()[:16]
    if target.is_dir():
        return target
    uv = shutil.which("uv", path=str(ROOT / ".build" / "tools" / "bin")) or shutil.which("uv")
    if uv is None:
        raise RuntimeError("bundling the Lambda asset needs uv: run `make synth` once")
    DEPS_CACHE.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=DEPS_CACHE) as tmp:
        requirements = Path(tmp) / "requirements.txt"
        subprocess.run(
            [
                uv,
                "export",
                "--frozen",
                "--only-group",
                "lambda",
                "--no-hashes",
                "--no-emit-project",
                "--no-header",
                "-o",
                str(requirements),
            ],
            cwd=ROOT,
            check=True,
            stdout=subprocess.DEVNULL,
        )
        staging = Path(tmp) / "site"
        subprocess.run(
            [
                uv,
                "pip",
                "install",
                "--quiet",
                "--no-deps",
                "--requirement",
                str(requirements),
                "--target",
                str(staging),
                "--python-platform",
                "aarch64-manylinux2014",
                "--python-version",
                PYTHON_VERSION,
                "--only-binary",
                ":all:",
            ],
            # uv would compile with this machine's Python, whose bytecode Lambda cannot use.
            cwd=ROOT,
            check=True,
            env={**os.environ, "UV_COMPILE_BYTECODE": "0"},
        )
        compiler = bytecode_compiler()
        if isinstance(compiler, BytecodeCompiler):
            compiler.compile(staging)
        _publish(staging, target)
    _prune(DEPS_CACHE, keep=target)
    return target


def _publish(staging: Path, target: Path) -> None:
    """Move a finished build into the cache atomically: a half-built one is never used."""
    try:
        staging.rename(target)
    except OSError:
        if not target.is_dir():  # else a parallel synth built the same thing first
            raise


def _prune(cache_dir: Path, keep: Path) -> None:
    """Drop all but the most recent cache entries (each is tens of MB)."""
    entries = sorted(
        (
            p
            for p in cache_dir.iterdir()
            if p.is_dir() and p != keep and not p.name.startswith("tmp")
        ),
        key=lambda p: p.stat().st_mtime,
        reverse=True,
    )
    for stale in entries[_KEEP_ASSETS - 1 :]:
        shutil.rmtree(stale, ignore_errors=True)


@cache
def _notice_no_bytecode(reason: str) -> None:
    # Printed at every synth (not only when bundling): CDK skips bundling when cdk.out already
    # holds the asset. stderr reaches the terminal through `cdk synth`.
    print(
        f"NOTICE: the Lambda asset ships WITHOUT bytecode: {reason}.\n"
        "  Lambda's /var/task is read-only, so every cold start compiles each imported module "
        "again. On an equivalent site the chat handler imports in ~260 ms with bytecode and "
        "~680-790 ms without (docs/performance.md, 'Cold start').",
        file=sys.stderr,
        flush=True,
    )


def _link_or_copy(src: str, dst: str) -> None:
    try:
        os.link(src, dst)
    except OSError:
        shutil.copy2(src, dst)


def runtime_code() -> lambda_.Code:
    """The shared asset of every function (bundled locally; never with Docker).

    CDK binds a ``Code`` to one stack: call this once per stack. The asset hash is the same,
    so the bundle is built and uploaded once.
    """
    compiler = bytecode_compiler()
    # Only the CDK CLI sets CDK_OUTDIR: tests synthesize in-process and ship nothing.
    if not isinstance(compiler, BytecodeCompiler) and "CDK_OUTDIR" in os.environ:
        _notice_no_bytecode(compiler)
    return lambda_.Code.from_asset(
        str(LAMBDA_DIR),
        asset_hash=_asset_hash(),
        exclude=list(_EXCLUDE),
        bundling=BundlingOptions(
            # Docker is never used: local bundling always succeeds or raises.
            image=DockerImage.from_registry("public.ecr.aws/sam/build-python3.14"),
            local=_UvLocalBundling(),
        ),
    )
