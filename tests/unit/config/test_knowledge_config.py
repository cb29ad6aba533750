"""The `knowledge_bases` config: every rule fails with the key path, the value and what is allowed.

Stages are the test-owned knowledge stage (tests/stages) with its knowledge bases replaced; models
are picked from the catalog by what they can do, never by id.
"""

from __future__ import annotations

import copy
from typing import Any

import pytest
from pydantic import BaseModel

from stacks.catalog import load_catalog
from stacks.config import ConfigError, knowledge, load_stage_config
from stacks.config.knowledge import KB_NAME, MAX_KNOWLEDGE_BASES, MAX_PREFIX, MAX_TOKENS
from tests.stages import active, knowledge_stage, options, test_stages
from tests.support.readme import undocumented_keys
from tests.support.synth import CDK_CONTEXT

CATALOG = load_catalog()
NAME = "qa"
KEY = f"stages.{NAME}.knowledge_bases"
BASE = knowledge_stage(CATALOG)
REGION = BASE["region"]
EMBEDDING = next(m["id"] for m in BASE["models"] if CATALOG.models[m["id"]].kind == "embedding")
READERS = [m for m in BASE["models"] if CATALOG.models[m["id"]].kind == "chat"]


def stage(*kbs: dict[str, Any], **changes: Any) -> dict[str, Any]:
    """The knowledge stage with ``kbs`` as its knowledge bases."""
    out = copy.deepcopy(BASE)
    out["knowledge_bases"] = list(kbs)
    out.update(changes)
    return out


def kb(name: str = "docs", **keys: Any) -> dict[str, Any]:
    """A minimal valid knowledge base on the stage's embedding model, with ``keys`` set."""
    return {"name": name, "embedding": {"model": EMBEDDING}, **keys}


def problems(config: dict[str, Any]) -> str:
    with pytest.raises(ConfigError) as info:
        load_stage_config({"stages": {NAME: config}, "stage": NAME}, {}, CATALOG)
    return str(info.value)


def loads(config: dict[str, Any]) -> Any:
    return load_stage_config({"stages": {NAME: config}, "stage": NAME}, {}, CATALOG)


# --- every stage the kit ships or tests validates --------------------------------------------


@pytest.mark.parametrize("name", sorted(test_stages(CATALOG)))
def test_every_test_stage_validates(name: str) -> None:
    # Given a test-owned stage / When it loads / Then it is valid
    config = test_stages(CATALOG)[name]
    assert loads(config).name == NAME


@pytest.mark.parametrize("name", sorted(CDK_CONTEXT["stages"]))
def test_every_shipped_stage_validates(name: str) -> None:
    # Given a stage of cdk.json, whatever a fork put in it / When it loads / Then it is valid
    context = {"stages": CDK_CONTEXT["stages"], "stage": name}
    assert load_stage_config(context, {}, CATALOG).name == name


def test_a_valid_knowledge_base_takes_the_documented_defaults() -> None:
    # Given a knowledge base with only a name and an embedding model
    loaded = loads(stage(kb())).knowledge_bases[0]
    # Then it gets S3 Vectors, fixed chunking and its own folder of the kit's bucket
    assert loaded.vector_store.type == "s3vectors"
    assert loaded.chunking.strategy == "fixed"
    assert loaded.prefix() == "docs/" and loaded.parsing is None


# --- names, descriptions, count ---------------------------------------------------------------


@pytest.mark.parametrize("bad", ["Docs", "1docs", "doc--s", "docs-", "doc_s"])
def test_a_name_outside_the_pattern_names_the_pattern(bad: str) -> None:
    msg = problems(stage(kb(bad)))
    assert f"{KEY}[0].name: {bad!r} is not allowed: must match {KB_NAME}" in msg


def test_a_name_too_long_says_the_limit() -> None:
    msg = problems(stage(kb("a" * 21)))
    assert f"{KEY}[0].name: {'a' * 21!r} is not allowed" in msg and "at most 20 characters" in msg


