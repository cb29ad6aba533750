"""Cache-point placement and the cost of cached and tiered answers (pure, test-owned facts)."""

from __future__ import annotations

import pytest

from kit_runtime.contracts.catalog import CachingFacts, TierPricing, TokenPrices
from kit_runtime.contracts.chat import CachingSettings
from kit_runtime.metering import request_cost
from kit_runtime.options import CHARS_PER_TOKEN, Chosen, add_cache_points, apply, sent

CACHES_TOOLS = CachingFacts(
    min_tokens_per_cache_point=100, fields=("system", "messages", "tools"), ttls=("5m", "1h")
)
NO_TOOLS = CachingFacts(min_tokens_per_cache_point=100, fields=("system", "messages"), ttls=("5m",))
LONG = "x" * (100 * CHARS_PER_TOKEN)
TOOLS = [{"toolSpec": {"name": "lookup", "description": LONG, "inputSchema": {"json": {}}}}]


def call(system: str | None = LONG, tools: list | None = None) -> dict:
    arguments: dict = {"messages": [{"role": "user", "content": [{"text": "hi"}]}]}
    if system:
        arguments["system"] = [{"text": system}]
    if tools:
        arguments["toolConfig"] = {"tools": list(tools)}
    return arguments


def test_cache_points_follow_tools_and_system_where_the_model_caches_them() -> None:
    # Given a model that caches tools and system, and both at its minimum
    arguments = call(tools=TOOLS)
    # When cache points are added
    placed = add_cache_points(arguments, CACHES_TOOLS, CachingSettings())
    # Then one follows the tools and one the system prompt, with Bedrock's default lifetime
    assert placed == 2
    assert arguments["toolConfig"]["tools"][-1] == {"cachePoint": {"type": "default"}}
    assert arguments["system"][-1] == {"cachePoint": {"type": "default"}}


def test_no_cache_point_for_fields_the_model_does_not_cache_or_short_segments() -> None:
    arguments = call(tools=TOOLS)
    assert add_cache_points(arguments, NO_TOOLS, CachingSettings()) == 1
    assert all("cachePoint" not in t for t in arguments["toolConfig"]["tools"])
    short = call(system=LONG[:-CHARS_PER_TOKEN])
    assert add_cache_points(short, CACHES_TOOLS, CachingSettings()) == 0
    assert add_cache_points(call(), None, CachingSettings()) == 0
    assert add_cache_points(call(), CACHES_TOOLS, CachingSettings(enabled=False)) == 0


def test_a_longer_ttl_is_sent_only_to_a_model_that_takes_it() -> None:
    one_hour = CachingSettings(ttl="1h")
    arguments = call()
    add_cache_points(arguments, CACHES_TOOLS, one_hour)
    assert arguments["system"][-1] == {"cachePoint": {"type": "default", "ttl": "1h"}}
    arguments = call()
    add_cache_points(arguments, NO_TOOLS, one_hour)
    assert arguments["system"][-1] == {"cachePoint": {"type": "default"}}


def test_standard_options_are_never_sent_and_what_was_sent_is_read_back() -> None:
    plain = apply(call(system=None), Chosen(), caching=None, config=CachingSettings())
    assert "performanceConfig" not in plain and "serviceTier" not in plain
    assert sent(plain) == Chosen()
    chosen = Chosen(latency="optimized", service_tier="flex")
    tuned = apply(call(system=None), chosen, caching=None, config=CachingSettings())
    assert tuned["performanceConfig"] == {"latency": "optimized"}
    assert tuned["serviceTier"] == {"type": "flex"}
    assert sent(tuned) == chosen


def test_cache_reads_and_writes_are_priced_apart_and_tiers_multiply() -> None:
    prices = TokenPrices(
        input_per_mtok=3.0, output_per_mtok=15.0, cache_read_per_mtok=0.3, cache_write_per_mtok=3.75
    )
    cost = request_cost(prices, 1_000, 100, cache_read_tokens=10_000, cache_write_tokens=2_000)
    assert cost.cache_read_usd == pytest.approx(10_000 * 0.3 / 1e6)
    assert cost.cache_write_usd == pytest.approx(2_000 * 3.75 / 1e6)
    assert cost.total_usd == pytest.approx(
        cost.input_usd + cost.output_usd + cost.cache_read_usd + cost.cache_write_usd
    )
    # A model without a write price has its writes priced as plain input (never under-counted)
    nova_like = TokenPrices(input_per_mtok=0.8, output_per_mtok=3.2, cache_read_per_mtok=0.2)
    assert request_cost(nova_like, 0, 0, cache_write_tokens=1_000).cache_write_usd == pytest.approx(
        1_000 * 0.8 / 1e6
    )
    half = TierPricing(input_multiplier=0.5, output_multiplier=0.5)
    full = request_cost(prices, 1_000, 100, cache_read_tokens=500)
    assert request_cost(prices, 1_000, 100, cache_read_tokens=500, tier=half).total_usd == (
        pytest.approx(full.total_usd / 2)
    )
