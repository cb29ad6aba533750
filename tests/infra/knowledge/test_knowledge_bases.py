"""Knowledge bases, data sources and their roles, for every knowledge base of the test stages."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest

from tests.support.knowledge import dimensions, knowledge_bases, refs
from tests.support.synth import Synthesized
from tests.support.templates import as_list, render

STAGES = ["knowledge", "full"]
STORE_TYPES = {
    "s3vectors": "S3_VECTORS",
    "opensearch-serverless": "OPENSEARCH_SERVERLESS",
    "aurora-pgvector": "RDS",
}
CHUNKING = {
    "fixed": "FIXED_SIZE",
    "hierarchical": "HIERARCHICAL",
    "semantic": "SEMANTIC",
    "none": "NONE",
}


@pytest.fixture(scope="module", params=STAGES)
def stage(request: pytest.FixtureRequest, synth: Callable[[str], Synthesized]) -> Synthesized:
    return synth(request.param)


def test_given_the_test_stages_then_they_cover_every_store_chunking_and_an_existing_bucket(
    synth: Callable[[str], Synthesized],
) -> None:
    kbs = [kb for name in STAGES for kb in synth(name).config.knowledge_bases]
    assert {kb.vector_store.type for kb in kbs} == set(STORE_TYPES)
    assert {kb.chunking.strategy for kb in kbs} == set(CHUNKING)
    assert any(kb.data_source.bucket_arn for kb in kbs)
    assert any(kb.parsing for kb in kbs) and any(kb.tenant_key for kb in kbs)


def test_given_a_stage_without_knowledge_bases_when_synthesized_then_it_has_no_knowledge_stack(
    synth: Callable[[str], Synthesized],
) -> None:
    basic = synth("basic")
    assert not basic.config.knowledge_bases
    assert "Knowledge" not in basic.templates


def test_each_knowledge_base_is_a_retained_vector_base_over_its_embedding_model(
    stage: Synthesized,
) -> None:
    for kb in knowledge_bases(stage):
        props = kb.knowledge_base["Properties"]
        vector = props["KnowledgeBaseConfiguration"]["VectorKnowledgeBaseConfiguration"]
        assert props["KnowledgeBaseConfiguration"]["Type"] == "VECTOR"
        assert render(vector["EmbeddingModelArn"]).endswith(
            f":bedrock:{stage.config.region}::foundation-model/{kb.config.embedding.model}"
        )
        size = vector["EmbeddingModelConfiguration"]["BedrockEmbeddingModelConfiguration"]
        assert size["Dimensions"] == dimensions(stage, kb.config)
        assert (
            size["Dimensions"]
            in stage.plan.catalog.models[kb.config.embedding.model].embedding_dimensions
        )
        assert props["StorageConfiguration"]["Type"] == STORE_TYPES[kb.config.vector_store.type]
        assert kb.knowledge_base["DeletionPolicy"] == "Retain"
        assert kb.knowledge_base["UpdateReplacePolicy"] == "Retain"
        assert re.fullmatch(r"([0-9a-zA-Z][_-]?){1,100}", props["Name"]), props["Name"]


def test_each_data_source_reads_only_its_prefix_with_the_configured_chunking(
    stage: Synthesized,
) -> None:
    for kb in knowledge_bases(stage):
        props = kb.data_source["Properties"]
        assert refs(props["KnowledgeBaseId"]) == {f"{kb.key}KnowledgeBase"}
        s3 = props["DataSourceConfiguration"]["S3Configuration"]
        assert s3["InclusionPrefixes"] == [kb.config.prefix()]
        if kb.config.data_source.bucket_arn:
            assert s3["BucketArn"] == kb.config.data_source.bucket_arn
        else:
            assert refs(s3["BucketArn"]) == {"KnowledgeDataBucket"}
        ingestion = props["VectorIngestionConfiguration"]
        chunking = ingestion["ChunkingConfiguration"]
        assert chunking["ChunkingStrategy"] == CHUNKING[kb.config.chunking.strategy]
        if kb.config.chunking.strategy == "hierarchical":
            levels = chunking["HierarchicalChunkingConfiguration"]["LevelConfigurations"]
            assert [lv["MaxTokens"] for lv in levels] == [
                kb.config.chunking.parent_max_tokens,
                kb.config.chunking.child_max_tokens,
            ]
        if kb.config.chunking.strategy == "semantic":
            semantic = chunking["SemanticChunkingConfiguration"]
            assert semantic["BreakpointPercentileThreshold"] == (
                kb.config.chunking.breakpoint_percentile_threshold
            )
        if kb.config.parsing is None:
            assert "ParsingConfiguration" not in ingestion
        else:
            parsing = ingestion["ParsingConfiguration"]
            assert parsing["ParsingStrategy"] == "BEDROCK_FOUNDATION_MODEL"
            arn = render(parsing["BedrockFoundationModelConfiguration"]["ModelArn"])
            assert arn.endswith(kb.config.parsing.model), arn
        # Kept on stack delete; a replaced data source takes its vectors with it.
        assert kb.data_source["DeletionPolicy"] == "Retain"
        assert kb.data_source["UpdateReplacePolicy"] == "Delete"
        assert props["DataDeletionPolicy"] == "DELETE"


def test_each_role_is_trusted_by_bedrock_for_this_accounts_knowledge_bases_only(
    stage: Synthesized,
) -> None:
    for kb in knowledge_bases(stage):
        (trust,) = kb.role["Properties"]["AssumeRolePolicyDocument"]["Statement"]
        assert trust["Principal"] == {"Service": "bedrock.amazonaws.com"}
        assert (
            render(trust["Condition"]["StringEquals"]["aws:SourceAccount"]) == "${AWS::AccountId}"
        )
        source = render(trust["Condition"]["ArnLike"]["aws:SourceArn"])
        assert source.endswith(
            f":bedrock:{stage.config.region}:${{AWS::AccountId}}:knowledge-base/*"
        )


def test_each_role_reads_only_its_own_prefix_of_a_bucket_in_its_account(
    stage: Synthesized,
) -> None:
    own_account = {"aws:ResourceAccount": {"Ref": "AWS::AccountId"}}
    for kb in knowledge_bases(stage):
        prefix = kb.config.prefix()
        listing = kb.statement("s3:ListBucket")
        assert listing["Condition"] == {
            "StringLike": {"s3:prefix": [f"{prefix}*"]},
            "StringEquals": own_account,
        }
        assert kb.statement("s3:GetObject")["Condition"] == {"StringEquals": own_account}
        (objects,) = kb.rendered_resources("s3:GetObject")
        assert objects.endswith(f"/{prefix}*"), objects
        bucket = kb.config.data_source.bucket_arn or "${KnowledgeDataBucket.Arn}"
        assert objects == f"{bucket}/{prefix}*"
        assert kb.rendered_resources("s3:ListBucket") == [bucket]


def test_each_role_invokes_only_its_embedding_and_parser_models(stage: Synthesized) -> None:
    for kb in knowledge_bases(stage):
        arns = kb.rendered_resources("bedrock:InvokeModel")
        wanted = [kb.config.embedding.model] + (
            [kb.config.parsing.model] if kb.config.parsing else []
        )
        # Then every ARN is one of those models (in-region, or through the parser's profile)
        assert all(
            any(arn.endswith(f"/{m}") or arn.endswith(f".{m}") for m in wanted) for arn in arns
        )
        assert all(any(arn.endswith(f"/{m}") for arn in arns) for m in wanted), arns
        embedding = f":bedrock:{stage.config.region}::foundation-model/{wanted[0]}"
        assert any(arn.endswith(embedding) for arn in arns), arns
        assert not any("*" in arn for arn in arns)


def test_each_role_reaches_its_own_store_and_no_other(stage: Synthesized) -> None:
    shared = {"KnowledgeDataBucket", "KnowledgeKey"}
    for kb in knowledge_bases(stage):
        for st in kb.role_statements():
            named = refs(st.get("Resource"))
            # Then a statement names only this knowledge base's own resources or the stage's
            # data bucket and key
            assert all(lid.startswith(kb.key) or lid in shared for lid in named), (kb.key, st)
            service = {a.split(":")[0] for a in as_list(st["Action"])}
            if service & {"s3vectors", "aoss", "rds", "rds-data", "secretsmanager"}:
                # And store statements name exact resources of the store
                assert named and all(lid.startswith(kb.key) for lid in named), st
                assert not any("*" in render(r) for r in as_list(st["Resource"])), st


def test_the_stage_key_decrypts_documents_only_through_s3_where_the_stage_has_keys(
    stage: Synthesized,
) -> None:
    keys = stage.plan.customer_managed_keys
    for kb in knowledge_bases(stage):
        statements = kb.role_statements()
        documents = [st for st in statements if st.get("Sid") == "DecryptDocuments"]
        assert bool(documents) == (keys and not kb.config.data_source.bucket_arn)
        for st in documents:
            assert refs(st["Resource"]) == {"KnowledgeKey"}
            assert as_list(st["Action"]) == ["kms:Decrypt"]
            assert st["Condition"]["StringEquals"]["kms:ViaService"] == (
                f"s3.{stage.config.region}.amazonaws.com"
            )
        # Transient ingestion data and vectors: the two data-key actions on the one key
        transient = [st for st in statements if st.get("Sid") == "StageKeyForIngestionAndVectors"]
        assert bool(transient) == keys
        for st in transient:
            assert refs(st["Resource"]) == {"KnowledgeKey"}
            assert sorted(as_list(st["Action"])) == ["kms:Decrypt", "kms:GenerateDataKey"]


def test_knowledge_bases_wait_for_their_stores(stage: Synthesized) -> None:
    for kb in knowledge_bases(stage):
        waits = set(as_list(kb.knowledge_base.get("DependsOn", [])))
        store = kb.config.vector_store.type
        needed = {
            "s3vectors": {f"{kb.key}VectorIndex"},
            "opensearch-serverless": {f"{kb.key}CollectionIndex"},
            "aurora-pgvector": {f"{kb.key}Cluster", f"{kb.key}ClusterWriter"},
        }[store]
        assert needed <= waits, (kb.config.name, waits)
        assert kb.role_id in waits
