"""Amazon S3 Vectors: a vector bucket and one index per knowledge base (pay per use)."""

from __future__ import annotations

from collections.abc import Sequence

from aws_cdk import aws_bedrock as bedrock
from aws_cdk import aws_iam as iam
from aws_cdk import aws_s3vectors as s3vectors
from constructs import Construct

from stacks.config.knowledge import S3VectorsStore
from stacks.core.naming import digest, resource_name
from stacks.knowledge.common import pascal, pin

# IndexName: 3-63 characters (AWS::S3Vectors::Index schema in cfn-lint's registry copy,
# 2026-10-20; botocore s3vectors 2025-07-15 IndexName; checked 2026-12-01).
INDEX_NAME_MAX = 63

# The keys Bedrock writes into every vector: the chunk's text and its source metadata. Left
# filterable they count against S3 Vectors' per-vector filterable-metadata limit (2 KB) and a
# long chunk fails ingestion; non-filterable they are still returned with each result.
# UNVERIFIED against an AWS page (2026-12-01): the names come from public templates that pair
# S3 Vectors with Bedrock (code search); AWS documents only the shape (1-10 keys, 1-63 chars,
# AWS::S3Vectors::Index MetadataConfiguration).
BEDROCK_NON_FILTERABLE_KEYS = ("AMAZON_BEDROCK_TEXT", "AMAZON_BEDROCK_METADATA")

# Data-plane actions Bedrock uses on the index (writes at ingestion, queries at retrieval).
# Service Authorization Reference names for s3vectors (UNVERIFIED list, 2026-12-01).
INDEX_ACTIONS = (
    "s3vectors:GetIndex",
    "s3vectors:PutVectors",
    "s3vectors:GetVectors",
    "s3vectors:DeleteVectors",
    "s3vectors:QueryVectors",
)


class S3VectorsIndex(Construct):
    """A vector bucket holding one float32 index sized for the knowledge base's embeddings.

    The bucket's name is left to CloudFormation (no collision on replacement); the index name
    carries a digest of its create-only shape (dimension, metric, metadata keys), so a change
    creates a new index next to the retained old one and the knowledge base moves to it.
    S3-managed encryption even in production stages: the key policy S3 Vectors needs for a
    customer-managed key is not verified here (docs/decisions.md).
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        kit: str,
        stage: str,
        name: str,
        dimensions: int,
        store: S3VectorsStore,
    ) -> None:
        super().__init__(scope, construct_id)
        shape = (dimensions, store.distance_metric, BEDROCK_NON_FILTERABLE_KEYS)
        self.index_name = resource_name(
            kit, stage, name, max_length=INDEX_NAME_MAX, unique_by=shape
        ).lower()
        self.bucket = s3vectors.CfnVectorBucket(
            self,
            "Bucket",
            encryption_configuration=s3vectors.CfnVectorBucket.EncryptionConfigurationProperty(
                sse_type="AES256"
            ),
        )
        self.index = s3vectors.CfnIndex(
            self,
            "Index",
            vector_bucket_arn=self.bucket.attr_vector_bucket_arn,
            index_name=self.index_name,
            data_type="float32",
            dimension=dimensions,
            distance_metric=store.distance_metric,
            metadata_configuration=s3vectors.CfnIndex.MetadataConfigurationProperty(
                non_filterable_metadata_keys=list(BEDROCK_NON_FILTERABLE_KEYS)
            ),
        )
        key = pascal(name)
        pin(self.bucket, f"{key}VectorBucket")
        pin(self.index, f"{key}VectorIndex")
        self.identity = digest("s3vectors", self.index_name)

    def storage_configuration(self) -> bedrock.CfnKnowledgeBase.StorageConfigurationProperty:
        return bedrock.CfnKnowledgeBase.StorageConfigurationProperty(
            type="S3_VECTORS",
            s3_vectors_configuration=bedrock.CfnKnowledgeBase.S3VectorsConfigurationProperty(
                index_arn=self.index.attr_index_arn
            ),
        )

    def statements(self) -> list[iam.PolicyStatement]:
        return [
            iam.PolicyStatement(
                sid="VectorIndex",
                actions=list(INDEX_ACTIONS),
                resources=[self.index.attr_index_arn],
            )
        ]

    def authorize(self, role: iam.IRole) -> Sequence[Construct]:
        return [self.index]
