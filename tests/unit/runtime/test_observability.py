"""The tracer costs nothing where tracing is off, and is the X-Ray tracer inside Lambda."""

from __future__ import annotations

import pytest

from kit_runtime.observability import NoTracing, tracing_enabled


@pytest.mark.parametrize(
    "env,enabled",
    [
        ({"LAMBDA_TASK_ROOT": "/var/task"}, True),
        ({"LAMBDA_TASK_ROOT": "/var/task", "POWERTOOLS_TRACE_DISABLED": "true"}, False),
        ({"LAMBDA_TASK_ROOT": "/var/task", "POWERTOOLS_TRACE_DISABLED": "1"}, False),
        ({"LAMBDA_TASK_ROOT": "/var/task", "POWERTOOLS_TRACE_DISABLED": "false"}, True),
        ({}, False),
    ],
)
def test_tracing_runs_only_in_lambda_unless_disabled(env: dict[str, str], enabled: bool) -> None:
    assert tracing_enabled(env) is enabled


def test_the_no_op_provider_serves_the_tracer_decorators() -> None:
    # Given a disabled tracer on the no-op provider
    from aws_lambda_powertools import Tracer

    tracer = Tracer(disabled=True, provider=NoTracing())

    @tracer.capture_lambda_handler(capture_response=False)
    def handler(event: dict[str, str], context: object) -> dict[str, str]:
        tracer.put_annotation(key="model", value="m")
        return event

    # When a handler runs through it, Then it answers unchanged
    assert handler({"ok": "yes"}, None) == {"ok": "yes"}
