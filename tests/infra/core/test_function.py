"""KitFunction: synchronous functions carry the DLQ acknowledgment, asynchronous ones a DLQ."""

from __future__ import annotations

from typing import Any

import pytest
from aws_cdk import App, Duration, Stack
from aws_cdk import aws_lambda as lambda_

from stacks.catalog import load_catalog
from stacks.config import load_plan
from stacks.core.function import KitFunction
from tests.stages import basic_stage


def _template(invocation: Any) -> dict[str, Any]:
    plan = load_plan({"stages": {"t": basic_stage(load_catalog())}, "stage": "t"}, {})
    app = App()
    stack = Stack(app, "Fn")
    KitFunction(
        stack,
        "Worker",
        plan=plan,
        code=lambda_.Code.from_inline("def handler(e, c): return e"),
        handler="index.handler",
        description="test function",
        service="test",
        invocation=invocation,
        timeout=Duration.seconds(10),
    )
    template: dict[str, Any] = app.synth().get_stack_by_name("Fn").template
    return template


def test_an_async_function_gets_an_encrypted_retained_dead_letter_queue() -> None:
    template = _template("async")
    queues = [r for r in template["Resources"].values() if r["Type"] == "AWS::SQS::Queue"]
    assert len(queues) == 1 and queues[0]["DeletionPolicy"] == "Retain"
    assert queues[0]["Properties"]["SqsManagedSseEnabled"] is True
    function = next(
        r for r in template["Resources"].values() if r["Type"] == "AWS::Lambda::Function"
    )
    assert "DeadLetterConfig" in function["Properties"]


@pytest.mark.parametrize("invocation", ["sync"])
def test_a_sync_function_has_no_queue(invocation: str) -> None:
    template = _template(invocation)
    assert not [r for r in template["Resources"].values() if r["Type"] == "AWS::SQS::Queue"]
