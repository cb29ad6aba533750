"""Knowledge bases of a stage: data source, embeddings, chunking, parsing, vector store, tenant key.

Ranges are the service's own (botocore ``bedrock-agent`` 2023-06-05 service model, shapes
``FixedSizeChunkingConfiguration``, ``HierarchicalChunkingConfiguration``,
``SemanticChunkingConfiguration``, ``ParsingPrompt``, ``S3DataSourceConfiguration``; checked
2026-12-01), so a value the service would refuse fails synth instead of the deploy.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from stacks.catalog import Catalog
from stacks.config.base import Strict, pattern_in_words, show
from stacks.config.models import ModelRef

# Lowercase, no doubled or trailing hyphen: the name goes into resource names, and Bedrock's own
# Name shape (``([0-9a-zA-Z][_-]?){1,100}``, botocore bedrock-agent, checked 2026-12-01) refuses
# ``--``.
KB_NAME = r"^[a-z](-?[a-z0-9])*$"
KB_NAME_MAX = 20
# S3DataSourceConfiguration.bucketArn (botocore bedrock-agent, checked 2026-12-01).
BUCKET_ARN = r"^arn:aws(|-cn|-us-gov):s3:::[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$"
# A metadata key as written in a document's .metadata.json and matched by a Retrieve filter.
METADATA_KEY = r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,99}$"
# Keys Bedrock writes itself (x-amz-bedrock-kb-source-uri, x-amz-bedrock-kb-chunk-id, ...).
RESERVED_METADATA_PREFIX = "x-amz-bedrock-kb"
MAX_KNOWLEDGE_BASES = 10
MAX_PREFIX = 300  # S3Prefix max length (botocore bedrock-agent, checked 2026-12-01)
MAX_TOKENS = 8192
MAX_RESULTS = 100  # KnowledgeBaseVectorSearchConfiguration.numberOfResults max
# ServerlessV2ScalingConfiguration: half-ACU steps, max capacity above 0.5 ACU, at most 256 ACU
# on recent engine versions (128 on older ones); auto-pause 300-86,400 s (AWS::RDS::DBCluster
# ServerlessV2ScalingConfiguration and aurora-serverless-v2-auto-pause.html, checked 2026-12-01).
MAX_ACU = 256


class DataSource(Strict):
    """Where the documents are: the stage's data bucket (no ``bucket_arn``) or an existing one.

    An existing bucket is named by ARN only: synth makes no lookup, and the bucket's owner must
    send its events to EventBridge for uploads to start ingestion (README, "Knowledge bases").
    """

    bucket_arn: str | None = Field(default=None, pattern=BUCKET_ARN)
    """An existing bucket in the stage's account and region; absent: the kit's data bucket."""
    prefix: str | None = Field(
        default=None,
        min_length=1,
        max_length=MAX_PREFIX,
        pattern=r"^[^/].*/$",
        json_schema_extra=pattern_in_words(
            'a folder such as "docs/": must not start with "/" and must end with "/"'
        ),
    )
    """Documents under this prefix (ending in ``/``). Default in the kit's bucket: ``<name>/``;
    required with ``bucket_arn``."""


class Embedding(Strict):
    """The embedding model (enabled in the stage's ``models``) and its vector size."""

    model: str = Field(min_length=1, max_length=200)
    dimensions: int | None = Field(default=None, gt=0)
    """One of the sizes the catalog lists for the model; default: the largest."""


class FixedChunking(Strict):
    strategy: Literal["fixed"] = "fixed"
    max_tokens: int = Field(default=300, ge=1, le=MAX_TOKENS)
    overlap_percent: int = Field(default=20, ge=1, le=99)


class HierarchicalChunking(Strict):
    strategy: Literal["hierarchical"]
    parent_max_tokens: int = Field(default=1500, ge=1, le=MAX_TOKENS)
    child_max_tokens: int = Field(default=300, ge=1, le=MAX_TOKENS)
    overlap_tokens: int = Field(default=60, ge=1, le=MAX_TOKENS)


class SemanticChunking(Strict):
    strategy: Literal["semantic"]
    max_tokens: int = Field(default=300, ge=1, le=MAX_TOKENS)
    buffer_size: int = Field(default=0, ge=0, le=1)
    breakpoint_percentile_threshold: int = Field(default=95, ge=50, le=99)


class NoChunking(Strict):
    """Each file is one chunk (for documents already split before upload)."""

    strategy: Literal["none"]


Chunking = Annotated[
    FixedChunking | HierarchicalChunking | SemanticChunking | NoChunking,
    Field(discriminator="strategy"),
]


class Parsing(Strict):
    """Parse documents (tables, figures, scans) with a foundation model before chunking."""

    model: str = Field(min_length=1, max_length=200)
    """A chat model enabled in the stage that reads images."""
    prompt: str | None = Field(default=None, min_length=1, max_length=10000)


class S3VectorsStore(Strict):
    """Amazon S3 Vectors: pay per use, nothing at idle (the default)."""

    type: Literal["s3vectors"] = "s3vectors"
    distance_metric: Literal["cosine", "euclidean"] = "cosine"


class OcuLimits(Strict):
    """OCU limits of the collection's own collection group (botocore opensearchserverless
    2021-11-01 ``CollectionGroupCapacityLimits``: minimums >= 0, maximums >= 1; checked
    2026-12-01). Omitted limits are left to the account's settings."""

    min_search_ocu: float | None = Field(default=None, ge=0)
    max_search_ocu: float | None = Field(default=None, ge=1)
    min_indexing_ocu: float | None = Field(default=None, ge=0)
    max_indexing_ocu: float | None = Field(default=None, ge=1)


class OpenSearchServerlessStore(Strict):
    """An OpenSearch Serverless VECTORSEARCH collection: fast hybrid search, a fixed idle cost."""

    type: Literal["opensearch-serverless"]
    standby_replicas: bool | None = None
    """``null``: on in a ``production`` stage, off otherwise (half the idle OCUs)."""
    capacity: OcuLimits | None = None
    """Put the collection in its own collection group with these OCU limits (bounds its
    scale, and so its cost); ``null``: no group, the account-wide limits apply."""


class AuroraPgvectorStore(Strict):
    """Aurora PostgreSQL Serverless v2 with pgvector, scaling to zero when idle."""

    type: Literal["aurora-pgvector"]
    min_capacity: float = Field(default=0, ge=0, le=MAX_ACU)
    """ACUs, in steps of 0.5; 0 lets the cluster pause."""
    max_capacity: float = Field(default=2, ge=1, le=MAX_ACU)
    """ACUs, in steps of 0.5; Aurora requires more than 0.5, hence at least 1."""
    auto_pause_seconds: int = Field(default=300, ge=300, le=86400)
    """Idle seconds before a cluster at 0 ACU pauses; setting it with ``min_capacity`` above 0
    is an error (the cluster never pauses)."""
    rotate_secret: bool | None = None
    """``null``: rotated in a ``production`` stage."""


VectorStore = Annotated[
    S3VectorsStore | OpenSearchServerlessStore | AuroraPgvectorStore,
    Field(discriminator="type"),
]


class Retrieval(Strict):
    """How many chunks a query returns by default and at most."""

    default_results: int = Field(default=5, ge=1, le=MAX_RESULTS)
    max_results: int = Field(default=20, ge=1, le=MAX_RESULTS)


class KnowledgeBaseConfig(Strict):
    """One knowledge base: documents in, a grounded and cited answer endpoint out."""

    name: str = Field(max_length=KB_NAME_MAX, pattern=KB_NAME)
    description: str | None = Field(default=None, min_length=1, max_length=200)
    data_source: DataSource = DataSource()
    embedding: Embedding
    chunking: Chunking = FixedChunking()
    parsing: Parsing | None = None
    vector_store: VectorStore = S3VectorsStore()
    tenant_key: str | None = Field(default=None, pattern=METADATA_KEY)
    """A metadata key every document carries; queries are bound to the caller's value."""
    retrieval: Retrieval = Retrieval()

    def prefix(self) -> str:
        """The data source prefix (the config's, else ``<name>/`` in the kit's bucket)."""
        return self.data_source.prefix or f"{self.name}/"


KnowledgeBases = Annotated[tuple[KnowledgeBaseConfig, ...], Field(max_length=MAX_KNOWLEDGE_BASES)]


def _ocu_problems(key: str, limits: OcuLimits) -> list[str]:
    problems = []
    for kind in ("search", "indexing"):
        low, high = getattr(limits, f"min_{kind}_ocu"), getattr(limits, f"max_{kind}_ocu")
        if low is not None and high is not None and low > high:
            problems.append(
                f"{key}.min_{kind}_ocu: {show(low)} is not allowed: must be at most "
                f"max_{kind}_ocu "
                f"({show(high)})"
            )
    return problems


def knowledge_problems(
    prefix: str,
    knowledge_bases: tuple[KnowledgeBaseConfig, ...],
    *,
    models: tuple[ModelRef, ...],
    catalog: Catalog,
) -> list[str]:
    """Checks across keys and against the catalog for every knowledge base.

    Parameters
    ----------
    prefix:
        Key path of the stage (``stages.<name>``).
    knowledge_bases:
        The stage's knowledge bases (already schema-valid).
    models:
        The stage's enabled models (embedding and parser models must be among them).
    catalog:
        The model catalog (dimensions, input limits, kinds, modalities).

    Returns
    -------
    One message per problem, each naming the key path, the value and what is allowed.
    """
    problems: list[str] = []
    enabled = {ref.id: ref for ref in models}
    names: set[str] = set()
    kit_prefixes: list[tuple[str, str]] = []
    for i, kb in enumerate(knowledge_bases):
        key = f"{prefix}.knowledge_bases[{i}]"
        if kb.name in names:
            problems.append(f"{key}.name: {kb.name!r} is used twice; names are unique in a stage")
        names.add(kb.name)
        problems += _embedding_problems(f"{key}.embedding", kb.embedding, enabled, catalog)
        if kb.parsing is not None:
            problems += _parser_problems(f"{key}.parsing.model", kb.parsing.model, enabled, catalog)
        problems += _chunking_problems(f"{key}.chunking", kb, catalog)
        problems += _store_problems(f"{key}.vector_store", kb)
        if kb.tenant_key is not None and kb.tenant_key.lower().startswith(RESERVED_METADATA_PREFIX):
            problems.append(
                f"{key}.tenant_key: {kb.tenant_key!r} is not allowed: keys starting with "
                f"{RESERVED_METADATA_PREFIX!r} are written by Bedrock; use your own metadata key"
            )
        r = kb.retrieval
        if r.default_results > r.max_results:
            problems.append(
                f"{key}.retrieval.default_results: {r.default_results} is not allowed: must be "
                f"at most retrieval.max_results ({r.max_results})"
            )
        if kb.data_source.bucket_arn is not None:
            if kb.data_source.prefix is None:
                problems.append(
                    f"{key}.data_source.prefix: required key is missing with bucket_arn; name the "
                    'folder of the documents, e.g. "docs/"'
                )
        else:
            kit_prefixes.append((key, kb.prefix()))
    for j, (key, mine) in enumerate(kit_prefixes):
        for other_key, other in kit_prefixes[:j]:
            if mine.startswith(other) or other.startswith(mine):
                problems.append(
                    f"{key}.data_source.prefix: {mine!r} overlaps {other!r} of {other_key} in the "
                    "kit's data bucket; each knowledge base needs its own folder"
                )
    return problems


def _embedding_problems(
    key: str, embedding: Embedding, enabled: dict[str, ModelRef], catalog: Catalog
) -> list[str]:
    spec = catalog.get(embedding.model)
    if spec is None or spec.kind != "embedding":
        return [
            f"{key}.model: {embedding.model!r} is not an embedding model of the catalog; allowed: "
            + ", ".join(catalog.ids("embedding"))
        ]
    if embedding.model not in enabled:
        return [
            f"{key}.model: {embedding.model!r} is not enabled in this stage; add "
            f'{{"id": "{embedding.model}"}} to the stage\'s models'
        ]
    if enabled[embedding.model].profile is not None:
        # Bedrock documents inference profiles for parsing and generation only
        # (knowledge-base-supported.html, checked 2026-12-01): embeddings run in-region.
        return [
            f"{key}.model: {embedding.model!r} is enabled through the "
            f"{enabled[embedding.model].profile!r} profile; knowledge bases embed in the stage's "
            "region: enable it with no profile"
        ]
    dims = spec.embedding_dimensions
    if embedding.dimensions is not None and embedding.dimensions not in dims:
        return [
            f"{key}.dimensions: {show(embedding.dimensions)} is not allowed for "
            f"{embedding.model!r}; allowed: {', '.join(str(d) for d in dims)}"
        ]
    return []


def _parser_problems(
    key: str, model: str, enabled: dict[str, ModelRef], catalog: Catalog
) -> list[str]:
    spec = catalog.get(model)
    readers = sorted(
        m.id for m in catalog.models.values() if m.kind == "chat" and "image" in m.input_modalities
    )
    if spec is None or spec.kind != "chat" or "image" not in spec.input_modalities:
        return [
            f"{key}: {model!r} cannot parse documents (a chat model that reads images is needed); "
            f"allowed: {', '.join(readers)}"
        ]
    if model not in enabled:
        # In-region or through a profile: Bedrock accepts an inference profile for parsing
        # (knowledge-base-supported.html; BedrockFoundationModelConfiguration.modelArn).
        return [
            f'{key}: {model!r} is not enabled in this stage; add {{"id": "{model}"}} (with the '
            "profile the stage reaches it through, if any) to the stage's models"
        ]
    return []


def _embedded_tokens(
    chunking: FixedChunking | HierarchicalChunking | SemanticChunking | NoChunking,
) -> tuple[str, int] | None:
    """The key and size of the chunks the embedding model receives (``None``: whole files)."""
    if isinstance(chunking, HierarchicalChunking):
        return "child_max_tokens", chunking.child_max_tokens  # child chunks are the ones embedded
    if isinstance(chunking, (FixedChunking, SemanticChunking)):
        return "max_tokens", chunking.max_tokens
    return None


def _chunking_problems(key: str, kb: KnowledgeBaseConfig, catalog: Catalog) -> list[str]:
    c = kb.chunking
    problems = []
    if isinstance(c, HierarchicalChunking):
        # Kit rules: Bedrock's model only fixes two levels, the first of larger chunks and the
        # second of smaller ones derived from it (HierarchicalChunkingConfiguration); an overlap
        # as long as a child chunk would repeat whole chunks.
        if c.child_max_tokens >= c.parent_max_tokens:
            problems.append(
                f"{key}.child_max_tokens: {c.child_max_tokens} is not allowed: must be below "
                f"parent_max_tokens ({c.parent_max_tokens})"
            )
        if c.overlap_tokens >= c.child_max_tokens:
            problems.append(
                f"{key}.overlap_tokens: {c.overlap_tokens} is not allowed: must be below "
                f"child_max_tokens ({c.child_max_tokens})"
            )
    embedded = _embedded_tokens(c)
    spec = catalog.get(kb.embedding.model)
    limit = spec.max_input_tokens if spec is not None else None
    if embedded is not None and limit is not None and embedded[1] > limit:
        field, size = embedded
        problems.append(
            f"{key}.{field}: {size} is not allowed with {kb.embedding.model!r}: must be at most "
            f"{limit} (the tokens the embedding model reads per input)"
        )
    return problems


def _store_problems(key: str, kb: KnowledgeBaseConfig) -> list[str]:
    store = kb.vector_store
    if isinstance(store, OpenSearchServerlessStore) and store.capacity is not None:
        return _ocu_problems(f"{key}.capacity", store.capacity)
    if not isinstance(store, AuroraPgvectorStore):
        return []
    problems = []
    for field in ("min_capacity", "max_capacity"):
        value = getattr(store, field)
        if (value * 2) != int(value * 2):
            problems.append(
                f"{key}.{field}: {show(value)} is not allowed: must be a multiple of 0.5 (ACUs "
                "come in steps of 0.5)"
            )
    if store.min_capacity > store.max_capacity:
        problems.append(
            f"{key}.min_capacity: {show(store.min_capacity)} is not allowed: must be at most "
            f"max_capacity ({show(store.max_capacity)})"
        )
    if store.min_capacity > 0 and "auto_pause_seconds" in store.model_fields_set:
        # Aurora pauses only a cluster whose minimum is 0 ACU: the value would do nothing.
        problems.append(
            f"{key}.auto_pause_seconds: {store.auto_pause_seconds} is not allowed with "
            f"min_capacity {show(store.min_capacity)}: only a cluster with min_capacity 0 pauses; "
            "set min_capacity to 0 or remove auto_pause_seconds"
        )
    return problems


__all__ = [
    "AuroraPgvectorStore",
    "DataSource",
    "Embedding",
    "FixedChunking",
    "HierarchicalChunking",
    "KnowledgeBaseConfig",
    "KnowledgeBases",
    "NoChunking",
    "OcuLimits",
    "OpenSearchServerlessStore",
    "Parsing",
    "Retrieval",
    "S3VectorsStore",
    "SemanticChunking",
    "knowledge_problems",
]
