"""The Api stack with the knowledge endpoints, built from a test stage and literal handles.

The Knowledge stack is built elsewhere; the endpoints only need its handles, so this harness
hands the Api stack literal ones made from the test stage's ``knowledge_bases`` config (ids of
the service's shape, ARNs in the stage's region), synthesizes it once per test run with the
cdk-nag packs the app attaches, and returns it as a :class:`~tests.support.synth.Synthesized`.
"""

from __future__ import annotations

import tempfile
from functools import cache
from pathlib import Path

from stacks.config import StagePlan, load_plan
from stacks.core.naming import digest
from stacks.core.references import (
    GuardrailHandle,
    GuardrailHandles,
    KnowledgeBaseHandle,
    KnowledgeHandles,
    ProfileHandles,
)
from tests.stages import test_stages
from tests.support.synth import FEATURE_FLAGS, Synthesized, synth_with_findings, work_dir

KNOWLEDGE_STAGE = "knowledge"
"""The test-owned stage with a knowledge base on every store and a tenant key."""
ACCOUNT = "111111111111"


def knowledge_plan(stage: str = KNOWLEDGE_STAGE) -> StagePlan:
    """The plan of a test-owned stage."""
    return load_plan({"stages": test_stages(), "stage": stage}, {})


def literal_handles(plan: StagePlan) -> tuple[ProfileHandles, GuardrailHandle, KnowledgeHandles]:
    """Handles as the Platform, Guardrails and Knowledge stacks would hand them (literals)."""
    head = f"arn:aws:bedrock:{plan.region}:{ACCOUNT}"
    profiles = ProfileHandles(
        arns={
            m.id: f"{head}:application-inference-profile/{digest(m.id, length=12)}"
            for m in plan.chat_models
        },
        revision="profiles-1",
    )
    guardrail_arn = f"{head}:guardrail/abcdefgh1234"
    guardrail = GuardrailHandle(
        arn=guardrail_arn, version="3", version_arn=f"{guardrail_arn}:3", revision="guardrail-1"
    )
    bases = {}
    for i, kb in enumerate(plan.knowledge_bases):
        kb_id = f"KB{i:08d}"
        bucket = f"tests-data-{digest(kb.name)}"
        bases[kb.name] = KnowledgeBaseHandle(
            name=kb.name,
            id=kb_id,
            arn=f"{head}:knowledge-base/{kb_id}",
            data_source_id=f"DS{i:08d}",
            bucket_name=bucket,
            bucket_arn=f"arn:aws:s3:::{bucket}",
            prefix=kb.prefix(),
            tenant_key=kb.tenant_key,
            revision=f"kb-{i}",
        )
    return profiles, guardrail, KnowledgeHandles(bases=bases, revision="knowledge-1")


@cache
def knowledge_api(stage: str = KNOWLEDGE_STAGE) -> Synthesized:
    """The Api stack of ``stage`` with the knowledge endpoints, synthesized once per run."""
    from aws_cdk import App, Environment, Validations
    from cdk_nag import AwsSolutionsChecks, ServerlessChecks

    from stacks.api.stack import ApiStack
    from stacks.core.lambda_asset import runtime_code

    plan = knowledge_plan(stage)
    profiles, guardrail, knowledge = literal_handles(plan)
    out = Path(tempfile.mkdtemp(prefix=f"{stage}-api-", dir=work_dir()))
    app = App(outdir=str(out), context={**FEATURE_FLAGS, "aws:cdk:bundling-stacks": []})
    stack = ApiStack(
        app,
        "Api",
        plan=plan,
        code=runtime_code(),
        profiles=profiles,
        guardrails=GuardrailHandles.single(guardrail),
        knowledge=knowledge,
        env=Environment(account=ACCOUNT, region=plan.region),
    )
    Validations.of(app).add_plugins(AwsSolutionsChecks(app), ServerlessChecks(app))
    assembly, error, findings = synth_with_findings(app, out)
    result = Synthesized(stage, plan, {}, findings, error, outdir=out)
    if assembly is not None:
        artifact = assembly.get_stack_by_name(stack.stack_name)
        result.templates["Api"] = artifact.template
        result.template_files["Api"] = Path(artifact.template_full_path)
        result.stack_names["Api"] = stack.stack_name
    result.knowledge = knowledge  # type: ignore[attr-defined]
    return result
