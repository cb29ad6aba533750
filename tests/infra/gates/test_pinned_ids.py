"""Stateful resources keep their logical ids: renaming one would replace (and orphan) it."""

from __future__ import annotations

import re
from typing import Any

from stacks.api.waf import WAF_LOGS_LOGICAL_ID
from stacks.config.api import waf_enabled
from tests.support.synth import Synthesized

# Retained log groups and the guardrail, by stack. The model access ids exist only in stages
# that run the check.
PINNED_LOGICAL_IDS = {
    "Api": {
        "ChatLogs5E9385DA",
        "ChatStreamLogs8C3A51D2",
        "ChatApiAccessLogs06A21BFA",
        "GuardrailCheckLogs3B7E2D90",
    },
    "Guardrails": {"GuardrailA5094A7B"},
}
ACCESS_CHECK_IDS = {"ModelAccessFunctionLogs9DBAE89F", "ModelAccessProviderLogsC11F540D"}
# The knowledge endpoints' log groups exist only in stages with knowledge bases.
KNOWLEDGE_ENDPOINT_IDS = {"RagLogs4C61B0E9", "RetrieveLogsA7D3F1C2"}
INGESTION_IDS = {"IngestionTriggerLogs", "IngestionReportLogs", "IngestionFollowerLogs"}
# The web ACL's log group exists only where the stage has a web ACL that logs (api.waf).
WAF_LOG_IDS = {WAF_LOGS_LOGICAL_ID}


def waf_log_ids(config: Any) -> set[str]:
    logged = waf_enabled(config.api, production=config.production) and config.api.waf.logging
    return WAF_LOG_IDS if logged else set()


# The Knowledge stack's ids follow each knowledge base's config name (``my-kb`` -> ``MyKb``):
# renaming a knowledge base is a new one, refactoring the construct tree is not.
STORE_IDS = {
    "s3vectors": ("VectorBucket", "VectorIndex"),
    "opensearch-serverless": ("Collection", "CollectionIndex"),
    "aurora-pgvector": (
        "Cluster",
        "ClusterWriter",
        "ClusterSubnets",
        "ClusterSecurityGroup",
        "UserSecret",
        "SchemaLogs",
        "SchemaProviderLogs",
    ),
}
DATA_BUCKET_IDS = {"KnowledgeDataBucket", "KnowledgeAccessLogs"}
NETWORK_IDS = {
    "KnowledgeNetwork",
    *(
        f"KnowledgeNetworkDatabaseSubnet{i}{part}"
        for i in (1, 2)
        for part in ("Subnet", "RouteTable", "RouteTableAssociation")
    ),
}
FLOW_LOG_IDS = {
    "KnowledgeNetworkFlowLogs",
    "KnowledgeNetworkFlowLogFlowLog",
    "KnowledgeNetworkFlowLogIAMRole",
    "KnowledgeNetworkFlowLogIAMRoleDefaultPolicy",
}


def _kb_key(name: str) -> str:
    return "".join(p[:1].upper() + p[1:] for p in re.split(r"[^0-9a-zA-Z]+", name) if p)


def knowledge_ids(config: Any) -> set[str]:
    """Every pinned id the Knowledge stack of a stage must hold, from its config alone."""
    kbs = config.knowledge_bases
    ids: set[str] = set()
    for kb in kbs:
        key, store = _kb_key(kb.name), kb.vector_store
        ids |= {f"{key}KnowledgeBase", f"{key}DataSource"}
        ids |= {key + suffix for suffix in STORE_IDS[store.type]}
        if store.type == "opensearch-serverless" and store.capacity is not None:
            ids.add(f"{key}CollectionGroup")
        if store.type == "aurora-pgvector":
            rotated = config.production if store.rotate_secret is None else store.rotate_secret
            if not rotated:  # a generated secret; RDS-managed ones are not in the template
                ids.add(f"{key}ClusterSecret")
            else:  # the Bedrock user's rotation function logs to its own retained group
                ids.add(f"{key}RotationLogs")
    if any(kb.data_source.bucket_arn is None for kb in kbs):
        ids |= DATA_BUCKET_IDS
    if kbs and config.encryption.customer_managed(config.production):
        ids.add("KnowledgeKey")
    if any(kb.vector_store.type == "aurora-pgvector" for kb in kbs):
        ids |= NETWORK_IDS | (FLOW_LOG_IDS if config.production else set())
    return ids


