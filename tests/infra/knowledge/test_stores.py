"""The vector stores and the data bucket of the test stages' knowledge bases."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

import pytest

from stacks.knowledge.opensearch import METADATA_FIELD, TEXT_FIELD, VECTOR_FIELD
from stacks.knowledge.s3vectors import BEDROCK_NON_FILTERABLE_KEYS
from tests.stages import test_stages
from tests.support.knowledge import KnowledgeBaseView, dimensions, knowledge_bases, refs
from tests.support.synth import Synthesized
from tests.support.templates import as_list, render

STAGES = ["knowledge", "full"]


@pytest.fixture(scope="module", params=STAGES)
def stage(request: pytest.FixtureRequest, synth: Callable[[str], Synthesized]) -> Synthesized:
    return synth(request.param)


def _of(stage: Synthesized, store: str) -> list[KnowledgeBaseView]:
    return [kb for kb in knowledge_bases(stage) if kb.config.vector_store.type == store]


def _retained(resource: dict[str, Any]) -> bool:
    return resource["DeletionPolicy"] == "Retain" and resource["UpdateReplacePolicy"] == "Retain"


# -- S3 Vectors ------------------------------------------------------------------------------


def test_s3vectors_index_fits_the_embeddings_and_keeps_bedrock_text_out_of_filters(
    stage: Synthesized,
) -> None:
    for kb in _of(stage, "s3vectors"):
        index = kb.resource("VectorIndex")
        props = index["Properties"]
        assert props["DataType"] == "float32"
        assert props["Dimension"] == dimensions(stage, kb.config)
        assert props["DistanceMetric"] == kb.config.vector_store.distance_metric
        keys = props["MetadataConfiguration"]["NonFilterableMetadataKeys"]
        assert set(BEDROCK_NON_FILTERABLE_KEYS) <= set(keys)
        # The tenant key must stay filterable: the runtime filters on it
        assert kb.config.tenant_key not in keys
        assert refs(props["VectorBucketArn"]) == {f"{kb.key}VectorBucket"}
        assert _retained(index) and _retained(kb.resource("VectorBucket"))
        storage = kb.knowledge_base["Properties"]["StorageConfiguration"]
        assert refs(storage["S3VectorsConfiguration"]) == {f"{kb.key}VectorIndex"}
        (arn,) = kb.rendered_resources("s3vectors:QueryVectors")
        assert arn == f"${{{kb.key}VectorIndex.IndexArn}}"


# -- OpenSearch Serverless -------------------------------------------------------------------


def _policy(resource: dict[str, Any]) -> Any:
    policy = resource["Properties"]["Policy"]
    text = policy["Fn::Sub"][0] if isinstance(policy, dict) else policy
    return json.loads(text)


def _policies(kb: KnowledgeBaseView, type_: str) -> list[dict[str, Any]]:
    return [
        res
        for res in kb.resources.values()
        if res["Type"]
        in ("AWS::OpenSearchServerless::SecurityPolicy", "AWS::OpenSearchServerless::AccessPolicy")
        and res["Properties"]["Type"] == type_
    ]


def _covering(kb: KnowledgeBaseView, type_: str, name: str) -> dict[str, Any]:
    (policy,) = [p for p in _policies(kb, type_) if f"collection/{name}" in json.dumps(_policy(p))]
    return policy


def test_opensearch_collection_is_vectorsearch_with_standby_replicas_only_in_production(
    stage: Synthesized,
) -> None:
    for kb in _of(stage, "opensearch-serverless"):
        collection = kb.resource("Collection")
        props = collection["Properties"]
        assert props["Type"] == "VECTORSEARCH"
        configured = kb.config.vector_store.standby_replicas
        standby = stage.config.production if configured is None else configured
        assert props["StandbyReplicas"] == ("ENABLED" if standby else "DISABLED")
        assert _retained(collection) and _retained(kb.resource("CollectionIndex"))
        # Tags are create-only on a collection: a tag change must not replace the store
        assert "Tags" not in props


def test_opensearch_capacity_puts_the_collection_in_its_own_group_with_those_limits(
    stage: Synthesized,
) -> None:
    for kb in _of(stage, "opensearch-serverless"):
        limits = kb.config.vector_store.capacity
        collection = kb.resource("Collection")["Properties"]
        assert collection["DeletionProtection"] == "ENABLED"
        if limits is None:
            assert "CollectionGroupName" not in collection
            continue
        group = kb.resource("CollectionGroup")
        assert _retained(group)
        props = group["Properties"]
        assert collection["CollectionGroupName"] == props["Name"]
        assert props["StandbyReplicas"] == collection["StandbyReplicas"]
        expected = {
            field: value
            for field, value in {
                "MinSearchCapacityInOcu": limits.min_search_ocu,
                "MaxSearchCapacityInOcu": limits.max_search_ocu,
                "MinIndexingCapacityInOcu": limits.min_indexing_ocu,
                "MaxIndexingCapacityInOcu": limits.max_indexing_ocu,
            }.items()
            if value is not None
        }
        assert props["CapacityLimits"] == expected


def test_opensearch_collection_is_encrypted_reachable_and_readable_as_configured(
    stage: Synthesized,
) -> None:
    for kb in _of(stage, "opensearch-serverless"):
        name = kb.resource("Collection")["Properties"]["Name"]
        encryption = _policy(_covering(kb, "encryption", name))
        if stage.config.production:
            assert encryption["AWSOwnedKey"] is False and encryption["KmsARN"] == "${KeyArn}"
        else:
            assert encryption["AWSOwnedKey"] is True and "KmsARN" not in encryption
        (network,) = _policy(_covering(kb, "network", name))
        assert [r["Resource"] for r in network["Rules"]] == [[f"collection/{name}"]]
        # Data access: the knowledge-base role for documents, CloudFormation for the index
        access = _covering(kb, "data", name)
        grants = _policy(access)
        assert len(grants) == 2
        role, deployer = grants
        assert role["Principal"] == ["${RoleArn}"]
        assert refs(access["Properties"]["Policy"]["Fn::Sub"][1]) == {kb.role_id}
        (deployer_arn,) = deployer["Principal"]
        assert re.fullmatch(
            r"arn:\$\{AWS::Partition\}:iam::\S+:role/cdk-[a-z0-9]+-cfn-exec-role-\S+", deployer_arn
        )
        index = kb.resource("CollectionIndex")["Properties"]["IndexName"]
        for grant in grants:
            resources = {r["ResourceType"]: r["Resource"] for r in grant["Rules"]}
            assert resources == {
                "collection": [f"collection/{name}"],
                "index": [f"index/{name}/{index}"],
            }
        role_perms = {p for r in role["Rules"] for p in r["Permission"]}
        assert "aoss:CreateIndex" not in role_perms and "aoss:DeleteIndex" not in role_perms
        deployer_perms = {p for r in deployer["Rules"] for p in r["Permission"]}
        assert (
            "aoss:ReadDocument" not in deployer_perms and "aoss:WriteDocument" not in deployer_perms
        )
        (arn,) = kb.rendered_resources("aoss:APIAccessAll")
        assert arn == f"${{{kb.key}Collection.Arn}}"


def test_opensearch_index_matches_the_knowledge_base_field_mapping(stage: Synthesized) -> None:
    for kb in _of(stage, "opensearch-serverless"):
        index = kb.resource("CollectionIndex")["Properties"]
        config = kb.knowledge_base["Properties"]["StorageConfiguration"][
            "OpensearchServerlessConfiguration"
        ]
        assert config["VectorIndexName"] == index["IndexName"]
        assert refs(config["CollectionArn"]) == {f"{kb.key}Collection"}
        assert refs(index["CollectionEndpoint"]) == {f"{kb.key}Collection"}
        mapping = config["FieldMapping"]
        fields = index["Mappings"]["Properties"]
        vector = fields[mapping["VectorField"]]
        assert vector["Type"] == "knn_vector"
        assert vector["Dimension"] == dimensions(stage, kb.config)
        assert vector["Method"]["Engine"] == "faiss" and vector["Method"]["Name"] == "hnsw"
        assert fields[mapping["TextField"]]["Type"] == "text"
        assert fields[mapping["MetadataField"]] == {"Type": "text", "Index": False}
        assert {VECTOR_FIELD, TEXT_FIELD, METADATA_FIELD} == set(fields)
        assert index["Settings"]["Index"]["Knn"] is True


def test_opensearch_names_fit_their_patterns_in_every_test_stage(
    synth: Callable[[str], Synthesized],
) -> None:
    # Given every test stage that has an OpenSearch knowledge base
    checked = 0
    for name, raw in test_stages().items():
        kinds = {kb.get("vector_store", {}).get("type") for kb in raw.get("knowledge_bases", [])}
        if "opensearch-serverless" not in kinds:
            continue
        for kb in _of(synth(name), "opensearch-serverless"):
            checked += 1
            collection = kb.resource("Collection")["Properties"]["Name"]
            # Then collection names are 3-28 lowercase characters, policy names 3-32
            assert re.fullmatch(r"[a-z][a-z0-9-]{2,27}", collection), collection
            for type_ in ("encryption", "network", "data"):
                for policy in _policies(kb, type_):
                    assert re.fullmatch(r"[a-z][a-z0-9-]{2,31}", policy["Properties"]["Name"])
            index = kb.resource("CollectionIndex")["Properties"]["IndexName"]
            assert re.fullmatch(r"[a-z][a-z0-9_-]*", index) and len(index) <= 63
    assert checked


# -- Aurora pgvector -------------------------------------------------------------------------


def test_aurora_cluster_scales_to_zero_with_the_data_api_on_and_encrypted_storage(
    stage: Synthesized,
) -> None:
    for kb in _of(stage, "aurora-pgvector"):
        store = kb.config.vector_store
        cluster = kb.resource("Cluster")
        props = cluster["Properties"]
        assert props["Engine"] == "aurora-postgresql"
        scaling = props["ServerlessV2ScalingConfiguration"]
        assert scaling["MinCapacity"] == store.min_capacity
        assert scaling["MaxCapacity"] == store.max_capacity
        if store.min_capacity == 0:
            assert scaling["SecondsUntilAutoPause"] == store.auto_pause_seconds
        else:
            assert "SecondsUntilAutoPause" not in scaling
        assert props["EnableHttpEndpoint"] is True
        assert props["StorageEncrypted"] is True
        assert ("KmsKeyId" in props) == stage.config.production
        if stage.config.production:
            assert refs(props["KmsKeyId"]) == {"KnowledgeKey"}
        assert props["DeletionProtection"] is True
        assert _retained(cluster) and _retained(kb.resource("ClusterWriter"))
        assert kb.resource("ClusterWriter")["Properties"]["DBInstanceClass"] == "db.serverless"


def test_aurora_master_credentials_rotate_where_the_stage_asks_and_bedrock_has_its_own_login(
    stage: Synthesized,
) -> None:
    for kb in _of(stage, "aurora-pgvector"):
        configured = kb.config.vector_store.rotate_secret
        rotate = stage.config.production if configured is None else configured
        props = kb.resource("Cluster")["Properties"]
        secret = kb.knowledge_base["Properties"]["StorageConfiguration"]["RdsConfiguration"][
            "CredentialsSecretArn"
        ]
        # Bedrock logs in with the schema function's limited role, never the master user.
        assert secret == {"Ref": f"{kb.key}UserSecret"}
        if rotate:
            assert props["ManageMasterUserPassword"] is True
        else:
            assert "ManageMasterUserPassword" not in props
            assert _retained(kb.resource("ClusterSecret"))
            assert "{{resolve:secretsmanager:" in json.dumps(props["MasterUserPassword"])
        (arn,) = kb.rendered_resources("secretsmanager:GetSecretValue")
        assert arn == render(secret)
        # (The Bedrock user's rotation: tests/infra/knowledge/test_pgvector_rotation.py)


def test_aurora_knowledge_base_maps_the_table_the_schema_resource_creates(
    stage: Synthesized,
) -> None:
    from kit_runtime.contracts.pgvector import PgvectorTable

    schemas = stage.resources("Custom::PgvectorSchema", "Knowledge").values()
    for kb in _of(stage, "aurora-pgvector"):
        (props,) = [
            p["Properties"]
            for p in schemas
            if refs(p["Properties"]["ClusterArn"]) == {f"{kb.key}Cluster"}
        ]
        table = PgvectorTable.model_validate(props["Table"])
        assert table.dimensions == dimensions(stage, kb.config)
        rds = kb.knowledge_base["Properties"]["StorageConfiguration"]["RdsConfiguration"]
        assert rds["DatabaseName"] == table.database
        assert kb.resource("Cluster")["Properties"]["DatabaseName"] == table.database
        assert rds["TableName"] == f"{table.schema_name}.{table.table}"
        assert rds["FieldMapping"] == {
            "PrimaryKeyField": table.id_column,
            "VectorField": table.vector_column,
            "TextField": table.text_column,
            "MetadataField": table.metadata_column,
            "CustomMetadataField": table.custom_metadata_column,
        }
        # The knowledge base waits for its table, and the schema re-runs (waking a paused
        # cluster) whenever the knowledge base would be replaced.
        assert props.get("Generation")
        assert refs(rds["ResourceArn"]) == {f"{kb.key}Cluster"}
        for action in ("rds-data:ExecuteStatement", "rds:DescribeDBClusters"):
            (arn,) = kb.rendered_resources(action)
            assert arn == render(rds["ResourceArn"])


def test_aurora_network_is_isolated_without_nat_and_logs_flows_only_in_production(
    stage: Synthesized,
) -> None:
    if not _of(stage, "aurora-pgvector"):
        pytest.skip("no Aurora knowledge base")
    assert not stage.resources("AWS::EC2::NatGateway", "Knowledge")
    assert not stage.resources("AWS::EC2::InternetGateway", "Knowledge")
    assert not stage.resources("AWS::EC2::Route", "Knowledge")
    subnets = stage.resources("AWS::EC2::Subnet", "Knowledge")
    assert len(subnets) == 2
    zones = {json.dumps(s["Properties"]["AvailabilityZone"]) for s in subnets.values()}
    assert len(zones) == 2 and all("Fn::GetAZs" in z for z in zones)  # no lookup at synth
    flow_logs = stage.resources("AWS::EC2::FlowLog", "Knowledge")
    assert bool(flow_logs) == stage.config.production


# -- Data bucket -----------------------------------------------------------------------------


def test_data_bucket_is_encrypted_versioned_private_logged_and_sends_events(
    stage: Synthesized,
) -> None:
    resources = stage.templates["Knowledge"]["Resources"]
    bucket, logs = resources["KnowledgeDataBucket"], resources["KnowledgeAccessLogs"]
    props = bucket["Properties"]
    (rule,) = props["BucketEncryption"]["ServerSideEncryptionConfiguration"]
    default = rule["ServerSideEncryptionByDefault"]
    if stage.config.production:
        assert default["SSEAlgorithm"] == "aws:kms"
        assert refs(default["KMSMasterKeyID"]) == {"KnowledgeKey"}
        key = resources["KnowledgeKey"]
        assert key["Properties"]["EnableKeyRotation"] is True and _retained(key)
    else:
        assert default == {"SSEAlgorithm": "AES256"}
        assert "KnowledgeKey" not in resources
    assert props["VersioningConfiguration"] == {"Status": "Enabled"}
    for res in (bucket, logs):
        assert _retained(res)
        assert all(res["Properties"]["PublicAccessBlockConfiguration"].values())
        assert "AccessControl" not in res["Properties"]
    assert logs["Properties"]["BucketEncryption"]["ServerSideEncryptionConfiguration"][0][
        "ServerSideEncryptionByDefault"
    ] == {"SSEAlgorithm": "AES256"}
    assert refs(props["LoggingConfiguration"]) == {"KnowledgeAccessLogs"}
    assert props["NotificationConfiguration"]["EventBridgeConfiguration"] == {
        "EventBridgeEnabled": True
    }
    # And both refuse plain HTTP
    for policy in stage.resources("AWS::S3::BucketPolicy", "Knowledge").values():
        denies = [
            st
            for st in policy["Properties"]["PolicyDocument"]["Statement"]
            if st["Effect"] == "Deny"
        ]
        assert any(st["Condition"] == {"Bool": {"aws:SecureTransport": "false"}} for st in denies)
    assert {
        next(iter(refs(p["Properties"]["Bucket"])))
        for p in stage.resources("AWS::S3::BucketPolicy", "Knowledge").values()
    } == {"KnowledgeDataBucket", "KnowledgeAccessLogs"}


def test_an_existing_bucket_is_referenced_not_created_and_read_only_under_its_prefix(
    synth: Callable[[str], Synthesized],
) -> None:
    stage = synth("knowledge")
    existing = [kb for kb in knowledge_bases(stage) if kb.config.data_source.bucket_arn]
    assert existing
    buckets = stage.resources("AWS::S3::Bucket", "Knowledge")
    assert len(buckets) == 2  # the kit's data bucket and its access logs, nothing for the others
    for kb in existing:
        arn = kb.config.data_source.bucket_arn
        names = [json.dumps(b["Properties"]) for b in buckets.values()]
        assert not any(arn.rsplit(":", 1)[1] in n for n in names)
        assert kb.rendered_resources("s3:GetObject") == [f"{arn}/{kb.config.prefix()}*"]
        assert not [st for st in kb.role_statements() if "kms:Decrypt" in as_list(st["Action"])]
