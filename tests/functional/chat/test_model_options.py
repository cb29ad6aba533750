"""Per-model options through the real handler and botocore against the local Bedrock server.

The server validates options per invoke target from the catalog (``tests.support.model_options``)
the way Bedrock does, so an option sent to a model that lacks it fails the call.
"""

from __future__ import annotations

from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from handlers.chat import use_service
from kit_runtime.chat import ChatService
from kit_runtime.contracts.catalog import TierPricing
from tests.fakes import FakeBedrock, ModelRules, Reply
from tests.support.chat_api import Api, catalog, client_for, settings_serving
from tests.support.model_options import REGION, chat_models, rules_for, with_service_tier

HELLO = [{"role": "user", "content": "hello there model"}]
BIG_TEXT = {"max_text_chars": 400_000, "max_body_bytes": 2_000_000}


def caching_model() -> str:
    found = chat_models(catalog(), lambda f: f.prompt_caching is not None)
    if not found:
        pytest.skip("the catalog has no chat model with prompt caching")
    return found[0]


def non_caching_model() -> str:
    found = chat_models(catalog(), lambda f: f.prompt_caching is None)
    if not found:
        pytest.skip("every catalog chat model caches")
    return found[0]


def system_of_tokens(tokens: int) -> str:
    # Four characters per estimated token (kit_runtime.options.CHARS_PER_TOKEN).
    return ("abc " * tokens)[: tokens * 4]


def test_a_long_system_prompt_gets_a_cache_point_and_cache_tokens_are_priced(
    chat_api: Api,
) -> None:
    # Given a caching model and a system prompt at its minimum tokens per cache point
    model = caching_model()
    chat_api.use(settings_serving(model, limits=BIG_TEXT))
    minimum = catalog().models[model].prompt_caching.min_tokens_per_cache_point  # type: ignore[union-attr]
    chat_api.server.enqueue(
        Reply.text(
            "ok", input_tokens=50, output_tokens=10, cache_read_tokens=3000, cache_write_tokens=2000
        )
    )
    # When a client chats
    got = chat_api.chat({"messages": HELLO, "system": system_of_tokens(minimum)})
    # Then Bedrock saw one cache point right after the system prompt (and accepted it)
    assert got.status == 200, got.body
    system = chat_api.server.last_request.body["system"]
    assert system[-1] == {"cachePoint": {"type": "default"}}
    assert [b for b in system if "cachePoint" in b] == [system[-1]]
    # And the cache reads and writes are reported and priced at the catalog's cache prices
    prices = catalog().models[model].prices_for(None)
    usage, cost = got.body["usage"], got.body["cost"]
    assert usage["cache_read_input_tokens"] == 3000
    assert usage["cache_write_input_tokens"] == 2000
    assert cost["cache_read_usd"] == pytest.approx(3000 * prices.cache_read_per_mtok / 1e6)  # type: ignore[operator]
    write_price = prices.cache_write_per_mtok
    if write_price is None:
        write_price = prices.input_per_mtok
    assert cost["cache_write_usd"] == pytest.approx(2000 * write_price / 1e6)
    parts = (
        cost["input_usd"] + cost["output_usd"] + cost["cache_read_usd"] + cost["cache_write_usd"]
    )
    assert cost["total_usd"] == pytest.approx(parts)


def test_a_short_system_prompt_or_disabled_caching_sends_no_cache_point(chat_api: Api) -> None:
    # Given a caching model and a system prompt one estimated token below its minimum
    model = caching_model()
    chat_api.use(settings_serving(model, limits=BIG_TEXT))
    minimum = catalog().models[model].prompt_caching.min_tokens_per_cache_point  # type: ignore[union-attr]
    got = chat_api.chat({"messages": HELLO, "system": system_of_tokens(minimum - 1)})
    # Then no cache point is sent
    assert got.status == 200
    assert chat_api.server.last_request.body["system"] == [{"text": system_of_tokens(minimum - 1)}]
    # When the stage turns caching off, a long prompt gets none either
    chat_api.use(settings_serving(model, limits=BIG_TEXT, prompt_caching={"enabled": False}))
    got = chat_api.chat({"messages": HELLO, "system": system_of_tokens(minimum * 2)})
    assert got.status == 200
    assert all("cachePoint" not in b for b in chat_api.server.last_request.body["system"])


def test_a_model_without_caching_never_gets_a_cache_point(chat_api: Api) -> None:
    # Given a model without prompt caching and a very long system prompt
    chat_api.use(settings_serving(non_caching_model(), limits=BIG_TEXT))
    got = chat_api.chat({"messages": HELLO, "system": system_of_tokens(20_000)})
    # Then the call succeeds with no cache point (the server would refuse one)
    assert got.status == 200, got.body
    assert all("cachePoint" not in b for b in chat_api.server.last_request.body["system"])


