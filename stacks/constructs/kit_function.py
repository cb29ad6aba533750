"""One way to build every Lambda function of the kit.

All functions ship the same asset: ``lambda/`` (the shared ``kit_runtime`` package plus the
thin ``handlers``) and the third-party runtime dependencies pinned in ``uv.lock`` (dependency
group ``lambda``), installed for linux/arm64 without Docker.
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
from aws_cdk import (
    BundlingOptions,
    DockerImage,
    Duration,
    ILocalBundling,
    RemovalPolicy,
)
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from constructs import Construct

from stacks.config import StageConfig
from stacks.nag import acknowledge

ROOT = Path(__file__).resolve().parents[2]
LAMBDA_DIR = ROOT / "lambda"
LOCK_FILE = ROOT / "uv.lock"
RUNTIME = lambda_.Runtime.PYTHON_3_14
PYTHON_VERSION = "3.14"
ARCHITECTURE = lambda_.Architecture.ARM_64
_EXCLUDE = ("__pycache__", "*.pyc", ".pytest_cache")
DEPS_CACHE = ROOT / ".build" / "lambda-deps"


@cache
def _asset_hash() -> str:
    """Hash of the runtime sources and the lock file, so a dependency bump redeploys."""
    digest = hashlib.sha256(LOCK_FILE.read_bytes())
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


class KitFunction(Construct):
    """A Lambda function of the kit: arm64, shared asset, its own retained log group and role.

    Every kit function is invoked synchronously; one that is invoked asynchronously must add
    a dead-letter queue instead of inheriting the DLQ acknowledgment below.

    The role starts with only the permission to write its own log group; callers grant the
    rest where constructs are composed.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: StageConfig,
        code: lambda_.Code,
        handler: str,
        description: str,
        service: str,
        environment: dict[str, str] | None = None,
        timeout: Duration | None = None,
        memory_mb: int | None = None,
        reserved_concurrency: int | None = None,
    ) -> None:
        super().__init__(scope, construct_id)
        rt = config.runtime
        self.log_group = logs.LogGroup(
            self,
            "Logs",
            retention=retention(rt.log_retention_days),
            removal_policy=RemovalPolicy.RETAIN,
        )
        self.role = iam.Role(
            self,
            "Role",
            assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
            description=f"{description} ({config.name})",
        )
        self.role.add_to_policy(
            iam.PolicyStatement(
                actions=["logs:CreateLogStream", "logs:PutLogEvents"],
                # The log group ARN attribute already ends in ":*" (its streams).
                resources=[self.log_group.log_group_arn],
            )
        )
        env = {
            "POWERTOOLS_SERVICE_NAME": service,
            "POWERTOOLS_METRICS_NAMESPACE": "BedrockKit",
            "POWERTOOLS_LOG_LEVEL": rt.log_level,
            "KIT_STAGE": config.name,
            **(environment or {}),
        }
        self.function = lambda_.Function(
            self,
            "Function",
            runtime=RUNTIME,
            architecture=ARCHITECTURE,
            code=code,
            handler=handler,
            description=description,
            role=self.role,
            log_group=self.log_group,
            logging_format=lambda_.LoggingFormat.JSON,
            tracing=lambda_.Tracing.ACTIVE,
            timeout=timeout or Duration.seconds(rt.timeout_seconds),
            memory_size=memory_mb or rt.memory_mb,
            reserved_concurrent_executions=reserved_concurrency,
            environment=env,
        )
        acknowledge(
            self.function,
            "Serverless-LambdaDLQ",
            "Kit functions are invoked synchronously (API Gateway proxy, custom-resource "
            "provider): the caller receives every failure, and a DLQ only applies to "
            "asynchronous invocations.",
        )
        acknowledge(
            self.role,
            "AwsSolutions-IAM5[Resource::*]",
            "X-Ray PutTraceSegments/PutTelemetryRecords support no resource-level "
            "permissions (added by Tracing.ACTIVE).",
        )


_RETENTION = {
    1: "ONE_DAY",
    3: "THREE_DAYS",
    5: "FIVE_DAYS",
    7: "ONE_WEEK",
    14: "TWO_WEEKS",
    30: "ONE_MONTH",
    60: "TWO_MONTHS",
    90: "THREE_MONTHS",
    120: "FOUR_MONTHS",
    150: "FIVE_MONTHS",
    180: "SIX_MONTHS",
    365: "ONE_YEAR",
    400: "THIRTEEN_MONTHS",
    545: "EIGHTEEN_MONTHS",
    731: "TWO_YEARS",
    1096: "THREE_YEARS",
    1827: "FIVE_YEARS",
    2192: "SIX_YEARS",
    2557: "SEVEN_YEARS",
    2922: "EIGHT_YEARS",
    3288: "NINE_YEARS",
    3653: "TEN_YEARS",
}


def retention(days: int) -> logs.RetentionDays:
    """The CloudWatch retention enum for a day count the config loader has validated."""
    return getattr(logs.RetentionDays, _RETENTION[days])