def test_a_name_used_twice_is_named_at_its_second_use() -> None:
    msg = problems(stage(kb("docs"), kb("docs", data_source={"prefix": "other/"})))
    assert f"{KEY}[1].name: 'docs' is used twice; names are unique in a stage" in msg


@pytest.mark.parametrize(
    ("bad", "bound"), [("", "at least 1 characters"), ("x" * 201, "at most 200")]
)
def test_a_description_outside_its_length_says_the_bounds(bad: str, bound: str) -> None:
    msg = problems(stage(kb(description=bad)))
    assert f"{KEY}[0].description:" in msg and "is not allowed" in msg and bound in msg


def test_more_knowledge_bases_than_allowed_says_the_maximum() -> None:
    many = [kb(f"kb{i}") for i in range(MAX_KNOWLEDGE_BASES + 1)]
    msg = problems(stage(*many))
    assert f"{KEY}: " in msg and f"at most {MAX_KNOWLEDGE_BASES} entries" in msg


# --- embedding --------------------------------------------------------------------------------


def test_an_unknown_embedding_model_lists_the_catalogs_embedding_models() -> None:
    msg = problems(stage(kb(embedding={"model": "acme.embed-x"})))
    assert f"{KEY}[0].embedding.model: 'acme.embed-x' is not an embedding model" in msg
    assert ", ".join(CATALOG.ids("embedding")) in msg


def test_a_chat_model_is_not_an_embedding_model() -> None:
    chat = READERS[0]["id"]
    msg = problems(stage(kb(embedding={"model": chat})))
    assert f"{KEY}[0].embedding.model: {chat!r} is not an embedding model" in msg


def test_an_embedding_model_not_enabled_says_what_to_add() -> None:
    # Given a stage whose models do not include the embedding model
    config = stage(kb())
    config["models"] = [m for m in config["models"] if m["id"] != EMBEDDING]
    msg = problems(config)
    assert f"{KEY}[0].embedding.model: {EMBEDDING!r} is not enabled in this stage" in msg
    assert f'add {{"id": "{EMBEDDING}"}}' in msg


def test_an_embedding_model_enabled_through_a_profile_must_be_in_region() -> None:
    # Given the embedding model enabled through a profile (whether or not one exists)
    config = stage(kb())
    for ref in config["models"]:
        if ref["id"] == EMBEDDING:
            ref["profile"] = "us"
    msg = problems(config)
    assert f"{KEY}[0].embedding.model: {EMBEDDING!r} is enabled through the 'us' profile" in msg
    assert "enable it with no profile" in msg


def test_dimensions_the_model_does_not_offer_list_the_allowed_ones() -> None:
    dims = CATALOG.models[EMBEDDING].embedding_dimensions
    bad = max(dims) + 1
    msg = problems(stage(kb(embedding={"model": EMBEDDING, "dimensions": bad})))
    assert f"{KEY}[0].embedding.dimensions: {bad} is not allowed for {EMBEDDING!r}" in msg
    assert f"allowed: {', '.join(str(d) for d in dims)}" in msg


def test_zero_dimensions_fail_the_schema_bound() -> None:
    msg = problems(stage(kb(embedding={"model": EMBEDDING, "dimensions": 0})))
    assert f"{KEY}[0].embedding.dimensions: 0 is not allowed" in msg and "allowed: > 0" in msg


def test_every_dimension_the_catalog_lists_is_accepted() -> None:
    for dims in CATALOG.models[EMBEDDING].embedding_dimensions:
        loaded = loads(stage(kb(embedding={"model": EMBEDDING, "dimensions": dims})))
        assert loaded.knowledge_bases[0].embedding.dimensions == dims


# --- chunking ---------------------------------------------------------------------------------

