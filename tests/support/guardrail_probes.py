"""A deployed guardrail played locally for ``make guardrail-test``: stage, outputs, verdicts."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from stacks.catalog import load_catalog
from stacks.tools.guardrail_test import guardrail_stack_name
from tests.fakes import FakeBedrock
from tests.stages import basic_stage
from tests.support.signed_front import FakeCloudFormation, credentials_env

STAGE = "probe-test"
GUARDRAIL_ID = "gr0probe1"
GUARDRAIL_VERSION = "7"


@dataclass
class DeployedGuardrail:
    """A test-owned stage whose Guardrails stack outputs point at a fake Bedrock guardrail."""

    cdk_json: Path
    region: str
    bedrock: FakeBedrock
    cloudformation: FakeCloudFormation
    tmp_path: Path

    def env(self) -> dict[str, str]:
        """Test credentials; Bedrock Runtime and CloudFormation sent to the fakes."""
        return {
            **credentials_env(),
            "AWS_ENDPOINT_URL_BEDROCK_RUNTIME": self.bedrock.endpoint_url,
            "AWS_ENDPOINT_URL_CLOUDFORMATION": self.cloudformation.endpoint_url,
            "AWS_CONFIG_FILE": str(self.tmp_path / "no-config"),
            "AWS_SHARED_CREDENTIALS_FILE": str(self.tmp_path / "no-credentials"),
        }

    def probe_file(self, probes: list[dict[str, Any]], **thresholds: float) -> Path:
        """A probe file with ``probes`` and thresholds (default: all blocked, none falsely)."""
        limits = {"min_block_rate": 1.0, "max_false_block_rate": 0.0, **thresholds}
        path = self.tmp_path / "probes.yaml"
        path.write_text(
            yaml.safe_dump({"thresholds": limits, "probes": probes}, allow_unicode=True),
            encoding="utf-8",
        )
        return path


@contextmanager
def deployed_guardrail(tmp_path: Path) -> Iterator[DeployedGuardrail]:
    """Start the fakes, declare the guardrail version, write the stage's cdk.json."""
    config = basic_stage(load_catalog())
    cdk_json = tmp_path / "cdk.json"
    cdk_json.write_text(json.dumps({"context": {"stages": {STAGE: config}}}))
    outputs = {"GuardrailId": GUARDRAIL_ID, "GuardrailVersion": GUARDRAIL_VERSION}
    with (
        FakeBedrock() as bedrock,
        FakeCloudFormation({guardrail_stack_name("kit", STAGE): outputs}) as cloudformation,
    ):
        bedrock.add_guardrail(GUARDRAIL_ID, GUARDRAIL_VERSION)
        yield DeployedGuardrail(cdk_json, config["region"], bedrock, cloudformation, tmp_path)


def clean_environment(extra: dict[str, str]) -> dict[str, str]:
    """``os.environ`` without AWS profile or keys, plus ``extra``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    return {**env, **extra}


def probe(
    probe_id: str,
    text: str,
    expect: Any,
    *,
    kind: str = "attack",
    direction: str = "input",
    language: str = "en",
) -> dict[str, Any]:
    """One probe as a file holds it."""
    return {
        "id": probe_id,
        "text": text,
        "direction": direction,
        "language": language,
        "kind": kind,
        "expect": expect,
    }