# Retained but holding no data: guardrail versions are immutable snapshots (a new one per
# config, old ones kept for running functions); API Gateway's account-level logging role and
# its account setting are shared by every API in the account, so a stage never deletes them.
NOT_DATA = {"AWS::Bedrock::GuardrailVersion", "AWS::IAM::Role", "AWS::ApiGateway::Account"}


def guardrail_ids(config: Any) -> set[str]:
    """The named (non-default) guardrails: ``<Name>Guardrail`` from each config name; the
    default keeps the single guardrail's id (PINNED_LOGICAL_IDS)."""
    from stacks.guardrails.guardrail import pinned_key

    default = config.guardrail
    return {f"{pinned_key(g.name)}Guardrail" for g in config.guardrails if g is not default}


def enforcement_ids(config: Any) -> set[str]:
    """The account-level enforcement (not retained, but pinned: it is one per account and
    Region, so a replacement would create the new one, then delete it with the old id)."""
    from stacks.guardrails.stack import ENFORCEMENT_ID

    return {ENFORCEMENT_ID} if config.guardrail_enforcement is not None else set()


def key_ids(stage: Synthesized) -> dict[str, str]:
    """Each stack's customer-managed key (``<StackId>Key``), in a stage that has them."""
    if not stage.plan.customer_managed_keys:
        return {}
    # A key is made on first use: the Platform stack encrypts only the model access check's
    # log groups and the Network stack only its flow-log group, so without them, no key.
    keyless = set()
    if not stage.config.model_access.enabled:
        keyless.add("Platform")
    if not network_ids(stage.config):
        keyless.add("Network")
    return {stack: f"{stack}Key" for stack in stage.templates if stack not in keyless}


def network_ids(config: Any) -> set[str]:
    """A private stage's retained flow-log group (the VPC itself holds no data: not retained)."""
    from stacks.config.network import flow_logs_on

    if config.network.mode == "none" or not flow_logs_on(config.network, config.production):
        return set()
    return {"NetworkFlowLogs"}


def test_stateful_logical_ids_are_stable(any_stage: Synthesized) -> None:
    for stack, key_id in key_ids(any_stage).items():
        assert key_id in any_stage.templates[stack]["Resources"], (stack, key_id)
    for stack, ids in PINNED_LOGICAL_IDS.items():
        assert ids <= set(any_stage.templates[stack]["Resources"]), (stack, ids)
    named = guardrail_ids(any_stage.config) | enforcement_ids(any_stage.config)
    assert named <= set(any_stage.templates["Guardrails"]["Resources"]), named
    assert waf_log_ids(any_stage.config) <= set(any_stage.templates["Api"]["Resources"])
    if any_stage.config.model_access.enabled:
        assert set(any_stage.templates["Platform"]["Resources"]) >= ACCESS_CHECK_IDS
    flow = network_ids(any_stage.config)
    if flow:
        assert flow <= set(any_stage.templates["Network"]["Resources"]), flow
    expected = knowledge_ids(any_stage.config)
    if expected:
        missing = expected - set(any_stage.templates["Knowledge"]["Resources"])
        assert not missing, missing
        assert set(any_stage.templates["Ingestion"]["Resources"]) >= INGESTION_IDS
        assert set(any_stage.templates["Api"]["Resources"]) >= KNOWLEDGE_ENDPOINT_IDS


def test_every_retained_resource_is_pinned_or_versioned(any_stage: Synthesized) -> None:
    # A retained resource that is not pinned could be orphaned by a refactor of the tree.
    pinned = set().union(
        *PINNED_LOGICAL_IDS.values(),
        ACCESS_CHECK_IDS,
        KNOWLEDGE_ENDPOINT_IDS,
        INGESTION_IDS,
        knowledge_ids(any_stage.config),
        key_ids(any_stage).values(),
        waf_log_ids(any_stage.config),
        network_ids(any_stage.config),
        guardrail_ids(any_stage.config),
    )
    for stack, template in any_stage.templates.items():
        for lid, res in template["Resources"].items():
            if res.get("DeletionPolicy") != "Retain":
                continue
            if res["Type"] in NOT_DATA:
                continue
            assert lid in pinned, f"{stack}/{lid} ({res['Type']}) is retained but not pinned"
