"""The model catalog (stacks/catalog/models.yaml) and its schema.

Every data test holds for any catalog a fork might keep: none names a particular model. Schema
tests write small catalogs of their own.
"""

from __future__ import annotations

import re
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml

from stacks.catalog import (
    PROFILE_PREFIXES,
    Catalog,
    CatalogError,
    ModelSpec,
    Prices,
    load_catalog,
)

TODAY = date.today()

# Region-name prefixes a geographic profile may use, for both its sources and its destinations
# (Bedrock model cards route Tel Aviv, il-central-1, through some eu. profiles).
GEO_REGION_PREFIXES: dict[str, tuple[str, ...]] = {
    "us": ("us-", "ca-"),
    "eu": ("eu-", "il-"),
    "apac": ("ap-",),
    "jp": ("ap-northeast-",),
    "au": ("ap-southeast-",),
}

# Providers whose serverless models are sold through AWS Marketplace
# (docs.aws.amazon.com/bedrock/latest/userguide/model-access-product-ids.html).
MARKETPLACE_PROVIDERS = {"Anthropic", "Cohere"}


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return load_catalog()


def _all_prices(spec: ModelSpec) -> list[Prices]:
    return [p for p in (spec.prices, spec.global_prices) if p is not None]


def _models(catalog: Catalog, kind: str | None = None) -> list[ModelSpec]:
    return [m for m in catalog.models.values() if kind is None or m.kind == kind]


# --- the data itself ---------------------------------------------------------------------------


def test_every_entry_validates_and_is_filed_under_its_own_id(catalog: Catalog) -> None:
    # Given the catalog shipped with the kit (loading it validated every entry)
    # When comparing each key with its entry
    # Then there are chat models, and no entry was filed under another model's id
    assert catalog.ids(kind="chat")
    assert all(key == spec.id for key, spec in catalog.models.items())


def test_every_entry_names_dated_https_sources(catalog: Catalog) -> None:
    # Given every entry
    for spec in catalog.models.values():
        # Then it cites at least one source, each an https URL read between 2025 and today
        assert spec.sources, spec.id
        for source in spec.sources:
            assert source.url.startswith("https://"), (spec.id, source.url)
            assert source.what.strip(), spec.id
            assert date(2025, 1, 1) <= source.checked <= TODAY, (spec.id, source.checked)
        # And what it could not verify is written out, not left as empty strings
        assert all(note.strip() for note in spec.unverified), spec.id


def test_lifecycle_dates_and_replacements_are_consistent(catalog: Catalog) -> None:
    # Given every entry with lifecycle dates
    for spec in catalog.models.values():
        life = spec.lifecycle
        if life.legacy_since and life.end_of_life:
            assert life.legacy_since <= life.end_of_life, spec.id
        if life.end_of_life:
            # Then the state flips to end_of_life on the day itself and is legacy the day before
            assert spec.lifecycle_state(life.end_of_life) == "end_of_life", spec.id
            day_before = life.end_of_life - timedelta(days=1)
            assert spec.lifecycle_state(day_before) == "legacy", spec.id
        if life.replacement is None:
            continue
        # And a replacement is another catalog model that outlives the one it replaces
        target = catalog.get(life.replacement)
        assert target is not None and target.id != spec.id, spec.id
        retires = life.end_of_life or life.legacy_since
        assert retires is not None, spec.id
        assert target.lifecycle.end_of_life is None or target.lifecycle.end_of_life > retires
        assert target.kind == spec.kind, (spec.id, target.id)


def test_models_without_lifecycle_dates_are_active(catalog: Catalog) -> None:
    # Given the entries without lifecycle dates
    undated = [
        m
        for m in catalog.models.values()
        if not (m.lifecycle.legacy_since or m.lifecycle.end_of_life)
    ]
    # Then each is active on any day
    for spec in undated:
        assert spec.lifecycle_state(TODAY) == "active", spec.id
        assert spec.lifecycle_state(date(2100, 1, 1)) == "active", spec.id


