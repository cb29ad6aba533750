"""Customer-managed keys: where a stage has them, everything that stores data uses its
stack's key (rotated, retained); where it has none, no key is made; key policies let a service
principal in only under a condition."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from stacks.catalog.idle_costs import count_keys, keys_idle_cost, load_idle_costs
from tests.support.synth import Synthesized

# Where each resource type names its key (CloudFormation properties).
KEY_PROPERTY: dict[str, Callable[[dict[str, Any]], Any]] = {
    "AWS::Logs::LogGroup": lambda p: p.get("KmsKeyId"),
    "AWS::SQS::Queue": lambda p: p.get("KmsMasterKeyId"),
    "AWS::DynamoDB::Table": lambda p: p.get("SSESpecification", {}).get("KMSMasterKeyId"),
    "AWS::Bedrock::Guardrail": lambda p: p.get("KmsKeyArn"),
    "AWS::Bedrock::DataSource": lambda p: p.get("ServerSideEncryptionConfiguration", {}).get(
        "KmsKeyArn"
    ),
    "AWS::SecretsManager::Secret": lambda p: p.get("KmsKeyId"),
    "AWS::S3Vectors::VectorBucket": lambda p: p.get("EncryptionConfiguration", {}).get("KmsKeyArn"),
    "AWS::RDS::DBCluster": lambda p: p.get("KmsKeyId") if p.get("StorageEncrypted") else None,
    "AWS::StepFunctions::StateMachine": lambda p: p.get("EncryptionConfiguration", {}).get(
        "KmsKeyId"
    ),
    "AWS::S3::Bucket": lambda p: next(
        (
            rule["ServerSideEncryptionByDefault"].get("KMSMasterKeyID")
            for rule in p.get("BucketEncryption", {}).get("ServerSideEncryptionConfiguration", [])
        ),
        None,
    ),
}
# S3 delivers server access logs only to an SSE-S3 bucket (docs/decisions.md).
ACCESS_LOG_BUCKET = "KnowledgeAccessLogs"


def _key_ids(template: dict[str, Any]) -> set[str]:
    return {lid for lid, res in template["Resources"].items() if res["Type"] == "AWS::KMS::Key"}


def _refers_to(value: Any, key_ids: set[str]) -> bool:
    """``{"Fn::GetAtt": [<key>, "Arn"]}`` or ``{"Ref": <key>}`` of one of ``key_ids``."""
    if isinstance(value, dict):
        if value.get("Ref") in key_ids:
            return True
        att = value.get("Fn::GetAtt")
        if isinstance(att, list) and att and att[0] in key_ids:
            return True
    return False


def _encrypted(stage: Synthesized) -> list[tuple[str, str, Any]]:
    found = []
    for stack, template in stage.templates.items():
        for lid, res in template["Resources"].items():
            read = KEY_PROPERTY.get(res["Type"])
            if read is not None:
                found.append((f"{stack}/{lid}", res["Type"], read(res.get("Properties", {}))))
    return found


def test_every_store_of_a_customer_managed_stage_uses_its_stacks_rotated_key(
    synth: Callable[[str], Synthesized],
) -> None:
    # Given the production test stage (customer-managed keys by default)
    stage = synth("full")
    assert stage.plan.customer_managed_keys
    # When every log group, bucket, queue, table, secret, store and guardrail is read
    resources = _encrypted(stage)
    # Then each names a key of its own stack, and that key rotates and is kept
    kinds = {kind for _, kind, _ in resources}
    assert {"AWS::Logs::LogGroup", "AWS::Bedrock::Guardrail", "AWS::Bedrock::DataSource"} <= kinds
    assert {"AWS::SQS::Queue", "AWS::DynamoDB::Table", "AWS::SecretsManager::Secret"} <= kinds
    for path, kind, key in resources:
        stack, lid = path.split("/")
        if lid == ACCESS_LOG_BUCKET:
            assert key is None, path
            continue
        keys = _key_ids(stage.templates[stack])
        assert _refers_to(key, keys), f"{path} ({kind}) is not encrypted with its stack's key"
    for stack, template in stage.templates.items():
        for lid in _key_ids(template):
            res = template["Resources"][lid]
            assert res["Properties"]["EnableKeyRotation"] is True, (stack, lid)
            days = res["Properties"]["RotationPeriodInDays"]
            assert days == stage.config.encryption.rotation_period_days
            assert res["DeletionPolicy"] == res["UpdateReplacePolicy"] == "Retain"


def test_the_rds_managed_master_secret_uses_the_key_too(
    synth: Callable[[str], Synthesized],
) -> None:
    stage = synth("full")
    keys = _key_ids(stage.templates["Knowledge"])
    clusters = stage.resources("AWS::RDS::DBCluster", "Knowledge")
    assert clusters
    for path, res in clusters.items():
        if res["Properties"].get("ManageMasterUserPassword"):
            secret_key = res["Properties"]["MasterUserSecret"]["KmsKeyId"]
            assert _refers_to(secret_key, keys), path


@pytest.mark.parametrize("name", ["basic", "knowledge"])
def test_a_stage_without_customer_managed_keys_creates_none(
    synth: Callable[[str], Synthesized], name: str
) -> None:
    # Given a non-production stage (AWS-owned / AWS-managed keys by default)
    stage = synth(name)
    assert not stage.plan.customer_managed_keys
    # Then no key exists and nothing names one
    assert not stage.resources("AWS::KMS::Key")
    for path, kind, key in _encrypted(stage):
        if kind != "AWS::RDS::DBCluster":
            assert key is None, f"{path} ({kind}) names a key in a stage without any"


def test_key_policies_let_service_principals_in_only_under_a_condition(
    synth: Callable[[str], Synthesized],
) -> None:
    stage = synth("full")
    seen = 0
    for path, res in stage.resources("AWS::KMS::Key").items():
        for statement in res["Properties"]["KeyPolicy"]["Statement"]:
            if "Service" in statement["Principal"]:
                seen += 1
                assert statement.get("Condition"), (path, statement.get("Sid"))
    assert seen  # CloudWatch Logs at least


def test_invokers_of_an_encrypted_guardrail_may_decrypt_with_its_key(
    synth: Callable[[str], Synthesized],
) -> None:
    # Given the production stage, whose guardrail has a customer-managed key
    stage = synth("full")
    policies = stage.resources("AWS::IAM::Policy", "Api")
    invokers = [
        p
        for p in policies.values()
        if any(
            str(s.get("Sid", "")).startswith("InvokeEnabledModelsThroughGuardrail")
            for s in p["Properties"]["PolicyDocument"]["Statement"]
        )
    ]
    assert invokers
    # Then every role that invokes through it may kms:Decrypt, and only that, with one key
    for policy in invokers:
        decrypt = [
            s
            for s in policy["Properties"]["PolicyDocument"]["Statement"]
            if str(s.get("Sid", "")).startswith("DecryptStageGuardrail")
        ]
        assert len(decrypt) == 1 and decrypt[0]["Action"] == "kms:Decrypt"
        assert "Fn::GetStackOutput" in str(decrypt[0]["Resource"]) or "Guardrails" in str(
            decrypt[0]["Resource"]
        )


def test_a_stages_keys_are_counted_and_priced_from_its_templates(
    synth: Callable[[str], Synthesized],
) -> None:
    # Given the production stage (one key per stack) and a stage without keys
    full, basic = synth("full"), synth("basic")
    facts = load_idle_costs()
    # When their keys are counted from the synthesized templates
    count = count_keys(full.templates)
    # Then each stack's key is counted once, priced at one key-month each; none costs nothing
    assert count == len(full.templates)
    cost = keys_idle_cost(count, facts=facts)
    assert cost.monthly_usd == pytest.approx(count * facts.kms.key_month.price)
    assert keys_idle_cost(count_keys(basic.templates), facts=facts).monthly_usd == 0