def test_the_server_refuses_options_a_model_lacks_like_bedrock(bedrock_server: FakeBedrock) -> None:
    # Given a target whose rules allow nothing
    bedrock_server.reset()
    bedrock_server.set_rules({"plain-model": ModelRules()})
    client = boto3.client(
        "bedrock-runtime",
        endpoint_url=bedrock_server.endpoint_url,
        region_name=REGION,
        aws_access_key_id="x",
        aws_secret_access_key="y",
    )
    messages = [{"role": "user", "content": [{"text": "hi"}]}]
    refused: list[dict[str, Any]] = [
        {"performanceConfig": {"latency": "optimized"}},
        {"serviceTier": {"type": "flex"}},
        {"system": [{"text": "sys"}, {"cachePoint": {"type": "default"}}]},
    ]
    for extra in refused:
        # When the call carries the option
        with pytest.raises(ClientError) as info:
            client.converse(modelId="plain-model", messages=messages, **extra)
        # Then it is a ValidationException, as Bedrock answers
        assert info.value.response["Error"]["Code"] == "ValidationException", extra
    # And the standard values pass
    client.converse(
        modelId="plain-model",
        messages=messages,
        performanceConfig={"latency": "standard"},
        serviceTier={"type": "default"},
    )


def test_latency_optimized_is_sent_where_offered_and_refused_where_not(chat_api: Api) -> None:
    # Given a stage with one model served latency-optimized from its region and one without
    fast = chat_models(catalog(), lambda f: REGION in f.latency_optimized_regions)
    slow = chat_models(catalog(), lambda f: REGION not in f.latency_optimized_regions)
    if not fast or not slow:
        pytest.skip(f"needs chat models with and without latency optimization in {REGION}")
    settings = settings_serving(fast[0], slow[0], latency_optimized_models=(fast[0],))
    # (served through a cross-region profile: Bedrock offers latency optimization only there)
    route = settings.models[fast[0]].model_copy(update={"profile": "us"})
    chat_api.use(settings.model_copy(update={"models": {**settings.models, fast[0]: route}}))
    # When a request asks for it on the model that has it
    got = chat_api.chat({"messages": HELLO, "model": fast[0], "latency": "optimized"})
    # Then Bedrock gets performanceConfig and the answer says so
    assert got.status == 200, got.body
    assert chat_api.server.last_request.body["performanceConfig"] == {"latency": "optimized"}
    assert got.body["latency"] == "optimized"
    # When a request asks for it on the model without it
    calls = len(chat_api.server.requests)
    got = chat_api.chat({"messages": HELLO, "model": slow[0], "latency": "optimized"})
    # Then it is a 422 naming the models that offer it, and Bedrock is not called
    assert got.status == 422
    assert fast[0] in got.body["error"]["message"]
    assert len(chat_api.server.requests) == calls


def test_a_tier_option_is_applied_only_to_a_model_that_supports_it(chat_api: Api) -> None:
    # Given every tier configured latency-optimized but served by a model without it here
    slow = chat_models(catalog(), lambda f: REGION not in f.latency_optimized_regions)
    if not slow:
        pytest.skip("every chat model is latency-optimized here")
    options = {t: {"latency": "optimized"} for t in ("fast", "balanced", "deep")}
    chat_api.use(settings_serving(slow[0], tier_options=options))
    # When a client uses a tier
    got = chat_api.chat({"messages": HELLO, "tier": "fast"})
    # Then the call goes out standard (no performanceConfig), and succeeds
    assert got.status == 200, got.body
    assert "performanceConfig" not in chat_api.server.last_request.body
    assert got.body["latency"] == "standard"


def test_a_service_tier_is_sent_and_priced_only_where_the_catalog_offers_it(
    chat_api: Api,
) -> None:
    # Given a test-owned catalog in which one model offers flex at half price
    with_tier, without = chat_models(catalog(), lambda f: not f.service_tiers)[:2]
    facts = with_service_tier(
        catalog(), with_tier, "flex", TierPricing(input_multiplier=0.5, output_multiplier=0.5)
    )
    settings = settings_serving(with_tier, without, tier_options={"deep": {"service_tier": "flex"}})
    chat_api.server.set_rules(rules_for(settings, facts))
    use_service(ChatService(settings, facts, client_for(chat_api.server, settings)))
    chat_api.server.enqueue(Reply.text("ok", input_tokens=1000, output_tokens=100))
    # When the deep tier (flex) answers
    got = chat_api.chat({"messages": HELLO, "tier": "deep"})
    # Then Bedrock got serviceTier flex and the cost is the standard cost times the multiplier
    assert got.status == 200, got.body
    assert chat_api.server.last_request.body["serviceTier"] == {"type": "flex"}
    prices = facts.models[with_tier].prices_for(None)
    standard = (1000 * prices.input_per_mtok + 100 * prices.output_per_mtok) / 1e6
    assert got.body["cost"]["total_usd"] == pytest.approx(standard * 0.5)
    assert got.body["service_tier"] == "flex"
    # When a request asks for flex on the model without it, it is refused before Bedrock
    got = chat_api.chat({"messages": HELLO, "model": without, "service_tier": "flex"})
    assert got.status == 422
    assert "service_tier" in got.body["error"]["message"]


def test_every_call_carries_a_bounded_max_tokens(chat_api: Api) -> None:
    # Given a stage default above some models' output caps
    models = chat_models(catalog(), lambda f: True)[:4]
    chat_api.use(settings_serving(*models, default_max_tokens=10**6, max_tokens_limit=10**6))
    for model in models:
        # When a request names no max_tokens
        got = chat_api.chat({"messages": HELLO, "model": model})
        # Then maxTokens is set, within the model's cap
        assert got.status == 200, got.body
        sent = chat_api.server.last_request.body["inferenceConfig"]["maxTokens"]
        cap = catalog().models[model].max_output_tokens
        assert 0 < sent <= (cap or 10**6)
