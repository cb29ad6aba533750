"""Synthesize the Ingestion stack alone, fed literal knowledge base handles.

The Ingestion stack consumes what the Knowledge stack produces (``KnowledgeHandles``); here a
test-owned stage's ``knowledge_bases`` become literal handles (made-up ids, the kit's bucket or
the configured existing one), so the ingestion pipeline is asserted on independently of how the
knowledge bases themselves are built. Synth runs the same cdk-nag packs as the app.
"""

from __future__ import annotations

import json
import re
import tempfile
from functools import cache
from pathlib import Path
from typing import Any

from stacks.core.references import KnowledgeBaseHandle, KnowledgeHandles
from tests.support.synth import FEATURE_FLAGS, Synthesized, synth_with_findings, work_dir

STACK_ID = "Ingestion"
KIT_BUCKET = "kit-tests-data-bucket"
ACCOUNT = "111111111111"


def literal_handles(plan: Any) -> KnowledgeHandles:
    """Handles for every knowledge base of ``plan``: ids ``KB<n>...``, ``DS<n>...``."""
    bases: dict[str, KnowledgeBaseHandle] = {}
    for i, kb in enumerate(plan.knowledge_bases):
        kb_id = f"KB{i:08d}"
        bucket_arn = kb.data_source.bucket_arn or f"arn:aws:s3:::{KIT_BUCKET}"
        bases[kb.name] = KnowledgeBaseHandle(
            name=kb.name,
            id=kb_id,
            arn=f"arn:aws:bedrock:{plan.region}:{ACCOUNT}:knowledge-base/{kb_id}",
            data_source_id=f"DS{i:08d}",
            bucket_name=bucket_arn.rsplit(":", 1)[1],
            bucket_arn=bucket_arn,
            prefix=kb.prefix(),
            tenant_key=kb.tenant_key,
            revision=f"rev-{i}",
        )
    return KnowledgeHandles(bases=bases, revision="rev")


@cache
def synth_ingestion(stage: str) -> Synthesized:
    """The Ingestion stack of test stage ``stage`` (synthesized once per run)."""
    from aws_cdk import App, Environment, Stage, Validations
    from cdk_nag import AwsSolutionsChecks, ServerlessChecks

    from stacks.config import load_plan
    from stacks.core.lambda_asset import runtime_code
    from stacks.knowledge.ingestion_stack import IngestionStack
    from tests.stages import test_stages

    out = Path(tempfile.mkdtemp(prefix=f"ingestion-{stage}-", dir=work_dir()))
    app = App(outdir=str(out), context={**FEATURE_FLAGS, "aws:cdk:bundling-stacks": []})
    plan = load_plan({"stages": test_stages(), "stage": stage}, {})
    host = Stage(app, f"kit-{stage}", env=Environment(account=ACCOUNT, region=plan.region))
    stack = IngestionStack(
        host, STACK_ID, plan=plan, code=runtime_code(), knowledge=literal_handles(plan)
    )
    Validations.of(app).add_plugins(AwsSolutionsChecks(app), ServerlessChecks(app))
    assembly, error, findings = synth_with_findings(app, out)
    result = Synthesized(stage, plan, {}, findings, error, outdir=out)
    if assembly is not None:
        artifact = assembly.get_nested_assembly(f"assembly-{host.stage_name}").get_stack_by_name(
            stack.stack_name
        )
        result.templates[STACK_ID] = artifact.template
        result.template_files[STACK_ID] = Path(artifact.template_full_path)
        result.stack_names[STACK_ID] = stack.stack_name
    return result


def definition(template: dict[str, Any]) -> dict[str, Any]:
    """The follower state machine's definition (its ``DefinitionString`` joined back)."""
    machines = [
        r for r in template["Resources"].values() if r["Type"] == "AWS::StepFunctions::StateMachine"
    ]
    assert len(machines) == 1, machines
    raw = machines[0]["Properties"]["DefinitionString"]
    if isinstance(raw, dict) and "Fn::Join" in raw:
        parts = [p if isinstance(p, str) else "TOKEN" for p in raw["Fn::Join"][1]]
        raw = "".join(parts)
    parsed: dict[str, Any] = json.loads(re.sub(r"TOKEN", "token", raw))
    return parsed
