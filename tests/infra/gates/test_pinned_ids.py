"""Stateful resources keep their logical ids: renaming one would replace (and orphan) it."""

from __future__ import annotations

from tests.support.synth import Synthesized

# Retained log groups and the guardrail, by stack. The model access ids exist only in stages
# that run the check.
PINNED_LOGICAL_IDS = {
    "Api": {"ChatLogs5E9385DA", "ChatApiAccessLogs06A21BFA"},
    "Guardrails": {"GuardrailA5094A7B"},
}
ACCESS_CHECK_IDS = {"ModelAccessFunctionLogs9DBAE89F", "ModelAccessProviderLogsC11F540D"}
# The knowledge endpoints' log groups exist only in stages with knowledge bases.
KNOWLEDGE_ENDPOINT_IDS = {"RagLogs4C61B0E9", "RetrieveLogsA7D3F1C2"}


# Retained but holding no data: guardrail versions are immutable snapshots (a new one per
# config, old ones kept for running functions); API Gateway's account-level logging role and
# its account setting are shared by every API in the account, so a stage never deletes them.
NOT_DATA = {"AWS::Bedrock::GuardrailVersion", "AWS::IAM::Role", "AWS::ApiGateway::Account"}


def test_stateful_logical_ids_are_stable(any_stage: Synthesized) -> None:
    for stack, ids in PINNED_LOGICAL_IDS.items():
        assert ids <= set(any_stage.templates[stack]["Resources"]), (stack, ids)
    if any_stage.config.model_access.enabled:
        assert set(any_stage.templates["Platform"]["Resources"]) >= ACCESS_CHECK_IDS


def test_every_retained_resource_is_pinned_or_versioned(any_stage: Synthesized) -> None:
    # A retained resource that is not pinned could be orphaned by a refactor of the tree.
    pinned = set().union(*PINNED_LOGICAL_IDS.values(), ACCESS_CHECK_IDS, KNOWLEDGE_ENDPOINT_IDS)
    for stack, template in any_stage.templates.items():
        for lid, res in template["Resources"].items():
            if res.get("DeletionPolicy") != "Retain":
                continue
            if res["Type"] in NOT_DATA:
                continue
            assert lid in pinned, f"{stack}/{lid} ({res['Type']}) is retained but not pinned"
