"""The model catalog data (stacks/catalog/models.yaml) and the helpers on ModelSpec.

No network: everything here reads the YAML that ships with the kit.
"""

from __future__ import annotations

from datetime import date

import pytest

from stacks.catalog import PROFILE_PREFIXES, Catalog, ModelSpec, Prices, load_catalog

REQUIRED_CHAT_IDS = {
    "anthropic.claude-haiku-4-5-20251001-v1:0",
    "anthropic.claude-sonnet-4-5-20250929-v1:0",
    "anthropic.claude-opus-4-5-20251101-v1:0",
    "amazon.nova-micro-v1:0",
    "amazon.nova-lite-v1:0",
    "amazon.nova-pro-v1:0",
    "meta.llama4-maverick-17b-instruct-v1:0",
    "meta.llama4-scout-17b-instruct-v1:0",
    "meta.llama3-3-70b-instruct-v1:0",
    "mistral.mistral-large-2402-v1:0",
    "cohere.command-r-plus-v1:0",
}
REQUIRED_EMBEDDING_IDS = {
    "amazon.titan-embed-text-v2:0",
    "cohere.embed-english-v3",
    "cohere.embed-multilingual-v3",
}

# Region-name prefixes a geographic profile may use, for both its sources and its destinations.
GEO_REGION_PREFIXES: dict[str, tuple[str, ...]] = {
    "us": ("us-", "ca-"),
    "eu": ("eu-",),
    "apac": ("ap-",),
    "jp": ("ap-northeast-",),
    "au": ("ap-southeast-",),
}

# Providers whose serverless models are sold through AWS Marketplace
# (docs.aws.amazon.com/bedrock/latest/userguide/model-access-product-ids.html).
MARKETPLACE_PROVIDERS = {"Anthropic", "Cohere"}

SONNET_45 = "anthropic.claude-sonnet-4-5-20250929-v1:0"
NOVA_PRO = "amazon.nova-pro-v1:0"
COMMAND_R_PLUS = "cohere.command-r-plus-v1:0"
LLAMA_4_SCOUT = "meta.llama4-scout-17b-instruct-v1:0"


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return load_catalog()


def _model(catalog: Catalog, model_id: str) -> ModelSpec:
    spec = catalog.get(model_id)
    assert spec is not None, f"{model_id} missing from the catalog"
    return spec


def _all_prices(spec: ModelSpec) -> list[Prices]:
    return [p for p in (spec.prices, spec.global_prices) if p is not None]


# --- the data itself ---------------------------------------------------------------------------


def test_every_required_model_is_in_the_catalog(catalog: Catalog) -> None:
    # Given the catalog shipped with the kit
    # When listing its ids by kind
    chat_ids = set(catalog.ids(kind="chat"))
    embedding_ids = set(catalog.ids(kind="embedding"))
    # Then every model the kit promises is present with the right kind
    assert chat_ids >= REQUIRED_CHAT_IDS, sorted(REQUIRED_CHAT_IDS - chat_ids)
    assert embedding_ids >= REQUIRED_EMBEDDING_IDS, sorted(REQUIRED_EMBEDDING_IDS - embedding_ids)


def test_catalog_keys_match_model_ids(catalog: Catalog) -> None:
    # Given the catalog indexed by id
    # When comparing each key with its entry
    # Then no entry was filed under another model's id
    assert all(key == spec.id for key, spec in catalog.models.items())


@pytest.mark.parametrize("prefix", sorted(GEO_REGION_PREFIXES))
def test_geographic_profiles_stay_in_their_geography(catalog: Catalog, prefix: str) -> None:
    # Given every model that has a geographic profile with this prefix
    allowed = GEO_REGION_PREFIXES[prefix]
    profiles = {
        spec.id: spec.inference_profiles[prefix]
        for spec in catalog.models.values()
        if prefix in spec.inference_profiles
    }
    # When looking at the regions of each profile
    # Then sources and destinations all lie in that geography
    for model_id, profile in profiles.items():
        for region in profile.sources + profile.destinations:
            assert region.startswith(allowed), f"{model_id} {prefix}: {region} outside {allowed}"


