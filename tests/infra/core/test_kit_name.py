"""``kit.name`` renames everything a fork deploys: stacks, resource names, the metric namespace."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from stacks.core.naming import stage_id
from tests.stages import test_stages
from tests.support.synth import Synthesized, synthesize

pytestmark = pytest.mark.synth

NAME = "acme-chat"
KEY = "POWERTOOLS_METRICS_NAMESPACE"
NAMED = {
    "AWS::Bedrock::Guardrail": "Name",
    "AWS::Bedrock::ApplicationInferenceProfile": "InferenceProfileName",
    "AWS::ApiGateway::RestApi": "Name",
}


@pytest.fixture(scope="module")
def renamed() -> Synthesized:
    return synthesize("basic", test_stages(), kit={"name": NAME})


def test_given_a_kit_name_then_every_stack_name_starts_with_it(renamed: Synthesized) -> None:
    prefix = stage_id(NAME, renamed.name)
    assert renamed.stack_names and all(
        n.startswith(f"{prefix}-") for n in renamed.stack_names.values()
    )


def test_given_a_kit_name_then_named_resources_carry_it(renamed: Synthesized) -> None:
    names = [
        res["Properties"][prop]
        for type_, prop in NAMED.items()
        for res in renamed.resources(type_).values()
    ]
    assert len(names) >= len(NAMED) and all(n.startswith(f"{NAME}-") for n in names)


def test_given_a_kit_name_then_functions_publish_metrics_under_its_namespace(
    renamed: Synthesized, synth: Callable[[str], Synthesized]
) -> None:
    def namespaces(s: Synthesized) -> set[Any]:
        # The kit's own functions (CDK's provider framework functions publish no metrics).
        variables = [
            res["Properties"].get("Environment", {}).get("Variables", {})
            for res in s.resources("AWS::Lambda::Function").values()
        ]
        return {v[KEY] for v in variables if KEY in v}

    # Then the renamed kit's namespace follows its name and differs from the default's
    assert namespaces(renamed) == {renamed.plan.metrics_namespace}
    assert namespaces(renamed) != namespaces(synth(renamed.name))


def test_given_a_kit_name_then_no_name_keeps_the_default_prefix(renamed: Synthesized) -> None:
    text = json.dumps(renamed.templates)
    assert f'"kit-{renamed.name}' not in text