@pytest.mark.parametrize("prefix", sorted(GEO_REGION_PREFIXES))
def test_geographic_profiles_stay_in_their_geography(catalog: Catalog, prefix: str) -> None:
    # Given every model that has a geographic profile with this prefix
    allowed = GEO_REGION_PREFIXES[prefix]
    for spec in catalog.models.values():
        profile = spec.inference_profiles.get(prefix)  # type: ignore[call-overload]
        if profile is None:
            continue
        # Then it routes somewhere, and its sources and destinations all lie in that geography
        assert profile.destinations, (spec.id, prefix)
        for region in profile.sources + profile.destinations:
            assert region.startswith(allowed), f"{spec.id} {prefix}: {region} outside {allowed}"


def test_geographic_profiles_route_to_known_regions_only(catalog: Catalog) -> None:
    # Given every geographic profile
    for spec in catalog.models.values():
        for prefix, profile in spec.inference_profiles.items():
            if prefix == "global":
                continue
            # Then the lists have no duplicates and at least one source is itself a destination
            # (a request can be served in its own geography's source region)
            assert len(set(profile.destinations)) == len(profile.destinations), (spec.id, prefix)
            assert len(set(profile.sources)) == len(profile.sources), (spec.id, prefix)
            assert set(profile.sources) & set(profile.destinations), (spec.id, prefix)


def test_global_profiles_list_sources_but_no_destinations(catalog: Catalog) -> None:
    # Given the models offered through the global profile
    for spec in catalog.models.values():
        profile = spec.inference_profiles.get("global")
        if profile is None:
            continue
        # Then it has sources and an empty destination list (it routes worldwide)
        assert profile.sources and profile.destinations == (), spec.id


def test_profile_prefixes_are_known(catalog: Catalog) -> None:
    # Given every profile key in the catalog
    keys = {p for spec in catalog.models.values() for p in spec.inference_profiles}
    # Then each is one of the prefixes Bedrock defines
    assert keys <= set(PROFILE_PREFIXES)


def test_regions_look_like_aws_region_codes(catalog: Catalog) -> None:
    # Given every region named anywhere in the catalog
    regions: set[str] = set()
    for spec in catalog.models.values():
        regions.update(spec.regions, spec.latency_optimized_regions)
        for profile in spec.inference_profiles.values():
            regions.update(profile.sources, profile.destinations)
    # Then each is shaped like a commercial region code (e.g. eu-west-3, ap-southeast-4)
    for region in regions:
        parts = region.split("-")
        assert len(parts) == 3 and parts[2].isdigit(), region
        assert not region.startswith("us-gov-"), f"{region}: GovCloud is outside this catalog"


def test_every_price_is_dated_sourced_and_not_negative(catalog: Catalog) -> None:
    # Given every price list in the catalog
    for spec in catalog.models.values():
        for prices in _all_prices(spec):
            # Then it was checked between 2025-01-01 and today, names where it came from, and
            # every rate is a non-negative figure with a positive input rate
            assert date(2025, 1, 1) <= prices.checked <= TODAY, (spec.id, prices.checked)
            assert prices.source.strip(), spec.id
            assert prices.input_per_mtok > 0, spec.id
            rates = (
                prices.output_per_mtok,
                prices.cache_read_per_mtok,
                prices.cache_write_per_mtok,
            )
            assert all(r is None or r >= 0 for r in rates), spec.id


def test_chat_models_charge_for_output(catalog: Catalog) -> None:
    # Given the chat models
    for spec in _models(catalog, "chat"):
        # Then output tokens cost something and never less than input tokens
        assert spec.prices.output_per_mtok >= spec.prices.input_per_mtok > 0, spec.id


def test_embedding_models_are_shaped_as_embeddings(catalog: Catalog) -> None:
    # Given the embedding models
    for spec in _models(catalog, "embedding"):
        # Then they emit embeddings of positive sizes only, take no Converse/tool/stream path,
        # and bill input only, at a positive rate
        assert spec.output_modalities == ("embedding",), spec.id
        assert spec.embedding_dimensions and min(spec.embedding_dimensions) > 0, spec.id
        assert not (spec.converse or spec.tool_use or spec.streaming), spec.id
        assert spec.prices.input_per_mtok > 0 and spec.prices.output_per_mtok == 0, spec.id
        assert spec.prompt_caching is None and spec.max_output_tokens is None, spec.id


