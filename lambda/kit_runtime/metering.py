"""Metering of one answer: its cost, its metrics and its log line (shared by every capability).

Prompts and completions reach the log only when the stage sets ``log_prompts``.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.metrics import MetricUnit, single_metric

from kit_runtime.contracts.catalog import TierPricing, TokenPrices
from kit_runtime.contracts.chat_api import ChatResponse, Cost
from kit_runtime.observability import logger, metrics


def request_cost(
    prices: TokenPrices,
    input_tokens: int,
    output_tokens: int,
    *,
    cache_read_tokens: int = 0,
    cache_write_tokens: int = 0,
    tier: TierPricing | None = None,
) -> Cost:
    """Token cost at the catalog's on-demand prices (USD per million tokens).

    Cache reads and writes (Converse ``cacheReadInputTokens`` / ``cacheWriteInputTokens``,
    counted apart from ``inputTokens``) are priced at the catalog's cache prices. A model
    without a cache-write price (Nova: no write premium) has its writes priced as plain input,
    and one without a cache-read price its reads: the estimate errs high, never low. A
    service ``tier`` multiplies input (cache tokens included) and output prices.
    """
    in_rate = tier.input_multiplier if tier is not None else 1.0
    out_rate = tier.output_multiplier if tier is not None else 1.0
    read_price = prices.cache_read_per_mtok
    if read_price is None:
        read_price = prices.input_per_mtok
    input_usd = input_tokens * prices.input_per_mtok * in_rate / 1_000_000
    output_usd = output_tokens * prices.output_per_mtok * out_rate / 1_000_000
    read_usd = cache_read_tokens * read_price * in_rate / 1_000_000
    write_price = prices.cache_write_per_mtok
    if write_price is None:
        write_price = prices.input_per_mtok
    write_usd = cache_write_tokens * write_price * in_rate / 1_000_000
    return Cost(
        input_usd=round(input_usd, 8),
        output_usd=round(output_usd, 8),
        cache_read_usd=round(read_usd, 8),
        cache_write_usd=round(write_usd, 8),
        total_usd=round(input_usd + output_usd + read_usd + write_usd, 8),
    )


def record_answer(
    response: ChatResponse,
    *,
    log_prompts: bool,
    prompt: dict[str, Any] | None = None,
    event: str = "chat answered",
    extra: dict[str, Any] | None = None,
) -> None:
    """Emit the answer's metrics (tokens, cost, guardrail) and its one log line.

    Parameters
    ----------
    response:
        The answer as the caller gets it.
    log_prompts:
        The stage opted in to logging prompts and completions.
    prompt:
        The request, logged only with ``log_prompts``.
    event, extra:
        The log line's message and further fields (never prompts or documents).
    """
    metrics.add_dimension(name="model", value=response.model)
    metrics.add_metric(name="InputTokens", unit=MetricUnit.Count, value=response.usage.input_tokens)
    metrics.add_metric(
        name="OutputTokens", unit=MetricUnit.Count, value=response.usage.output_tokens
    )
    metrics.add_metric(
        name="CostMicroUSD",
        unit=MetricUnit.Count,
        value=round(response.cost.total_usd * 1_000_000, 2),
    )
    usage = response.usage
    if usage.cache_read_input_tokens or usage.cache_write_input_tokens:
        metrics.add_metric(
            name="CacheReadTokens", unit=MetricUnit.Count, value=usage.cache_read_input_tokens
        )
        metrics.add_metric(
            name="CacheWriteTokens", unit=MetricUnit.Count, value=usage.cache_write_input_tokens
        )
    if response.guardrail_intervened:
        metrics.add_metric(name="GuardrailInterventions", unit=MetricUnit.Count, value=1)
    if response.fallbacks:
        record_fallback(response.tier, response.fallbacks)
    private: dict[str, Any] = {}
    if log_prompts:
        private = {"prompt": prompt, "completion": response.text}
    logger.info(
        event,
        extra={
            **(extra or {}),
            "model": response.model,
            "tier": response.tier,
            "stop_reason": response.stop_reason,
            "input_tokens": response.usage.input_tokens,
            "output_tokens": response.usage.output_tokens,
            "cache_read_tokens": response.usage.cache_read_input_tokens,
            "cache_write_tokens": response.usage.cache_write_input_tokens,
            "latency": response.latency,
            "service_tier": response.service_tier,
            "cost_usd": response.cost.total_usd,
            "latency_ms": response.latency_ms,
            "attempts": response.attempts,
            "fallbacks": response.fallbacks,
            # Where and which policies, never what was blocked (the verdict carries no content).
            "guardrail": response.guardrail.model_dump(mode="json")
            if response.guardrail.intervened
            else None,
            **private,
        },
    )


NAMED_MODEL_TIER = "named-model"
"""The ``tier`` dimension of a fallback taken by a request that named its model."""


def record_fallback(tier: str | None, fallbacks: int) -> None:
    """Emit ``Fallbacks`` (models skipped before one answered) with the ``tier`` dimension.

    Its own EMF document: the invocation's metric set carries the ``model`` dimension, and a
    fallback count belongs to the tier whatever model finally answered.
    """
    with single_metric(
        name="Fallbacks",
        unit=MetricUnit.Count,
        value=fallbacks,
        namespace=metrics.namespace,
    ) as metric:
        metric.add_dimension(name="tier", value=tier or NAMED_MODEL_TIER)


def record_retrieval(
    *,
    knowledge_base: str,
    results: int,
    log_prompts: bool,
    query: dict[str, Any] | None = None,
) -> None:
    """Emit a retrieval's metric (chunks returned) and its one log line.

    The query and the retrieved text reach the log only with ``log_prompts``.
    """
    metrics.add_dimension(name="knowledge_base", value=knowledge_base)
    metrics.add_metric(name="RetrievedChunks", unit=MetricUnit.Count, value=results)
    private = {"query": query} if log_prompts else {}
    logger.info(
        "retrieve answered", extra={"knowledge_base": knowledge_base, "results": results, **private}
    )
