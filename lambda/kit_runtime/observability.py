"""Logger, tracer and metrics shared by every handler (Powertools, configured by env).

The tracer patches botocore only, so each Bedrock call is an X-Ray subsegment. Importing the
X-Ray SDK costs about 200 ms of cold start (its recorder builds two botocore X-Ray clients at
import; docs/decisions.md), so where tracing is off (``POWERTOOLS_TRACE_DISABLED``, outside
Lambda, in tests) the tracer gets a no-op provider and the SDK is never imported. Handlers never
let the tracer record responses: they hold completions.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from contextlib import asynccontextmanager, contextmanager
from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.tracing.base import BaseProvider

_TRUTHY = {"1", "true", "yes", "on", "y", "t"}


class _NoSegment:
    """Stands in for a subsegment when tracing is off."""

    def put_annotation(self, key: str, value: Any) -> None:
        pass

    def put_metadata(self, key: str, value: Any, namespace: str = "default") -> None:
        pass

    def add_exception(self, exception: BaseException, stack: Any, remote: bool = False) -> None:
        pass


class NoTracing(BaseProvider):
    """A tracing provider that records nothing and imports nothing."""

    @contextmanager
    def in_subsegment(self, name: str | None = None, **kwargs: Any) -> Iterator[Any]:
        yield _NoSegment()

    @asynccontextmanager
    async def in_subsegment_async(self, name: str | None = None, **kwargs: Any) -> Any:
        yield _NoSegment()

    def put_annotation(self, key: str, value: Any) -> None:
        pass

    def put_metadata(self, key: str, value: Any, namespace: str = "default") -> None:
        pass

    def patch(self, modules: Sequence[str]) -> None:
        pass

    def patch_all(self) -> None:
        pass


def tracing_enabled(env: dict[str, str] | os._Environ[str] = os.environ) -> bool:
    """Tracing runs only inside Lambda and when not disabled (Powertools' own rule)."""
    disabled = env.get("POWERTOOLS_TRACE_DISABLED", "false").strip().lower() in _TRUTHY
    return bool(env.get("LAMBDA_TASK_ROOT")) and not disabled


def build_tracer() -> Tracer:
    """The X-Ray tracer where tracing runs, else a tracer that costs nothing."""
    if tracing_enabled():
        return Tracer(patch_modules=["botocore"])
    return Tracer(disabled=True, provider=NoTracing())


logger = Logger()
tracer = build_tracer()
metrics = Metrics()