RANGES = [
    ("fixed", "max_tokens", 0, f"allowed: >= 1, <= {MAX_TOKENS}"),
    ("fixed", "max_tokens", MAX_TOKENS + 1, f"allowed: >= 1, <= {MAX_TOKENS}"),
    ("fixed", "overlap_percent", 0, "allowed: >= 1, <= 99"),
    ("fixed", "overlap_percent", 100, "allowed: >= 1, <= 99"),
    ("hierarchical", "parent_max_tokens", 0, f"allowed: >= 1, <= {MAX_TOKENS}"),
    ("hierarchical", "parent_max_tokens", MAX_TOKENS + 1, f"allowed: >= 1, <= {MAX_TOKENS}"),
    ("hierarchical", "child_max_tokens", 0, f"allowed: >= 1, <= {MAX_TOKENS}"),
    ("hierarchical", "child_max_tokens", MAX_TOKENS + 1, f"allowed: >= 1, <= {MAX_TOKENS}"),
    ("hierarchical", "overlap_tokens", 0, f"allowed: >= 1, <= {MAX_TOKENS}"),
    ("semantic", "max_tokens", 0, f"allowed: >= 1, <= {MAX_TOKENS}"),
    ("semantic", "max_tokens", MAX_TOKENS + 1, f"allowed: >= 1, <= {MAX_TOKENS}"),
    ("semantic", "buffer_size", -1, "allowed: >= 0, <= 1"),
    ("semantic", "buffer_size", 2, "allowed: >= 0, <= 1"),
    ("semantic", "breakpoint_percentile_threshold", 49, "allowed: >= 50, <= 99"),
    ("semantic", "breakpoint_percentile_threshold", 100, "allowed: >= 50, <= 99"),
]


@pytest.mark.parametrize(("strategy", "field", "bad", "allowed"), RANGES)
def test_a_chunking_value_out_of_range_names_key_value_and_range(
    strategy: str, field: str, bad: int, allowed: str
) -> None:
    msg = problems(stage(kb(chunking={"strategy": strategy, field: bad})))
    # The key path is the config's: no union tag pydantic inserts (chunking.fixed.max_tokens).
    assert f"{KEY}[0].chunking.{field}: {bad} is not allowed" in msg and allowed in msg
    assert f".{strategy}." not in msg


def test_a_hierarchical_child_as_large_as_its_parent_is_refused() -> None:
    chunking = {"strategy": "hierarchical", "parent_max_tokens": 400, "child_max_tokens": 400}
    msg = problems(stage(kb(chunking=chunking)))
    assert (
        f"{KEY}[0].chunking.child_max_tokens: 400 is not allowed: "
        "must be below parent_max_tokens (400)" in msg
    )


def test_a_hierarchical_overlap_as_long_as_a_child_is_refused() -> None:
    chunking = {"strategy": "hierarchical", "child_max_tokens": 100, "overlap_tokens": 100}
    msg = problems(stage(kb(chunking=chunking)))
    assert (
        f"{KEY}[0].chunking.overlap_tokens: 100 is not allowed: "
        "must be below child_max_tokens (100)" in msg
    )


def test_both_hierarchical_problems_are_reported_at_once() -> None:
    chunking = {
        "strategy": "hierarchical",
        "parent_max_tokens": 100,
        "child_max_tokens": 200,
        "overlap_tokens": 300,
    }
    msg = problems(stage(kb(chunking=chunking)))
    assert "chunking.child_max_tokens: 200" in msg and "chunking.overlap_tokens: 300" in msg


def test_an_unknown_strategy_lists_the_strategies() -> None:
    msg = problems(stage(kb(chunking={"strategy": "sliding"})))
    assert f"{KEY}[0].chunking.strategy: 'sliding' is not allowed; allowed:" in msg
    for strategy in ("fixed", "hierarchical", "semantic", "none"):
        assert repr(strategy) in msg


def test_a_missing_strategy_lists_the_strategies() -> None:
    msg = problems(stage(kb(chunking={"max_tokens": 200})))
    assert f"{KEY}[0].chunking.strategy: required key is missing; allowed:" in msg
    assert "'fixed'" in msg and "'none'" in msg


