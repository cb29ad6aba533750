"""One knowledge base: its service role, the ``AWS::Bedrock::KnowledgeBase`` and its S3 data
source."""

from __future__ import annotations

from dataclasses import dataclass

from aws_cdk import Aws, CfnDeletionPolicy
from aws_cdk import aws_bedrock as bedrock
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from constructs import Construct

from stacks.config import ModelPlan, StagePlan
from stacks.config.knowledge import (
    FixedChunking,
    HierarchicalChunking,
    KnowledgeBaseConfig,
    SemanticChunking,
)
from stacks.core.bedrock_iam import foundation_model_arn, model_resource_arns, system_profile_arn
from stacks.core.nag import acknowledge
from stacks.core.naming import digest, resource_name
from stacks.core.references import KnowledgeBaseHandle
from stacks.core.settings import bounded
from stacks.knowledge.common import VectorStore, pascal, pin
from stacks.knowledge.data_bucket import DATA_BUCKET_ID

# Name: ^([0-9a-zA-Z][_-]?){1,100}$ for both resources (cfn-lint's registry copy of the
# AWS::Bedrock::KnowledgeBase / DataSource schemas, 2026-10-20; checked 2026-12-01).
NAME_MAX = 100
# Longest values of the handle's tokens, for the 4 KB environment guard: ids are
# [0-9a-zA-Z]{10} and bucket names at most 63 (botocore bedrock-agent Id / BucketArn, 2026-12-01).
_ARN_HEAD = len("arn:aws-us-gov:bedrock:") + 20 + 1 + 12 + 1
KNOWLEDGE_BASE_ARN_MAX = _ARN_HEAD + len("knowledge-base/") + 10
ID_MAX = 10
BUCKET_NAME_MAX = 63
BUCKET_ARN_MAX = len("arn:aws-us-gov:s3:::") + BUCKET_NAME_MAX


@dataclass(frozen=True)
class DocumentSource:
    """Where a knowledge base's documents are: bucket (name, ARN), prefix, and the key (if any)
    the bucket encrypts them with."""

    bucket_name: str
    bucket_arn: str
    prefix: str
    key: kms.IKey | None
    identity: str
    """The bucket as config names it (``kit`` for the stage's data bucket, else its ARN)."""


def embedding_dimensions(plan: StagePlan, kb: KnowledgeBaseConfig) -> int:
    """The configured vector size, else the largest the catalog lists for the model."""
    if kb.embedding.dimensions is not None:
        return kb.embedding.dimensions
    return max(plan.catalog.models[kb.embedding.model].embedding_dimensions)


def _model(plan: StagePlan, model_id: str) -> ModelPlan:
    return next(m for m in plan.models if m.id == model_id)


def parser_arn(plan: StagePlan, model: ModelPlan) -> str:
    """The ARN the data source parses with: the model in-region, or its system profile."""
    if model.profile is None:
        return foundation_model_arn(plan.region, model.id)
    return system_profile_arn(plan.region, model.profile, model.id)