def test_geographic_profiles_route_to_known_regions_only(catalog: Catalog) -> None:
    # Given every geographic profile
    for spec in catalog.models.values():
        for prefix, profile in spec.inference_profiles.items():
            if prefix == "global":
                continue
            # When comparing its destinations with its sources
            # Then the lists have no duplicates and at least one source is itself a destination
            # (a request can be served in its own geography's source region)
            assert len(set(profile.destinations)) == len(profile.destinations), (spec.id, prefix)
            assert len(set(profile.sources)) == len(profile.sources), (spec.id, prefix)
            assert set(profile.sources) & set(profile.destinations), (spec.id, prefix)


def test_global_profiles_list_sources_but_no_destinations(catalog: Catalog) -> None:
    # Given the models offered through the global profile
    globals_ = [s for s in catalog.models.values() if "global" in s.inference_profiles]
    # When looking at the global profile of each
    # Then it has sources and an empty destination list, and only Claude models are offered
    assert globals_, "expected at least one global profile"
    for spec in globals_:
        profile = spec.inference_profiles["global"]
        assert profile.sources and profile.destinations == (), spec.id
        assert spec.provider == "Anthropic", spec.id


def test_profile_prefixes_are_known(catalog: Catalog) -> None:
    # Given every profile key in the catalog
    keys = {p for spec in catalog.models.values() for p in spec.inference_profiles}
    # Then each is one of the prefixes Bedrock defines
    assert keys <= set(PROFILE_PREFIXES)


def test_regions_look_like_aws_region_codes(catalog: Catalog) -> None:
    # Given every region named anywhere in the catalog
    regions = set()
    for spec in catalog.models.values():
        regions.update(spec.regions, spec.latency_optimized_regions)
        for profile in spec.inference_profiles.values():
            regions.update(profile.sources, profile.destinations)
    # Then each is shaped like a commercial region code (e.g. eu-west-3, ap-southeast-4)
    for region in regions:
        parts = region.split("-")
        assert len(parts) == 3 and parts[2].isdigit(), region
        assert not region.startswith("us-gov-"), f"{region}: GovCloud is outside this catalog"


def test_every_price_is_dated_and_sourced(catalog: Catalog) -> None:
    # Given every price list in the catalog
    today = date.today()
    for spec in catalog.models.values():
        for prices in _all_prices(spec):
            # Then it was checked between 2025-01-01 and today and names where it came from
            assert date(2025, 1, 1) <= prices.checked <= today, (spec.id, prices.checked)
            assert prices.source.strip(), spec.id
            assert prices.input_per_mtok > 0, spec.id


def test_chat_models_charge_for_output(catalog: Catalog) -> None:
    # Given the chat models
    for spec in catalog.models.values():
        if spec.kind != "chat":
            continue
        # Then output tokens cost something and never less than input tokens
        assert spec.prices.output_per_mtok >= spec.prices.input_per_mtok > 0, spec.id


def test_embedding_models_are_shaped_as_embeddings(catalog: Catalog) -> None:
    # Given the embedding models
    embeddings = [s for s in catalog.models.values() if s.kind == "embedding"]
    assert {s.id for s in embeddings} >= REQUIRED_EMBEDDING_IDS
    for spec in embeddings:
        # Then they emit embeddings only, take no Converse/tool/stream path and bill input only
        assert spec.output_modalities == ("embedding",), spec.id
        assert not (spec.converse or spec.tool_use or spec.streaming), spec.id
        assert spec.prices.output_per_mtok == 0, spec.id
        assert spec.prompt_caching is None, spec.id


def test_chat_models_output_text_and_talk_converse(catalog: Catalog) -> None:
    # Given the chat models
    for spec in catalog.models.values():
        if spec.kind != "chat":
            continue
        # Then they answer in text through the Converse API
        assert "text" in spec.output_modalities, spec.id
        assert "embedding" not in spec.output_modalities, spec.id
        assert spec.converse, spec.id


def test_prompt_caching_minimums_are_positive_and_plausible(catalog: Catalog) -> None:
    # Given the models with prompt caching
    cached = {s.id: s.prompt_caching for s in catalog.models.values() if s.prompt_caching}
    # Then each minimum is a positive token count no larger than a typical cache size
    assert cached
    for model_id, caching in cached.items():
        assert 0 < caching.min_tokens_per_cache_point <= 8192, model_id
    # And the documented Claude minimums hold (Haiku 4.5 needs more tokens than Sonnet 4.5)
    assert cached[SONNET_45].min_tokens_per_cache_point == 1024
    assert cached["anthropic.claude-haiku-4-5-20251001-v1:0"].min_tokens_per_cache_point == 4096