def test_a_key_of_another_strategy_is_an_unknown_key_listing_this_ones() -> None:
    msg = problems(stage(kb(chunking={"strategy": "fixed", "buffer_size": 1})))
    assert f"{KEY}[0].chunking.buffer_size: unknown key; allowed keys here:" in msg
    assert "max_tokens, overlap_percent, strategy" in msg


def _small_input_embedding() -> str | None:
    """An embedding model reachable in-region whose input is shorter than the chunk maximum."""
    for spec in sorted(CATALOG.models.values(), key=lambda s: s.id):
        limit = spec.max_input_tokens
        if (
            spec.kind == "embedding"
            and active(spec)
            and limit is not None
            and limit < MAX_TOKENS
            and None in options(spec, REGION)
        ):
            return spec.id
    return None


@pytest.mark.parametrize(
    ("chunking", "field"),
    [
        ({"strategy": "fixed"}, "max_tokens"),
        ({"strategy": "semantic"}, "max_tokens"),
        ({"strategy": "hierarchical", "parent_max_tokens": MAX_TOKENS}, "child_max_tokens"),
    ],
)
def test_chunks_longer_than_the_embedding_models_input_are_refused(
    chunking: dict[str, Any], field: str
) -> None:
    # Given an embedding model that reads fewer tokens than a chunk may hold
    model = _small_input_embedding()
    if model is None:
        pytest.skip("no catalog embedding model with a short input in the test region")
    limit = CATALOG.models[model].max_input_tokens
    assert limit is not None
    config = stage(kb(embedding={"model": model}, chunking={**chunking, field: limit + 1}))
    config["models"].append({"id": model})
    # When the stage loads / Then the chunk size is named with the model's limit
    msg = problems(config)
    assert f"{KEY}[0].chunking.{field}: {limit + 1} is not allowed with {model!r}" in msg
    assert f"at most {limit}" in msg
    # And a chunk of exactly the limit is accepted
    config["knowledge_bases"][0]["chunking"][field] = limit
    assert loads(config).knowledge_bases[0].embedding.model == model


# --- parsing ----------------------------------------------------------------------------------


def test_a_parser_not_enabled_says_what_to_add() -> None:
    reader = READERS[0]["id"]
    config = stage(kb(parsing={"model": reader}))
    config["models"] = [m for m in config["models"] if m["id"] != reader]
    config["tiers"] = {tier: READERS[-1]["id"] for tier in ("fast", "balanced", "deep")}
    msg = problems(config)
    assert f"{KEY}[0].parsing.model: {reader!r} is not enabled in this stage" in msg
    assert f'add {{"id": "{reader}"}}' in msg


@pytest.mark.parametrize("kind", ["embedding", "text-only chat", "unknown"])
def test_a_parser_that_cannot_read_images_lists_the_models_that_can(kind: str) -> None:
    if kind == "embedding":
        model = EMBEDDING
    elif kind == "unknown":
        model = "acme.parser"
    else:
        text_only = [
            s.id
            for s in CATALOG.models.values()
            if s.kind == "chat" and "image" not in s.input_modalities
        ]
        if not text_only:
            pytest.skip("every catalog chat model reads images")
        model = sorted(text_only)[0]
    msg = problems(stage(kb(parsing={"model": model})))
    assert f"{KEY}[0].parsing.model: {model!r} cannot parse documents" in msg
    assert "allowed: " in msg and READERS[0]["id"] in msg


def test_a_parser_reached_through_a_profile_is_accepted() -> None:
    # Bedrock accepts an inference profile as the parsing model (knowledge-base-supported.html).
    profiled = [m for m in READERS if m["profile"] is not None]
    if not profiled:
        pytest.skip("the knowledge stage reaches every reader in-region")
    loaded = loads(stage(kb(parsing={"model": profiled[0]["id"]})))
    assert loaded.knowledge_bases[0].parsing.model == profiled[0]["id"]