class KnowledgeBase(Construct):
    """A vector knowledge base over ``source`` stored in ``store``, and its service role.

    Names carry a digest of the properties CloudFormation cannot change in place (embedding
    model and size, store: the knowledge base; chunking and parsing: the data source), so a
    replacement never collides with what it replaces. A replacement costs a full re-ingestion.

    The role is trusted by Bedrock for this account's knowledge bases only, and may read only
    its own prefix, invoke only its embedding (and parser) model, and reach only its own store.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        plan: StagePlan,
        config: KnowledgeBaseConfig,
        source: DocumentSource,
        store: VectorStore,
        key: kms.IKey | None = None,
    ) -> None:
        super().__init__(scope, construct_id)
        self.config = config
        self.source = source
        self.key = key
        self.dimensions = embedding_dimensions(plan, config)
        kb_id = pascal(config.name)
        self.role = self._build_role(plan, store)
        waits_for = store.authorize(self.role)
        self.knowledge_base = self._build_knowledge_base(plan, store)
        for construct in waits_for:
            self.knowledge_base.node.add_dependency(construct)
        self.knowledge_base.node.add_dependency(self.role)
        self.data_source = self._build_data_source(plan)
        pin(self.knowledge_base, f"{kb_id}KnowledgeBase")
        # A replaced data source is deleted (and with it, DataDeletionPolicy DELETE, its
        # vectors): left behind it would keep serving chunks cut the old way next to the new
        # ones. The documents stay in S3 and re-ingestion rebuilds the vectors.
        pin(self.data_source, f"{kb_id}DataSource", replace_policy=CfnDeletionPolicy.DELETE)
        self.revision = digest(
            config.name,
            self.knowledge_base.name,
            self.data_source.name,
            source.prefix,
            source.identity,
            config.tenant_key,
        )

    # -- role ---------------------------------------------------------------------------------

    def _build_role(self, plan: StagePlan, store: VectorStore) -> iam.Role:
        account = Aws.ACCOUNT_ID
        kb_arns = f"arn:{Aws.PARTITION}:bedrock:{plan.region}:{account}:knowledge-base"
        role = iam.Role(
            self,
            "Role",
            description=f"Bedrock knowledge base {self.config.name} ({plan.name})",
            assumed_by=iam.ServicePrincipal(
                "bedrock.amazonaws.com",
                conditions={
                    "StringEquals": {"aws:SourceAccount": account},
                    # The knowledge base's own id is not known before the role exists.
                    "ArnLike": {"aws:SourceArn": f"{kb_arns}/*"},
                },
            ),
            inline_policies={
                "KnowledgeBase": iam.PolicyDocument(
                    statements=self._model_statements(plan)
                    + self._source_statements(plan)
                    + self._key_statements()
                    + store.statements()
                )
            },
        )
        # cdk-nag names the object-prefix ARN as it renders it: the pinned bucket id, or the ARN.
        shown = (
            f"<{DATA_BUCKET_ID}.Arn>" if self.source.identity == "kit" else self.source.bucket_arn
        )
        acknowledge(
            role,
            f"AwsSolutions-IAM5[Resource::{shown}/{self.source.prefix}*]",
            "Object ARNs under the knowledge base's own prefix: s3:GetObject has no narrower "
            "resource than a key pattern, and the prefix is this knowledge base's folder only.",
        )
        return role

    def _model_statements(self, plan: StagePlan) -> list[iam.PolicyStatement]:
        embedding = _model(plan, self.config.embedding.model)
        arns = [foundation_model_arn(plan.region, embedding.id)]
        if self.config.parsing is not None:
            parser = _model(plan, self.config.parsing.model)
            arns += [
                a for a in model_resource_arns(model=parser, region=plan.region) if a not in arns
            ]
        return [
            iam.PolicyStatement(
                sid="EmbedAndParse" if self.config.parsing else "Embed",
                actions=["bedrock:InvokeModel"],
                resources=arns,
            )
        ]

    def _key_statements(self) -> list[iam.PolicyStatement]:
        """The stack's key: Bedrock encrypts the data source's transient ingestion data with it
        under this role, and the vector store (S3 Vectors) encrypts vectors with it on the
        role's writes and queries. Exactly the two data-key actions, on the one key."""
        if self.key is None:
            return []
        return [
            iam.PolicyStatement(
                sid="StageKeyForIngestionAndVectors",
                actions=["kms:GenerateDataKey", "kms:Decrypt"],
                resources=[self.key.key_arn],
            )
        ]

    def _source_statements(self, plan: StagePlan) -> list[iam.PolicyStatement]:
        src = self.source
        statements = [
            iam.PolicyStatement(
                sid="ListDocuments",
                actions=["s3:ListBucket"],
                resources=[src.bucket_arn],
                conditions={
                    "StringLike": {"s3:prefix": [f"{src.prefix}*"]},
                    # A bucket named by ARN could belong to anyone: only this account's.
                    "StringEquals": {"aws:ResourceAccount": Aws.ACCOUNT_ID},
                },
            ),
            iam.PolicyStatement(
                sid="ReadDocuments",
                actions=["s3:GetObject"],
                resources=[f"{src.bucket_arn}/{src.prefix}*"],
                conditions={"StringEquals": {"aws:ResourceAccount": Aws.ACCOUNT_ID}},
            ),
        ]
        if src.key is not None:
            # Only to read objects the data bucket encrypted with the stage key.
            statements.append(
                iam.PolicyStatement(
                    sid="DecryptDocuments",
                    actions=["kms:Decrypt"],
                    resources=[src.key.key_arn],
                    conditions={
                        "StringEquals": {"kms:ViaService": f"s3.{plan.region}.amazonaws.com"}
                    },
                )
            )
        return statements

    # -- knowledge base and data source --------------------------------------------------------

    def _build_knowledge_base(
        self, plan: StagePlan, store: VectorStore
    ) -> bedrock.CfnKnowledgeBase:
        embedding_arn = foundation_model_arn(plan.region, self.config.embedding.model)
        name = resource_name(
            plan.kit_name,
            plan.name,
            self.config.name,
            max_length=NAME_MAX,
            unique_by=(self.config.embedding.model, self.dimensions, store.identity),
        )
        return bedrock.CfnKnowledgeBase(
            self,
            "KnowledgeBase",
            name=name,
            description=self.config.description
            or f"Knowledge base {self.config.name} ({plan.name})",
            role_arn=self.role.role_arn,
            knowledge_base_configuration=bedrock.CfnKnowledgeBase.KnowledgeBaseConfigurationProperty(
                type="VECTOR",
                vector_knowledge_base_configuration=bedrock.CfnKnowledgeBase.VectorKnowledgeBaseConfigurationProperty(
                    embedding_model_arn=embedding_arn,
                    embedding_model_configuration=bedrock.CfnKnowledgeBase.EmbeddingModelConfigurationProperty(
                        bedrock_embedding_model_configuration=bedrock.CfnKnowledgeBase.BedrockEmbeddingModelConfigurationProperty(
                            dimensions=self.dimensions, embedding_data_type="FLOAT32"
                        )
                    ),
                ),
            ),
            storage_configuration=store.storage_configuration(),
        )

    def _build_data_source(self, plan: StagePlan) -> bedrock.CfnDataSource:
        ingestion = self._ingestion(plan)
        name = resource_name(
            plan.kit_name,
            self.config.name,
            max_length=NAME_MAX,
            unique_by=(
                self.config.chunking.model_dump_json(),
                self.config.parsing.model_dump_json() if self.config.parsing else None,
            ),
        )
        return bedrock.CfnDataSource(
            self,
            "DataSource",
            name=name,
            knowledge_base_id=self.knowledge_base.attr_knowledge_base_id,
            data_deletion_policy="DELETE",
            data_source_configuration=bedrock.CfnDataSource.DataSourceConfigurationProperty(
                type="S3",
                s3_configuration=bedrock.CfnDataSource.S3DataSourceConfigurationProperty(
                    bucket_arn=self.source.bucket_arn,
                    inclusion_prefixes=[self.source.prefix],
                ),
            ),
            vector_ingestion_configuration=ingestion,
            # Transient data during ingestion: the stack's key (updatable in place).
            server_side_encryption_configuration=bedrock.CfnDataSource.ServerSideEncryptionConfigurationProperty(
                kms_key_arn=self.key.key_arn
            )
            if self.key is not None
            else None,
        )

    def _ingestion(
        self, plan: StagePlan
    ) -> bedrock.CfnDataSource.VectorIngestionConfigurationProperty:
        ds = bedrock.CfnDataSource
        c = self.config.chunking
        if isinstance(c, FixedChunking):
            chunking = ds.ChunkingConfigurationProperty(
                chunking_strategy="FIXED_SIZE",
                fixed_size_chunking_configuration=ds.FixedSizeChunkingConfigurationProperty(
                    max_tokens=c.max_tokens, overlap_percentage=c.overlap_percent
                ),
            )
        elif isinstance(c, HierarchicalChunking):
            # First level: parents; second: children (bedrock-agent HierarchicalChunking...).
            chunking = ds.ChunkingConfigurationProperty(
                chunking_strategy="HIERARCHICAL",
                hierarchical_chunking_configuration=ds.HierarchicalChunkingConfigurationProperty(
                    level_configurations=[
                        ds.HierarchicalChunkingLevelConfigurationProperty(
                            max_tokens=c.parent_max_tokens
                        ),
                        ds.HierarchicalChunkingLevelConfigurationProperty(
                            max_tokens=c.child_max_tokens
                        ),
                    ],
                    overlap_tokens=c.overlap_tokens,
                ),
            )
        elif isinstance(c, SemanticChunking):
            chunking = ds.ChunkingConfigurationProperty(
                chunking_strategy="SEMANTIC",
                semantic_chunking_configuration=ds.SemanticChunkingConfigurationProperty(
                    max_tokens=c.max_tokens,
                    buffer_size=c.buffer_size,
                    breakpoint_percentile_threshold=c.breakpoint_percentile_threshold,
                ),
            )
        else:
            chunking = ds.ChunkingConfigurationProperty(chunking_strategy="NONE")
        parsing = None
        if self.config.parsing is not None:
            p = self.config.parsing
            parsing = ds.ParsingConfigurationProperty(
                parsing_strategy="BEDROCK_FOUNDATION_MODEL",
                bedrock_foundation_model_configuration=ds.BedrockFoundationModelConfigurationProperty(
                    model_arn=parser_arn(plan, _model(plan, p.model)),
                    parsing_prompt=ds.ParsingPromptProperty(parsing_prompt_text=p.prompt)
                    if p.prompt
                    else None,
                ),
            )
        return ds.VectorIngestionConfigurationProperty(
            chunking_configuration=chunking, parsing_configuration=parsing
        )

    @property
    def handle(self) -> KnowledgeBaseHandle:
        """What consumers in other stacks need (tokens bounded for the 4 KB guard)."""
        return KnowledgeBaseHandle(
            name=self.config.name,
            id=bounded(self.knowledge_base.attr_knowledge_base_id, ID_MAX),
            arn=bounded(self.knowledge_base.attr_knowledge_base_arn, KNOWLEDGE_BASE_ARN_MAX),
            data_source_id=bounded(self.data_source.attr_data_source_id, ID_MAX),
            bucket_name=bounded(self.source.bucket_name, BUCKET_NAME_MAX),
            bucket_arn=bounded(self.source.bucket_arn, BUCKET_ARN_MAX),
            prefix=self.source.prefix,
            tenant_key=self.config.tenant_key,
            revision=self.revision,
        )
