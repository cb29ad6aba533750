"""Knowledge stack: the stateful half of the stage's knowledge bases.

Documents, vector stores and the knowledge bases themselves: everything here is retained with
pinned logical ids, so it lives in a stack of its own that handlers and pipelines never touch.
"""

from __future__ import annotations

from typing import Any

from aws_cdk import Arn, ArnFormat, Fn, Stack
from aws_cdk import aws_lambda as lambda_
from constructs import Construct

from stacks.config import StagePlan
from stacks.config.knowledge import (
    AuroraPgvectorStore,
    KnowledgeBaseConfig,
    OpenSearchServerlessStore,
)
from stacks.core.keys import KitKey, key_logical_id, stack_key
from stacks.core.naming import digest
from stacks.core.references import KnowledgeHandles, NetworkHandles
from stacks.core.tags import cost_tags
from stacks.knowledge.aurora import AuroraNetwork, AuroraPgvector
from stacks.knowledge.common import VectorStore, check_unique_ids, pascal
from stacks.knowledge.data_bucket import DataBucket
from stacks.knowledge.knowledge_base import (
    DocumentSource,
    KnowledgeBase,
    embedding_dimensions,
)
from stacks.knowledge.opensearch import OpenSearchCollection
from stacks.knowledge.s3vectors import S3VectorsIndex

KEY_ID = "KnowledgeKey"


class KnowledgeStack(Stack):
    """The stage's data bucket, vector stores and knowledge bases.

    ``network`` (a private stage's) places the pgvector functions in the VPC, keeps the data
    bucket's objects to the S3 gateway endpoint and closes the collections to the public.

    Attributes
    ----------
    handles:
        Every knowledge base by config name, with the revision consumers carry.
    """

    @property
    def availability_zones(self) -> list[str]:
        """Two zones resolved by CloudFormation at deploy (``Fn::GetAZs``), never looked up.

        The base property turns into a context lookup (an AWS call at synth) once the stage
        pins an account; synth must stay offline, and the database network needs only two.
        """
        return [Fn.select(i, Fn.get_azs()) for i in range(2)]

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        plan: StagePlan,
        code: lambda_.Code,
        network: NetworkHandles | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(scope, construct_id, **kwargs)
        check_unique_ids(plan)
        self._plan, self._code, self._network = plan, code, network
        self._tags = cost_tags(plan.config)
        self.key = self._build_key()
        self.data_bucket = self._build_data_bucket()
        self.network = self._build_network()
        self.bases: dict[str, KnowledgeBase] = {}
        for kb in plan.knowledge_bases:
            self.bases[kb.name] = KnowledgeBase(
                self,
                pascal(kb.name),
                plan=plan,
                config=kb,
                source=self._document_source(kb),
                store=self._build_store(kb),
                key=self.key,
            )
        if network is not None and self.data_bucket is not None:
            self.data_bucket.deny_outside_network(
                endpoint_id=network.endpoint_ids["s3"],
                exempt_role_arns=[kb.role.role_arn for kb in self.bases.values()],
            )

    @property
    def handles(self) -> KnowledgeHandles:
        """What other capabilities need of the knowledge bases."""
        bases = {name: kb.handle for name, kb in self.bases.items()}
        return KnowledgeHandles(
            bases=bases, revision=digest(*(f"{n}={h.revision}" for n, h in sorted(bases.items())))
        )

    # -- shared pieces -------------------------------------------------------------------------

    def _build_key(self) -> KitKey | None:
        """The stack's customer-managed key (``encryption``): documents, stores, secrets,
        transient ingestion data and logs. Its logical id stays ``KnowledgeKey``."""
        key = stack_key(self, self._plan)
        assert key is None or key_logical_id(self) == KEY_ID
        return key

    def _build_data_bucket(self) -> DataBucket | None:
        """Only when some knowledge base keeps its documents in the kit's bucket."""
        if all(kb.data_source.bucket_arn for kb in self._plan.knowledge_bases):
            return None
        return DataBucket(self, "Data", key=self.key)

    def _build_network(self) -> AuroraNetwork | None:
        """Only when some knowledge base stores its vectors in Aurora."""
        if not any(
            isinstance(kb.vector_store, AuroraPgvectorStore) for kb in self._plan.knowledge_bases
        ):
            return None
        return AuroraNetwork(self, "Network", plan=self._plan)

    def _document_source(self, kb: KnowledgeBaseConfig) -> DocumentSource:
        if kb.data_source.bucket_arn is None:
            assert self.data_bucket is not None
            return DocumentSource(
                bucket_name=self.data_bucket.bucket_name,
                bucket_arn=self.data_bucket.bucket_arn,
                prefix=kb.prefix(),
                key=self.key,
                identity="kit",
            )
        # Referenced by ARN only: no lookup at synth, and the kit never changes the bucket.
        arn = kb.data_source.bucket_arn
        name = Arn.split(arn, ArnFormat.NO_RESOURCE_NAME).resource
        return DocumentSource(
            bucket_name=name, bucket_arn=arn, prefix=kb.prefix(), key=None, identity=arn
        )

    def _build_store(self, kb: KnowledgeBaseConfig) -> VectorStore:
        plan, store = self._plan, kb.vector_store
        dims = embedding_dimensions(plan, kb)
        scope_id = f"{pascal(kb.name)}Store"
        if isinstance(store, OpenSearchServerlessStore):
            return OpenSearchCollection(
                self,
                scope_id,
                kit=plan.kit_name,
                stage=plan.name,
                name=kb.name,
                dimensions=dims,
                store=store,
                production=plan.production,
                key=self.key,
                tag_keys=sorted(self._tags),
                private=self._network is not None,
            )
        if isinstance(store, AuroraPgvectorStore):
            assert self.network is not None
            return AuroraPgvector(
                self,
                scope_id,
                plan=plan,
                code=self._code,
                name=kb.name,
                dimensions=dims,
                embedding_model=kb.embedding.model,
                store=store,
                network=self.network,
                key=self.key,
                placement=self._network.placement if self._network else None,
                upstream=self._network.revision if self._network else None,
            )
        return S3VectorsIndex(
            self,
            scope_id,
            kit=plan.kit_name,
            stage=plan.name,
            name=kb.name,
            dimensions=dims,
            store=store,
            key=self.key,
        )