@pytest.mark.parametrize(("bad", "bound"), [("", "at least 1"), ("x" * 10001, "at most 10000")])
def test_a_parsing_prompt_outside_its_length_says_the_bounds(bad: str, bound: str) -> None:
    msg = problems(stage(kb(parsing={"model": READERS[0]["id"], "prompt": bad})))
    assert f"{KEY}[0].parsing.prompt:" in msg and "is not allowed" in msg and bound in msg


# --- vector stores ----------------------------------------------------------------------------


def test_an_unknown_store_type_lists_the_types() -> None:
    msg = problems(stage(kb(vector_store={"type": "pinecone"})))
    assert f"{KEY}[0].vector_store.type: 'pinecone' is not allowed; allowed:" in msg
    for store in ("s3vectors", "opensearch-serverless", "aurora-pgvector"):
        assert repr(store) in msg


def test_a_key_of_another_store_is_an_unknown_key_listing_this_ones() -> None:
    msg = problems(stage(kb(vector_store={"type": "s3vectors", "standby_replicas": True})))
    assert f"{KEY}[0].vector_store.standby_replicas: unknown key; allowed keys here:" in msg
    assert "distance_metric, type" in msg


def test_an_unknown_distance_metric_lists_the_metrics() -> None:
    msg = problems(stage(kb(vector_store={"type": "s3vectors", "distance_metric": "dot"})))
    assert f"{KEY}[0].vector_store.distance_metric: 'dot' is not allowed" in msg
    assert "'cosine'" in msg and "'euclidean'" in msg


def aurora(**keys: Any) -> dict[str, Any]:
    return kb(vector_store={"type": "aurora-pgvector", **keys})


@pytest.mark.parametrize(
    ("field", "bad", "allowed"),
    [
        ("min_capacity", -0.5, "allowed: >= 0, <= 256"),
        ("min_capacity", 256.5, "allowed: >= 0, <= 256"),
        ("max_capacity", 0.5, "allowed: >= 1, <= 256"),
        ("max_capacity", 256.5, "allowed: >= 1, <= 256"),
        ("auto_pause_seconds", 299, "allowed: >= 300, <= 86400"),
        ("auto_pause_seconds", 86401, "allowed: >= 300, <= 86400"),
    ],
)
def test_an_aurora_bound_names_key_value_and_range(field: str, bad: float, allowed: str) -> None:
    msg = problems(stage(aurora(**{field: bad})))
    assert f"{KEY}[0].vector_store.{field}: {bad!r} is not allowed" in msg and allowed in msg
    assert "aurora-pgvector." not in msg  # the union tag is not a key of the config


@pytest.mark.parametrize("field", ["min_capacity", "max_capacity"])
def test_aurora_capacity_off_the_half_acu_step_is_refused(field: str) -> None:
    msg = problems(stage(aurora(**{field: 1.25})))
    assert f"{KEY}[0].vector_store.{field}: 1.25 is not allowed: must be a multiple of 0.5" in msg


def test_aurora_min_above_max_is_refused() -> None:
    msg = problems(stage(aurora(min_capacity=4, max_capacity=2)))
    assert (
        f"{KEY}[0].vector_store.min_capacity: 4 is not allowed: must be at most max_capacity (2)"
        in msg
    )


def test_auto_pause_with_a_nonzero_minimum_is_an_error_not_a_silent_no_op() -> None:
    msg = problems(stage(aurora(min_capacity=0.5, auto_pause_seconds=600)))
    assert (
        f"{KEY}[0].vector_store.auto_pause_seconds: 600 is not allowed with min_capacity 0.5" in msg
    )
    assert "set min_capacity to 0 or remove auto_pause_seconds" in msg


def test_a_nonzero_minimum_without_auto_pause_is_fine() -> None:
    store = loads(stage(aurora(min_capacity=0.5))).knowledge_bases[0].vector_store
    assert store.min_capacity == 0.5


def test_a_boolean_is_not_a_capacity() -> None:
    msg = problems(stage(aurora(max_capacity=True)))
    assert f"{KEY}[0].vector_store.max_capacity: true is not allowed" in msg