def test_cache_prices_only_where_caching_is_supported(catalog: Catalog) -> None:
    # Given every model's price lists
    for spec in catalog.models.values():
        for prices in _all_prices(spec):
            if prices.cache_read_per_mtok is None:
                continue
            # Then a cache-read price implies prompt caching, and reads are cheaper than input
            assert spec.prompt_caching is not None, spec.id
            assert prices.cache_read_per_mtok < prices.input_per_mtok, spec.id


def test_global_prices_are_never_higher_than_regional(catalog: Catalog) -> None:
    # Given the models with a separate global price list
    with_global = [s for s in catalog.models.values() if s.global_prices is not None]
    assert with_global
    for spec in with_global:
        glob, regional = spec.global_prices, spec.prices
        # Then a global profile exists to use them, and no rate exceeds the regional one
        assert "global" in spec.inference_profiles, spec.id
        assert glob.input_per_mtok <= regional.input_per_mtok, spec.id
        assert glob.output_per_mtok <= regional.output_per_mtok, spec.id
        for field in ("cache_read_per_mtok", "cache_write_per_mtok"):
            g, r = getattr(glob, field), getattr(regional, field)
            if g is not None and r is not None:
                assert g <= r, (spec.id, field)


def test_claude_regional_premium_is_about_ten_percent(catalog: Catalog) -> None:
    # Given the Claude 4.5+ models, whose regional/geo endpoints carry a 10% premium
    claude = [s for s in catalog.models.values() if s.global_prices is not None]
    for spec in claude:
        # Then regional input and output prices are 1.1x the global ones
        assert spec.prices.input_per_mtok == pytest.approx(1.1 * spec.global_prices.input_per_mtok)
        assert spec.prices.output_per_mtok == pytest.approx(
            1.1 * spec.global_prices.output_per_mtok
        )


def test_access_requirements_follow_the_provider(catalog: Catalog) -> None:
    # Given every model
    for spec in catalog.models.values():
        # Then only Anthropic asks for the use-case form, and only Marketplace-sold providers
        # (Anthropic, Cohere) need a Marketplace agreement; Amazon, Meta and Mistral need neither
        assert spec.access.use_case_form == (spec.provider == "Anthropic"), spec.id
        sold_on_marketplace = spec.provider in MARKETPLACE_PROVIDERS
        assert spec.access.marketplace_agreement == sold_on_marketplace, spec.id


def test_latency_optimized_regions_are_reachable(catalog: Catalog) -> None:
    # Given the models with latency-optimized regions
    optimized = [s for s in catalog.models.values() if s.latency_optimized_regions]
    assert [s.id for s in optimized] == [NOVA_PRO]
    for spec in optimized:
        for region in spec.latency_optimized_regions:
            # Then the model can be invoked from that region one way or another
            assert spec.invoke_options(region), (spec.id, region)


def test_claude_4_5_is_offered_through_profiles_only(catalog: Catalog) -> None:
    # Given the Claude models
    claude = [s for s in catalog.models.values() if s.provider == "Anthropic"]
    assert len(claude) >= 3
    for spec in claude:
        # Then none is served in-region on demand, and each has a US and a global profile
        assert spec.regions == (), spec.id
        assert {"us", "global"} <= set(spec.inference_profiles), spec.id


# --- the helpers, on real entries -------------------------------------------------------------


def test_invoke_options_list_in_region_first_then_profiles(catalog: Catalog) -> None:
    # Given Nova Pro, served in-region in us-east-1 and through the us. profile
    nova = _model(catalog, NOVA_PRO)
    # When asking how to reach it from us-east-1, us-east-2 and eu-west-1
    # Then us-east-1 has both ways, us-east-2 only the profile, eu-west-1 the eu. profile
    assert nova.invoke_options("us-east-1") == ["in-region", "us"]
    assert nova.invoke_options("us-east-2") == ["us"]
    assert nova.invoke_options("eu-west-1") == ["eu"]


