"""The one Lambda asset every kit function ships, bundled locally (never with Docker).

The asset is ``lambda/`` (the shared ``kit_runtime`` package plus the thin ``handlers``), the
third-party runtime dependencies pinned in ``uv.lock`` (dependency group ``lambda``) installed
for linux/arm64, and the catalog facts the runtime reads (``contracts/catalog.json``).
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import tempfile
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


@cache
def _asset_hash() -> str:
    """Hash of the runtime sources, the lock file and the catalog: any of them redeploys."""
    digest = hashlib.sha256(LOCK_FILE.read_bytes())
    digest.update(CATALOG_FILE.read_bytes())
    for path in sorted(LAMBDA_DIR.rglob("*.py")):
        digest.update(str(path.relative_to(LAMBDA_DIR)).encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


@jsii.implements(ILocalBundling)
class _UvLocalBundling:
    """Installs the locked ``lambda`` group for linux/arm64 with uv, then copies the sources.

    The installed dependencies are cached in ``.build/lambda-deps/<lock digest>``: they change
    only with ``uv.lock``, so later synths (and other stages) copy them instead of installing.
    """

    def try_bundle(self, output_dir: str, _options: Any = None) -> bool:
        deps = _dependencies()
        shutil.copytree(deps, output_dir, dirs_exist_ok=True, copy_function=_link_or_copy)
        shutil.copytree(
            LAMBDA_DIR, output_dir, dirs_exist_ok=True, ignore=shutil.ignore_patterns(*_EXCLUDE)
        )
        facts = runtime_catalog(load_catalog()).model_dump_json(exclude_none=True)
        (Path(output_dir) / CATALOG_FACTS).write_text(facts, encoding="utf-8")
        return True


def _dependencies() -> Path:
    key = hashlib.sha256(LOCK_FILE.read_bytes() + PYTHON_VERSION.encode()).hexdigest()[:16]
    target = DEPS_CACHE / key
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
            # No bytecode: this machine's Python cannot write the Lambda runtime's .pyc files.
            cwd=ROOT,
            check=True,
            env={**os.environ, "UV_COMPILE_BYTECODE": "0"},
        )
        staging.rename(target)  # atomic: a half-built cache is never used
    return target


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