def test_chat_models_output_text_and_talk_converse(catalog: Catalog) -> None:
    # Given the chat models
    for spec in _models(catalog, "chat"):
        # Then they answer in text through the Converse API, within a stated output cap
        assert "text" in spec.output_modalities, spec.id
        assert "embedding" not in spec.output_modalities, spec.id
        assert spec.converse and spec.max_output_tokens, spec.id
        assert spec.embedding_dimensions == (), spec.id


def test_prompt_caching_minimums_are_plausible(catalog: Catalog) -> None:
    # Given the models with prompt caching
    for spec in catalog.models.values():
        if spec.prompt_caching is None:
            continue
        # Then each minimum is a positive token count no larger than a typical cache size
        assert 0 < spec.prompt_caching.min_tokens_per_cache_point <= 8192, spec.id


def test_cache_prices_exactly_where_caching_is_supported(catalog: Catalog) -> None:
    # Given every model's price lists
    for spec in catalog.models.values():
        for prices in _all_prices(spec):
            # Then a cache-read price is there exactly when prompt caching is, reads are cheaper
            # than input, and writes are billed only where caching exists
            assert (prices.cache_read_per_mtok is not None) == (spec.prompt_caching is not None)
            if prices.cache_read_per_mtok is not None:
                assert prices.cache_read_per_mtok < prices.input_per_mtok, spec.id
            if prices.cache_write_per_mtok is not None:
                assert spec.prompt_caching is not None, spec.id


def test_global_prices_are_never_higher_than_regional(catalog: Catalog) -> None:
    # Given the models with a separate global price list
    for spec in catalog.models.values():
        glob, regional = spec.global_prices, spec.prices
        if glob is None:
            continue
        # Then a global profile exists to use them, and no rate exceeds the regional one
        assert "global" in spec.inference_profiles, spec.id
        assert glob.input_per_mtok <= regional.input_per_mtok, spec.id
        assert glob.output_per_mtok <= regional.output_per_mtok, spec.id
        for field in ("cache_read_per_mtok", "cache_write_per_mtok"):
            g, r = getattr(glob, field), getattr(regional, field)
            if g is not None and r is not None:
                assert g <= r, (spec.id, field)


def test_access_requirements_follow_the_provider(catalog: Catalog) -> None:
    # Given every model
    for spec in catalog.models.values():
        # Then only Anthropic asks for the use-case form, and only Marketplace-sold providers
        # need a Marketplace agreement
        assert spec.access.use_case_form == (spec.provider == "Anthropic"), spec.id
        sold_on_marketplace = spec.provider in MARKETPLACE_PROVIDERS
        assert spec.access.marketplace_agreement == sold_on_marketplace, spec.id


def test_marketplace_models_name_their_product_id_or_flag_it(catalog: Catalog) -> None:
    # Given every model sold through AWS Marketplace
    sold = [m for m in catalog.models.values() if m.access.marketplace_agreement]
    assert sold
    for spec in sold:
        # Then it names its product id, or says in `unverified` that the id is missing
        flagged = any("product id" in note.lower() for note in spec.unverified)
        assert spec.access.marketplace_product_id or flagged, spec.id
    # And no two models share a product id, and only Marketplace models have one
    ids = [m.access.marketplace_product_id for m in sold if m.access.marketplace_product_id]
    assert len(ids) == len(set(ids))
    others = [m for m in catalog.models.values() if not m.access.marketplace_agreement]
    assert all(m.access.marketplace_product_id is None for m in others)


def test_latency_optimized_regions_are_reachable(catalog: Catalog) -> None:
    # Given the models with latency-optimized regions
    for spec in catalog.models.values():
        for region in spec.latency_optimized_regions:
            # Then the model can be invoked from that region one way or another
            assert spec.invoke_options(region), (spec.id, region)


# --- the helpers, on every entry ----------------------------------------------------------------