def test_invoke_options_for_profile_only_and_in_region_only_models(catalog: Catalog) -> None:
    # Given Sonnet 4.5 (profiles only), Command R+ (in-region only) and Llama 4 Scout (us. only)
    sonnet = _model(catalog, SONNET_45)
    command = _model(catalog, COMMAND_R_PLUS)
    scout = _model(catalog, LLAMA_4_SCOUT)
    # When asking for the ways in from a few regions
    # Then the answers follow the catalog, and an unknown region has no way in
    assert sonnet.invoke_options("us-east-1") == ["us", "global"]
    assert sonnet.invoke_options("eu-west-3") == ["eu", "global"]
    assert sonnet.invoke_options("ap-northeast-1") == ["jp", "global"]
    assert "in-region" not in sonnet.invoke_options("us-west-2")
    assert command.invoke_options("us-east-1") == ["in-region"]
    assert command.invoke_options("eu-west-1") == []
    assert scout.invoke_options("eu-west-1") == []
    assert sonnet.invoke_options("xx-nowhere-1") == []


def test_destination_regions_in_region_geo_and_global(catalog: Catalog) -> None:
    # Given Sonnet 4.5
    sonnet = _model(catalog, SONNET_45)
    # When asking where a request may be served
    in_region = sonnet.destination_regions(None, "us-east-1")
    us = sonnet.destination_regions("us", "us-east-1")
    glob = sonnet.destination_regions("global", "us-east-1")
    # Then in-region stays put, us routes inside the US, and global names no list
    assert in_region == ("us-east-1",)
    assert "us-east-1" in us and all(r.startswith("us-") for r in us)
    assert us == sonnet.inference_profiles["us"].destinations
    assert glob == ()


def test_destination_regions_rejects_unknown_profile(catalog: Catalog) -> None:
    # Given Command R+, which has no inference profile
    command = _model(catalog, COMMAND_R_PLUS)
    # When asking for the destinations of a us. profile
    # Then the lookup fails loudly instead of returning an empty list
    with pytest.raises(KeyError):
        command.destination_regions("us", "us-east-1")


def test_prices_for_picks_global_prices_only_for_global(catalog: Catalog) -> None:
    # Given Sonnet 4.5 (separate global prices) and Nova Pro (one price list)
    sonnet = _model(catalog, SONNET_45)
    nova = _model(catalog, NOVA_PRO)
    # When asking which prices apply per invocation path
    # Then global uses the cheaper global list and every other path the regional one
    assert sonnet.prices_for("global") == sonnet.global_prices
    assert sonnet.prices_for("global").input_per_mtok < sonnet.prices_for("us").input_per_mtok
    assert sonnet.prices_for("us") == sonnet.prices
    assert sonnet.prices_for("eu") == sonnet.prices
    assert sonnet.prices_for(None) == sonnet.prices
    assert nova.prices_for("global") == nova.prices
    assert nova.prices_for(None).input_per_mtok == pytest.approx(0.8)


def test_profile_id_prefixes_the_model_id(catalog: Catalog) -> None:
    # Given Sonnet 4.5
    sonnet = _model(catalog, SONNET_45)
    # When building its profile ids
    # Then they are the prefix, a dot and the model id
    assert sonnet.profile_id("us") == "us.anthropic.claude-sonnet-4-5-20250929-v1:0"
    assert sonnet.profile_id("global") == "global.anthropic.claude-sonnet-4-5-20250929-v1:0"


def test_load_catalog_is_cached(catalog: Catalog) -> None:
    # Given the catalog loaded once by the fixture
    # When loading it again
    # Then the same validated object comes back (the file is read once per process)
    assert load_catalog() is catalog


def test_an_invalid_catalog_file_names_the_entry_and_field(tmp_path) -> None:
    # Given a catalog whose only entry lacks prices
    from stacks.catalog import CatalogError, load_catalog

    bad = tmp_path / "models.yaml"
    bad.write_text(
        "models:\n  - id: acme.model-v1\n    name: M\n    provider: Acme\n    kind: chat\n"
        "    input_modalities: [text]\n    output_modalities: [text]\n    converse: true\n"
        "    tool_use: false\n    streaming: true\n    guardrails: true\n"
        "    max_output_tokens: 10\n    regions: [us-east-1]\n"
    )
    # Then loading it fails with the path to the missing field, not a trace
    with pytest.raises(CatalogError, match=r"models\.acme\.model-v1\.prices: Field required"):
        load_catalog(bad)
