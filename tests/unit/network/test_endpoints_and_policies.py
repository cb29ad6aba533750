"""The endpoint derivation and the endpoint policy builders, without synthesizing a stage."""

from __future__ import annotations

import json
from typing import Any

import pytest
from aws_cdk import Stack

from stacks.catalog import load_catalog
from stacks.config import StagePlan, load_stage_config
from stacks.network.endpoints import FUNCTION_CALLS, required_endpoints, vpc_functions
from stacks.network.policies import endpoint_statements
from tests.stages import test_stages

CATALOG = load_catalog()
STAGES = test_stages(CATALOG)
NEVER = {"logs", "sts", "kms", "monitoring", "aoss", "s3vectors", "bedrock", "lambda"}


def plan(name: str, **changes: Any) -> StagePlan:
    config = load_stage_config(
        {"stages": {name: {**STAGES[name], **changes}}, "stage": name}, {}, CATALOG
    )
    return StagePlan(config=config, catalog=CATALOG)


@pytest.mark.parametrize("name", ["basic", "full", "knowledge", "nat", "existing"])
def test_given_any_stage_then_no_endpoint_is_derived_for_a_service_no_function_calls(
    name: str,
) -> None:
    needed = required_endpoints(plan(name).config)
    assert not set(needed.all) & NEVER
    assert {"bedrock-runtime", "execute-api"} <= set(needed.interface)


def test_given_no_knowledge_bases_then_no_gateway_and_no_agent_endpoints() -> None:
    needed = required_endpoints(plan("basic").config)
    assert needed.gateway == ()
    assert not {"bedrock-agent", "bedrock-agent-runtime", "states"} & set(needed.interface)


def test_given_tracing_off_then_no_xray_endpoint() -> None:
    on = required_endpoints(plan("basic", runtime={"tracing": True}).config)
    off = required_endpoints(plan("basic", runtime={"tracing": False}).config)
    assert "xray" in on.interface and "xray" not in off.interface


def test_given_the_stages_then_every_function_of_the_table_is_deployed_by_one() -> None:
    deployed = {f for name in STAGES for f in vpc_functions(plan(name).config)}
    assert deployed == set(FUNCTION_CALLS)


def _resolved(name: str, service: str) -> list[dict[str, Any]]:
    stack = Stack()
    built = endpoint_statements(
        plan(name),
        service,
        application_profile_arns=["arn:aws:bedrock:r:1:application-inference-profile/x"],
        guardrail_arns=["arn:aws:bedrock:r:1:guardrail/g"],
    )
    return [stack.resolve(st.to_statement_json()) for st in built]


@pytest.mark.parametrize("service", sorted(set(required_endpoints(plan("full").config).all)))
def test_given_each_endpoint_then_its_policy_limits_callers_and_names_no_star_action(
    service: str,
) -> None:
    for st in _resolved("full", service):
        assert st["Effect"] == "Allow" and st["Condition"], st
        actions = st["Action"] if isinstance(st["Action"], list) else [st["Action"]]
        assert all(not a.endswith("*") for a in actions), st


def test_given_an_unknown_service_then_no_policy_falls_back_to_full_access() -> None:
    with pytest.raises(KeyError):
        endpoint_statements(plan("full"), "logs", application_profile_arns=[], guardrail_arns=["g"])


def test_given_the_runtime_policy_then_embedding_models_are_not_invokable_through_it() -> None:
    p = plan("full")
    text = json.dumps(_resolved("full", "bedrock-runtime"))
    for model in p.models:
        assert (model.id in text) is model.is_chat, model.id
    assert "application-inference-profile/x" in text and "guardrail/g" in text


def test_given_two_stage_guardrails_then_the_runtime_endpoint_allows_apply_on_each() -> None:
    # Given a private stage with two guardrails
    arns = ["arn:aws:bedrock:r:1:guardrail/a", "arn:aws:bedrock:r:1:guardrail/b"]
    stack = Stack()
    # When the bedrock-runtime endpoint's policy is built
    built = endpoint_statements(
        plan("full"), "bedrock-runtime", application_profile_arns=[], guardrail_arns=arns
    )
    # Then ApplyGuardrail is allowed on both, and on nothing else
    applies = [
        stack.resolve(st.to_statement_json())
        for st in built
        if "bedrock:ApplyGuardrail" in st.actions
    ]
    assert [sorted(s["Resource"]) for s in applies] == [arns]