def test_invoke_options_list_in_region_first_then_each_profile_offered(catalog: Catalog) -> None:
    # Given every model and every region it names
    for spec in catalog.models.values():
        regions = set(spec.regions)
        for profile in spec.inference_profiles.values():
            regions.update(profile.sources)
        for region in regions:
            # When asking how to reach it from that region
            options = spec.invoke_options(region)
            # Then in-region comes first where served, followed by exactly the profiles whose
            # sources include the region
            expected = ["in-region"] if region in spec.regions else []
            expected += [p for p, prof in spec.inference_profiles.items() if region in prof.sources]
            assert options == expected, (spec.id, region)
            assert options, (spec.id, region)
        # And a region it never names has no way in
        assert spec.invoke_options("xx-nowhere-1") == [], spec.id


def test_destination_regions_in_region_geo_and_global(catalog: Catalog) -> None:
    # Given every model
    for spec in catalog.models.values():
        # When asking where a request may be served
        # Then in-region stays put, a profile routes to its destinations (none listed for global)
        assert spec.destination_regions(None, "us-east-1") == ("us-east-1",)
        for prefix, profile in spec.inference_profiles.items():
            assert spec.destination_regions(prefix, profile.sources[0]) == profile.destinations
        # And a profile the model lacks fails loudly instead of returning an empty list
        missing = [p for p in PROFILE_PREFIXES if p not in spec.inference_profiles]
        for absent in missing:
            with pytest.raises(KeyError):
                spec.destination_regions(absent, "us-east-1")


def test_prices_for_picks_global_prices_only_for_global(catalog: Catalog) -> None:
    # Given every model
    for spec in catalog.models.values():
        # When asking which prices apply per invocation path
        # Then global uses the global list where there is one, every other path the regional one
        assert spec.prices_for("global") == (spec.global_prices or spec.prices)
        for prefix in (None, *(p for p in PROFILE_PREFIXES if p != "global")):
            assert spec.prices_for(prefix) == spec.prices, (spec.id, prefix)


def test_profile_id_prefixes_the_model_id(catalog: Catalog) -> None:
    # Given any model with a profile
    spec = next(s for s in catalog.models.values() if s.inference_profiles)
    prefix = next(iter(spec.inference_profiles))
    # When building its profile id
    # Then it is the prefix, a dot and the model id
    assert spec.profile_id(prefix) == f"{prefix}.{spec.id}"


def test_load_catalog_is_cached(catalog: Catalog) -> None:
    # Given the catalog loaded once by the fixture
    # When loading it again
    # Then the same validated object comes back (the file is read once per process)
    assert load_catalog() is catalog


# --- lifecycle on test-owned entries -----------------------------------------------------------


def _entry(model_id: str = "acme.model-v1", **overrides: Any) -> dict[str, Any]:
    """A valid chat entry of a made-up model; overrides replace top-level fields."""
    entry: dict[str, Any] = {
        "id": model_id,
        "name": "Acme Model",
        "provider": "Acme",
        "kind": "chat",
        "input_modalities": ["text"],
        "output_modalities": ["text"],
        "converse": True,
        "tool_use": False,
        "streaming": True,
        "guardrails": True,
        "max_output_tokens": 1000,
        "regions": ["us-east-1"],
        "prices": {
            "input_per_mtok": 1.0,
            "output_per_mtok": 2.0,
            "checked": "2026-01-01",
            "source": "test",
        },
        "sources": [{"what": "all", "url": "https://example.com/card", "checked": "2026-01-01"}],
    }
    entry.update(overrides)
    return entry


