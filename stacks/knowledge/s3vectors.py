"""Amazon S3 Vectors: a vector bucket and one index per knowledge base (pay per use)."""

from __future__ import annotations

from collections.abc import Sequence

from aws_cdk import Aws, Stack
from aws_cdk import aws_bedrock as bedrock
from aws_cdk import aws_iam as iam
from aws_cdk import aws_s3vectors as s3vectors
from constructs import Construct

from stacks.config.knowledge import S3VectorsStore
from stacks.core.keys import KitKey
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


def allow_vector_indexing(key: KitKey) -> None:
    """S3 Vectors indexes in the background under its own principal, which must decrypt with
    the bucket's key: only for this account's vector buckets in the stack's region.

    The statement (principal ``indexing.s3vectors.amazonaws.com``, ``kms:Decrypt``, source ARN,
    source account and the ``aws:s3vectors:*`` encryption-context keys) is the one
    awslabs/generative-ai-cdk-constructs adds, citing
    https://docs.aws.amazon.com/AmazonS3/latest/userguide/s3-vectors-data-encryption.html;
    the AWS page's own text was not retrievable (UNVERIFIED wording, checked 2026-12-01).
    """
    stack = Stack.of(key)
    key.allow_service(
        "S3VectorsIndexingOfThisAccount",
        service="indexing.s3vectors.amazonaws.com",
        actions=["kms:Decrypt"],
        conditions={
            "ArnLike": {
                "aws:SourceArn": f"arn:{Aws.PARTITION}:s3vectors:{stack.region}:"
                f"{Aws.ACCOUNT_ID}:bucket/*"
            },
            "StringEquals": {"aws:SourceAccount": Aws.ACCOUNT_ID},
            "ForAnyValue:StringEquals": {
                "kms:EncryptionContextKeys": ["aws:s3vectors:arn", "aws:s3vectors:resource-id"]
            },
        },
    )


class S3VectorsIndex(Construct):
    """A vector bucket holding one float32 index sized for the knowledge base's embeddings.

    The bucket's name is left to CloudFormation (no collision on replacement); the index name
    carries a digest of its create-only shape (dimension, metric, metadata keys), so a change
    creates a new index next to the retained old one and the knowledge base moves to it.
    Encrypted with the stack's customer-managed key when the stage has them (``encryption``),
    else S3-managed (SSE-S3).
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
        key: KitKey | None = None,
    ) -> None:
        super().__init__(scope, construct_id)
        # Encryption is create-only on a vector bucket and its index: a new key setting is a
        # new bucket, so the index (and the knowledge base) take a new name with it.
        shape: tuple[object, ...] = (dimensions, store.distance_metric, BEDROCK_NON_FILTERABLE_KEYS)
        if key is not None:
            shape += ("aws:kms",)
            allow_vector_indexing(key)
        self.index_name = resource_name(
            kit, stage, name, max_length=INDEX_NAME_MAX, unique_by=shape
        ).lower()
        self.bucket = s3vectors.CfnVectorBucket(
            self,
            "Bucket",
            encryption_configuration=s3vectors.CfnVectorBucket.EncryptionConfigurationProperty(
                sse_type="aws:kms", kms_key_arn=key.key_arn
            )
            if key is not None
            else s3vectors.CfnVectorBucket.EncryptionConfigurationProperty(sse_type="AES256"),
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
        kb_id = pascal(name)
        pin(self.bucket, f"{kb_id}VectorBucket")
        pin(self.index, f"{kb_id}VectorIndex")
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