def test_opensearch_standby_must_be_a_boolean_or_null() -> None:
    msg = problems(
        stage(kb(vector_store={"type": "opensearch-serverless", "standby_replicas": "on"}))
    )
    assert f"{KEY}[0].vector_store.standby_replicas: 'on' is not allowed" in msg


# --- data source ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "bad", ["arn:aws:s3:::Bad_Bucket", "arn:aws:s3:::docs/folder", "s3://docs", "arn:aws:s3:::a"]
)
def test_a_bucket_arn_outside_the_pattern_names_the_pattern(bad: str) -> None:
    msg = problems(stage(kb(data_source={"bucket_arn": bad, "prefix": "docs/"})))
    assert f"{KEY}[0].data_source.bucket_arn: {bad!r} is not allowed: must match" in msg


def test_an_existing_bucket_needs_a_prefix() -> None:
    msg = problems(stage(kb(data_source={"bucket_arn": "arn:aws:s3:::team-docs"})))
    assert f"{KEY}[0].data_source.prefix: required key is missing with bucket_arn" in msg
    assert '"docs/"' in msg


@pytest.mark.parametrize("bad", ["/docs/", "docs", ""])
def test_a_prefix_outside_the_pattern_is_refused(bad: str) -> None:
    msg = problems(stage(kb(data_source={"prefix": bad})))
    assert f"{KEY}[0].data_source.prefix: {bad!r} is not allowed" in msg


@pytest.mark.parametrize("bad", ["/docs/", "docs"])
def test_a_prefix_outside_the_pattern_is_explained_in_words(bad: str) -> None:
    msg = problems(stage(kb(data_source={"prefix": bad})))
    assert (
        f"{KEY}[0].data_source.prefix: {bad!r} is not allowed: expected a folder such as "
        '"docs/": must not start with "/" and must end with "/"'
    ) in msg
    assert "^[^/]" not in msg


def test_a_prefix_longer_than_bedrock_accepts_says_the_limit() -> None:
    bad = "a" * MAX_PREFIX + "/"
    msg = problems(stage(kb(data_source={"prefix": bad})))
    assert f"{KEY}[0].data_source.prefix:" in msg and f"at most {MAX_PREFIX} characters" in msg


@pytest.mark.parametrize(
    ("first", "second"),
    [
        ({"prefix": "docs/"}, {"prefix": "docs/faq/"}),
        ({}, {"prefix": "docs/sub/"}),  # the first one's default folder is docs/
        ({"prefix": "shared/"}, {"prefix": "shared/"}),
    ],
)
def test_overlapping_folders_in_the_kits_bucket_are_refused(
    first: dict[str, str], second: dict[str, str]
) -> None:
    msg = problems(stage(kb("docs", data_source=first), kb("faq", data_source=second)))
    assert f"{KEY}[1].data_source.prefix:" in msg and f"of {KEY}[0] in the kit's data bucket" in msg


def test_the_same_prefix_in_an_existing_bucket_does_not_overlap_the_kits() -> None:
    other = {"bucket_arn": "arn:aws:s3:::team-docs", "prefix": "docs/"}
    loaded = loads(stage(kb("docs"), kb("team", data_source=other)))
    assert [k.prefix() for k in loaded.knowledge_bases] == ["docs/", "docs/"]


# --- tenant key and retrieval -----------------------------------------------------------------


@pytest.mark.parametrize("bad", ["tenant id", "-tenant", "t" * 101, "tenant/id"])
def test_a_tenant_key_outside_the_pattern_names_the_pattern(bad: str) -> None:
    msg = problems(stage(kb(tenant_key=bad)))
    assert f"{KEY}[0].tenant_key: " in msg and "is not allowed: must match" in msg