def _write(folder: Path, *entries: dict[str, Any]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "models.yaml"
    path.write_text(yaml.safe_dump({"models": list(entries)}, sort_keys=False), encoding="utf-8")
    return path


def _load_error(tmp_path: Path, *entries: dict[str, Any]) -> str:
    with pytest.raises(CatalogError) as info:
        load_catalog(_write(tmp_path, *entries))
    return str(info.value)


@pytest.mark.parametrize(
    ("lifecycle", "expected"),
    [
        ({}, ["active", "active", "active"]),
        ({"legacy_since": "2026-03-01"}, ["active", "legacy", "legacy"]),
        (
            {"legacy_since": "2026-03-01", "end_of_life": "2026-06-01"},
            ["active", "legacy", "end_of_life"],
        ),
        ({"end_of_life": "2026-06-01"}, ["legacy", "legacy", "end_of_life"]),
        (
            {"legacy_since": "2026-03-01", "end_of_life": "2026-03-01"},
            ["active", "end_of_life", "end_of_life"],
        ),
    ],
)
def test_lifecycle_state_follows_the_dates(lifecycle: dict[str, str], expected: list[str]) -> None:
    # Given a made-up model with these lifecycle dates
    spec = ModelSpec.model_validate(_entry(lifecycle=lifecycle))
    # When judging it before, between and after the dates (the boundaries are inclusive)
    days = [date(2026, 1, 1), date(2026, 3, 1), date(2026, 6, 1)]
    # Then the state follows them; an announced end of life without a legacy date
    # already means legacy
    assert [spec.lifecycle_state(day) for day in days] == expected


def test_successor_skips_replacements_that_have_ended_too(tmp_path: Path) -> None:
    # Given a chain old -> mid -> new where mid has ended later than old
    old = _entry(
        "acme.old-v1", lifecycle={"end_of_life": "2026-01-01", "replacement": "acme.mid-v1"}
    )
    mid = _entry(
        "acme.mid-v1", lifecycle={"end_of_life": "2026-02-01", "replacement": "acme.new-v1"}
    )
    new = _entry("acme.new-v1")
    catalog = load_catalog(_write(tmp_path, old, mid, new))
    # When asking for old's successor before and after mid's end of life
    # Then it is mid while mid still answers, then new
    assert catalog.successor("acme.old-v1", date(2026, 1, 15)) == "acme.mid-v1"
    assert catalog.successor("acme.old-v1", date(2026, 3, 1)) == "acme.new-v1"
    assert catalog.successor("acme.new-v1", date(2026, 3, 1)) is None


# --- the schema rejects bad entries, naming the entry and the field -----------------------------


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        (
            {"lifecycle": {"legacy_since": "2026-05-01", "end_of_life": "2026-04-01"}},
            r"models\.acme\.model-v1\.lifecycle: .*end_of_life \(2026-04-01\) is before "
            r"legacy_since \(2026-05-01\)",
        ),
        (
            {"lifecycle": {"replacement": "acme.other-v1"}},
            r"models\.acme\.model-v1\.lifecycle: .*replacement: set legacy_since or end_of_life",
        ),
        (
            {"lifecycle": {"end_of_life": "2026-04-01", "replacement": "acme.model-v1"}},
            r"models\.acme\.model-v1: .*lifecycle\.replacement: a model cannot replace itself",
        ),
        (
            {"sources": []},
            r"models\.acme\.model-v1\.sources: .*at least 1 item",
        ),
        (
            {"sources": [{"what": "x", "url": "https://example.com", "checked": "2999-01-01"}]},
            r"models\.acme\.model-v1\.sources\.0: .*checked: 2999-01-01 is in the future",
        ),
        (
            {"sources": [{"what": "x", "url": "example.com/card", "checked": "2026-01-01"}]},
            r"models\.acme\.model-v1\.sources\.0\.url: String should match pattern",
        ),
        (
            {
                "prices": {
                    "input_per_mtok": 1.0,
                    "cache_read_per_mtok": 0.1,
                    "checked": "2026-01-01",
                    "source": "test",
                }
            },
            r"models\.acme\.model-v1: .*prices\.cache_read_per_mtok: set it exactly when "
            r"prompt_caching is set",
        ),
        (
            {"prompt_caching": {"min_tokens_per_cache_point": 1024}},
            r"models\.acme\.model-v1: .*prices\.cache_read_per_mtok",
        ),
        (
            {"inference_profiles": {"us": {"sources": ["us-east-1"]}}},
            r"models\.acme\.model-v1: .*inference_profiles\.us\.destinations",
        ),
        (
            {"kind": "embedding", "output_modalities": ["embedding"], "max_output_tokens": None},
            r"models\.acme\.model-v1: .*embedding_dimensions",
        ),
        (
            {"access": {"marketplace_agreement": True, "marketplace_product_id": "prod_BAD"}},
            r"models\.acme\.model-v1\.access\.marketplace_product_id: String should match pattern",
        ),
        (
            {"access": {"marketplace_product_id": "prod-abc123"}},
            r"models\.acme\.model-v1\.access: .*only a model with marketplace_agreement: true",
        ),
        (
            {"access": {"marketplace_agreement": True}},
            r"models\.acme\.model-v1: .*access\.marketplace_product_id: a marketplace model needs "
            r"its product id",
        ),
        (
            {"prices": {"input_per_mtok": -1, "checked": "2026-01-01", "source": "test"}},
            r"models\.acme\.model-v1\.prices\.input_per_mtok: Input should be greater than or "
            r"equal to 0",
        ),
    ],
)
def test_a_bad_entry_is_rejected_naming_entry_and_field(
    tmp_path: Path, overrides: dict[str, Any], message: str
) -> None:
    # Given a catalog whose only entry breaks one rule
    # When loading it
    # Then loading fails with the entry's path and the field to fix, not a trace
    error = _load_error(tmp_path, _entry(**overrides))
    assert error.startswith("models.yaml is invalid:")
    assert re.search(message, error), error