@pytest.mark.parametrize("bad", ["x-amz-bedrock-kb-source-uri", "X-AMZ-BEDROCK-KB-tenant"])
def test_a_tenant_key_in_bedrocks_reserved_prefix_is_refused(bad: str) -> None:
    msg = problems(stage(kb(tenant_key=bad)))
    assert f"{KEY}[0].tenant_key: {bad!r} is not allowed" in msg
    assert "'x-amz-bedrock-kb' are written by Bedrock" in msg


def test_a_default_result_count_above_the_maximum_is_refused() -> None:
    msg = problems(stage(kb(retrieval={"default_results": 30, "max_results": 20})))
    assert (
        f"{KEY}[0].retrieval.default_results: 30 is not allowed: "
        "must be at most retrieval.max_results (20)" in msg
    )


@pytest.mark.parametrize(
    ("field", "bad"),
    [("default_results", 0), ("default_results", 101), ("max_results", 0), ("max_results", 101)],
)
def test_result_counts_outside_bedrocks_range_say_the_range(field: str, bad: int) -> None:
    msg = problems(stage(kb(retrieval={field: bad})))
    assert (
        f"{KEY}[0].retrieval.{field}: {bad} is not allowed" in msg
        and "allowed: >= 1, <= 100" in msg
    )


def test_unknown_keys_of_a_knowledge_base_list_the_allowed_ones() -> None:
    msg = problems(stage(kb(vectorstore={"type": "s3vectors"})))
    assert f"{KEY}[0].vectorstore: unknown key; allowed keys here:" in msg and "vector_store" in msg


def test_every_problem_is_reported_at_once() -> None:
    config = stage(
        kb(
            "docs",
            tenant_key="x-amz-bedrock-kb-t",
            retrieval={"default_results": 9, "max_results": 3},
        ),
        kb("docs", data_source={"prefix": "docs/"}),
    )
    msg = problems(config)
    assert "[0].tenant_key" in msg and "[0].retrieval.default_results" in msg
    assert "[1].name" in msg and "[1].data_source.prefix" in msg


# --- production -------------------------------------------------------------------------------


def test_production_must_be_a_boolean() -> None:
    msg = problems(stage(kb(), production="yes"))
    assert f"stages.{NAME}.production: 'yes' is not allowed" in msg


# --- the README documents every key -----------------------------------------------------------


def test_the_readme_reference_names_every_knowledge_base_key() -> None:
    blocks: list[type[BaseModel]] = [
        knowledge.KnowledgeBaseConfig,
        knowledge.DataSource,
        knowledge.Embedding,
        knowledge.FixedChunking,
        knowledge.HierarchicalChunking,
        knowledge.SemanticChunking,
        knowledge.Parsing,
        knowledge.S3VectorsStore,
        knowledge.OpenSearchServerlessStore,
        knowledge.AuroraPgvectorStore,
        knowledge.Retrieval,
    ]
    missing = undocumented_keys(blocks)
    assert not missing, f"README's configuration reference lacks: {missing}"


def opensearch(**keys: Any) -> dict[str, Any]:
    return kb(vector_store={"type": "opensearch-serverless", **keys})


@pytest.mark.parametrize("kind", ["search", "indexing"])
def test_opensearch_group_minimum_above_its_maximum_is_refused(kind: str) -> None:
    limits = {f"min_{kind}_ocu": 6, f"max_{kind}_ocu": 4}
    msg = problems(stage(opensearch(capacity=limits)))
    assert (
        f"{KEY}[0].vector_store.capacity.min_{kind}_ocu: 6 is not allowed: must be at most "
        f"max_{kind}_ocu (4)"
    ) in msg


@pytest.mark.parametrize(
    ("field", "bad", "allowed"),
    [("max_search_ocu", 0.5, ">= 1"), ("min_indexing_ocu", -1, ">= 0"), ("max", 2, "allowed keys")],
)
def test_an_opensearch_capacity_bound_names_key_value_and_range(
    field: str, bad: float, allowed: str
) -> None:
    msg = problems(stage(opensearch(capacity={field: bad})))
    assert f"{KEY}[0].vector_store.capacity.{field}" in msg and allowed in msg