@pytest.mark.parametrize(
    "access",
    [
        {"marketplace_agreement": True, "marketplace_product_id": "prod-abc123"},
        # Older Marketplace listings carry a UUID-style product id.
        {
            "marketplace_agreement": True,
            "marketplace_product_id": "b7568428-a1ab-46d8-bab3-37def50f6f6a",
        },
    ],
)
def test_a_marketplace_model_with_a_product_id_loads(
    tmp_path: Path, access: dict[str, Any]
) -> None:
    # Given a Marketplace model with a well-formed product id
    # When loading it
    catalog = load_catalog(_write(tmp_path, _entry(access=access)))
    # Then the id is kept as written
    spec = catalog.models["acme.model-v1"]
    assert spec.access.marketplace_product_id == access["marketplace_product_id"]


def test_a_missing_product_id_is_accepted_when_flagged_unverified(tmp_path: Path) -> None:
    # Given a Marketplace model without a product id whose unverified list says so
    entry = _entry(
        access={"marketplace_agreement": True},
        unverified=["Marketplace product ID not found in any AWS source"],
    )
    # When loading it
    catalog = load_catalog(_write(tmp_path, entry))
    # Then it loads, without an id
    assert catalog.models["acme.model-v1"].access.marketplace_product_id is None


def test_a_replacement_must_be_a_catalog_model(tmp_path: Path) -> None:
    # Given an ended model whose replacement is not in the catalog
    entry = _entry(lifecycle={"end_of_life": "2026-04-01", "replacement": "acme.nowhere-v9"})
    # When loading it
    error = _load_error(tmp_path, entry)
    # Then the error names the entry, the field and the unknown id
    assert "models.acme.model-v1.lifecycle.replacement: 'acme.nowhere-v9' is not a catalog" in error


def test_a_replacement_must_outlive_the_model_it_replaces(tmp_path: Path) -> None:
    # Given a model whose replacement reaches its end of life first
    old = _entry(
        "acme.old-v1", lifecycle={"end_of_life": "2026-06-01", "replacement": "acme.new-v1"}
    )
    new = _entry("acme.new-v1", lifecycle={"end_of_life": "2026-05-01"})
    # When loading them
    error = _load_error(tmp_path, old, new)
    # Then the error names the retiring entry's replacement field and both dates
    assert (
        "models.acme.old-v1.lifecycle.replacement: 'acme.new-v1' reaches its end of life" in error
    )
    assert "2026-05-01" in error and "2026-06-01" in error


def test_duplicate_ids_and_missing_fields_are_reported(tmp_path: Path) -> None:
    # Given a catalog with the same id twice, and one whose only entry lacks prices
    without_prices = _entry()
    del without_prices["prices"]
    # When loading each
    duplicate = _load_error(tmp_path / "dup", _entry(), _entry())
    missing = _load_error(tmp_path / "missing", without_prices)
    # Then both name what to fix
    assert "duplicate model ids in catalog: ['acme.model-v1']" in duplicate
    assert "models.acme.model-v1.prices: Field required" in missing
