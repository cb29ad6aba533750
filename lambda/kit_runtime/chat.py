"""Chat logic: bound and route the request, call Converse through the guardrail, meter it."""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Iterable, Iterator
from functools import partial
from itertools import chain
from typing import Any

from kit_runtime import errors, options
from kit_runtime.bedrock import bedrock_errors
from kit_runtime.budget import Deadline
from kit_runtime.contracts.catalog import ModelFacts, RuntimeCatalog, TokenPrices
from kit_runtime.contracts.chat import ChatSettings, GuardrailRef, RequestLimits
from kit_runtime.contracts.chat_api import (
    ChatRequest,
    ChatResponse,
    ImageBlock,
    Message,
    TextBlock,
    Usage,
)
from kit_runtime.guardrail_select import ChosenGuardrail, choose_guardrail
from kit_runtime.guardrail_verdict import verdict
from kit_runtime.metering import request_cost
from kit_runtime.routing import Route, Routed, invoke_routed, select_route

MAX_REPORTED_VIOLATIONS = 20


def limit_violations(request: ChatRequest, limits: RequestLimits) -> list[dict[str, Any]]:
    """Every place ``request`` exceeds ``limits``: ``{field, limit, allowed, value}`` each."""
    found: list[dict[str, Any]] = []

    def check(field: str, limit: str, value: int) -> None:
        allowed = getattr(limits, limit)
        if value > allowed:
            found.append({"field": field, "limit": limit, "allowed": allowed, "value": value})

    check("messages", "max_messages", len(request.messages))
    if request.system is not None:
        check("system", "max_text_chars", len(request.system))
    images = 0
    for i, message in enumerate(request.messages):
        check(f"messages[{i}].content", "max_content_blocks", message.block_count())
        if isinstance(message.content, str):
            check(f"messages[{i}].content", "max_text_chars", len(message.content))
            continue
        for j, block in enumerate(message.content):
            if isinstance(block, TextBlock):
                check(f"messages[{i}].content[{j}].text", "max_text_chars", len(block.text))
            else:
                images += 1
                field = f"messages[{i}].content[{j}].image.source.bytes"
                check(field, "max_image_bytes", len(block.image.source.data))
    check("messages[].content[].image", "max_images", images)
    stops = request.stop_sequences or []
    check("stop_sequences", "max_stop_sequences", len(stops))
    for k, stop in enumerate(stops):
        check(f"stop_sequences[{k}]", "max_stop_sequence_chars", len(stop))
    return found


def content_kinds(request: ChatRequest) -> list[tuple[str, str]]:
    """Every piece of content as ``(field, kind)``; kinds are catalog input modalities."""
    found: list[tuple[str, str]] = []
    if request.system:
        found.append(("system", "text"))
    for i, message in enumerate(request.messages):
        if isinstance(message.content, str):
            found.append((f"messages[{i}].content", "text"))
            continue
        for j, block in enumerate(message.content):
            if isinstance(block, ImageBlock):
                found.append((f"messages[{i}].content[{j}].image", "image"))
            else:
                found.append((f"messages[{i}].content[{j}].text", "text"))
    return found


def converse_blocks(message: Message) -> list[dict[str, Any]]:
    """A message's content as Converse ``ContentBlock`` objects (images as raw bytes)."""
    if isinstance(message.content, str):
        return [{"text": message.content}]
    blocks: list[dict[str, Any]] = []
    for block in message.content:
        if isinstance(block, ImageBlock):
            image = block.image
            blocks.append(
                {"image": {"format": image.format, "source": {"bytes": image.source.data}}}
            )
        else:
            blocks.append({"text": block.text})
    return blocks


def open_until_first_delta(
    converse_stream: Callable[..., dict[str, Any]], **arguments: Any
) -> Iterator[dict[str, Any]]:
    """Call ConverseStream and read its events up to the first text delta; every event.

    The whole opening is one attempt of :func:`kit_runtime.bedrock.invoke`: an error event
    before any text (botocore raises ``EventStreamError``, a ``ClientError`` whose code is the
    event's exception type) is retried like the same refusal of an HTTP answer.
    """
    stream = converse_stream(**arguments)["stream"]
    events = iter(stream)
    head: list[dict[str, Any]] = []
    for event in events:
        head.append(event)
        if "contentBlockDelta" in event:
            break
    rest: Iterable[dict[str, Any]] = events
    return chain(head, rest)


GUARDRAIL_TRACE = "enabled"
"""Converse ``guardrailConfig.trace`` (``GuardrailTrace``: enabled, disabled, enabled_full;
botocore bedrock-runtime 2023-09-30 service model, checked 2026-12-01): ``enabled`` returns
``trace.guardrail`` (what was assessed and which policy acted), which the answer's
``guardrail`` field is built from (:mod:`kit_runtime.guardrail_verdict`)."""


def guardrail_config(guardrail: GuardrailRef) -> dict[str, str]:
    """The ``guardrailConfig`` of every Converse and ConverseStream call: the stage's pinned
    version (never ``DRAFT``: :class:`GuardrailRef` refuses it) with its trace on."""
    return {
        "guardrailIdentifier": guardrail.arn,
        "guardrailVersion": guardrail.version,
        "trace": GUARDRAIL_TRACE,
    }


def named_guardrail(response: ChatResponse, name: str | None) -> ChatResponse:
    """``response`` with its ``guardrail`` verdict naming the guardrail the call went through."""
    if name is None:
        return response
    named = response.guardrail.model_copy(update={"name": name})
    return response.model_copy(update={"guardrail": named})


class ChatService:
    """Serves chat requests for one stage.

    Parameters
    ----------
    settings:
        The stage's models, tiers, limits, guardrail and time budget.
    catalog:
        The catalog facts shipped in the asset (prices, output caps).
    client:
        A ``bedrock-runtime`` client (:func:`kit_runtime.bedrock.runtime_client`).
    sleep, rand:
        The retry loop's backoff (tests make it instant or deterministic).

    Raises
    ------
    ValueError
        An enabled model is missing from the catalog facts (an asset built from another
        catalog).
    """

    def __init__(
        self,
        settings: ChatSettings,
        catalog: RuntimeCatalog,
        client: Any,
        *,
        sleep: Callable[[float], None] = time.sleep,
        rand: Callable[[], float] = random.random,
    ) -> None:
        missing = sorted(set(settings.models) - set(catalog.models))
        if missing:
            raise ValueError(
                f"models {missing} are enabled but missing from the asset's catalog facts; "
                "rebuild and redeploy the function"
            )
        self.settings = settings
        self.catalog = catalog
        self.client = client
        self._sleep = sleep
        self._rand = rand

    def facts(self, model_id: str) -> ModelFacts:
        """The catalog facts of an enabled model."""
        return self.catalog.models[model_id]

    def prices(self, model_id: str) -> TokenPrices:
        """The prices that apply through the model's profile in this stage."""
        return self.facts(model_id).prices_for(self.settings.models[model_id].profile)

    def check_limits(self, request: ChatRequest) -> None:
        """Refuse a request beyond the stage's limits, naming each field, limit and value."""
        found = limit_violations(request, self.settings.limits)
        if not found:
            return
        first = found[0]
        raise errors.LimitExceeded(
            f"{first['field']} is {first['value']}, above {first['limit']} "
            f"{first['allowed']}" + (f" (and {len(found) - 1} more)" if len(found) > 1 else ""),
            errors=found[:MAX_REPORTED_VIOLATIONS],
        )

    def check_content(self, request: ChatRequest, model_id: str) -> None:
        """Refuse content the model does not take (its catalog input modalities), before Bedrock.

        Bedrock would refuse it too, but only after a round trip and with a message that does
        not say which model accepts what.
        """
        accepted = self.facts(model_id).input_modalities
        found = [
            {"field": field, "kind": kind}
            for field, kind in content_kinds(request)
            if kind not in accepted
        ]
        if not found:
            return
        first = found[0]
        raise errors.UnsupportedContent(
            f"{first['field']}: model {model_id!r} does not accept {first['kind']} input "
            f"(it accepts: {', '.join(accepted)}); remove it or choose another model or tier"
            + (f" (and {len(found) - 1} more)" if len(found) > 1 else ""),
            model=model_id,
            accepted_input=list(accepted),
            errors=found[:MAX_REPORTED_VIOLATIONS],
        )

    def route(self, request: ChatRequest) -> tuple[str, str | None]:
        """The model id to use and the tier it came from (``None`` if named directly)."""
        return self.route_to(request.model, request.tier)

    def route_to(self, model: str | None, tier: str | None) -> tuple[str, str | None]:
        """The enabled ``model``, else the first choice of ``tier`` (else of the default tier)."""
        route = select_route(self.settings, model, tier)
        return route.model, route.tier

    def route_request(self, request: ChatRequest) -> Route:
        """The models that may answer ``request``, first choice first (tier fallback chain).

        Fallbacks that could not take this request (its content kinds, its ``max_tokens``) are
        dropped, so a fallback never turns a good request into a refused one.
        """
        kinds = {kind for _, kind in content_kinds(request)}
        return self.usable_route(
            select_route(self.settings, request.model, request.tier), kinds, request.max_tokens
        )

    def usable_route(self, route: Route, kinds: set[str], max_tokens: int | None) -> Route:
        """``route`` without the fallbacks that do not take ``kinds`` or ``max_tokens``."""

        def usable(model_id: str) -> bool:
            facts = self.facts(model_id)
            if not kinds <= set(facts.input_modalities):
                return False
            cap = facts.max_output_tokens
            return max_tokens is None or cap is None or max_tokens <= cap

        return route.keeping(usable)

    def max_tokens(self, request: ChatRequest, model_id: str) -> int:
        """``maxTokens`` to send: the request's, bounded by the stage and the model."""
        return self.max_tokens_for(request.max_tokens, model_id)

    def max_tokens_for(self, requested: int | None, model_id: str) -> int:
        """``requested`` (else the stage default), refused above the stage's and model's cap."""
        limit = self.settings.max_tokens_limit
        cap = self.facts(model_id).max_output_tokens
        if cap is not None:
            limit = min(limit, cap)
        if requested is None:
            return min(self.settings.default_max_tokens, limit)
        if requested > limit:
            raise errors.InvalidRequest(
                f"max_tokens {requested} is above this model's limit in this stage",
                errors=[{"field": "max_tokens", "message": f"allowed: 1 to {limit}"}],
            )
        return requested

    def converse_arguments(
        self,
        request: ChatRequest,
        model_id: str,
        tier: str | None = None,
        *,
        guardrail: GuardrailRef | None = None,
    ) -> dict[str, Any]:
        """The Converse call: the application profile, the guardrail, maxTokens always set,
        and the per-model options (:mod:`kit_runtime.options`) where the model supports them."""
        inference: dict[str, Any] = {"maxTokens": self.max_tokens(request, model_id)}
        if request.temperature is not None:
            inference["temperature"] = request.temperature
        if request.top_p is not None:
            inference["topP"] = request.top_p
        if request.stop_sequences:
            inference["stopSequences"] = list(request.stop_sequences)
        messages = [{"role": m.role, "content": converse_blocks(m)} for m in request.messages]
        system = [{"text": request.system}] if request.system else None
        arguments = self.call_arguments(
            model_id, messages, inference=inference, system=system, guardrail=guardrail
        )
        return self.with_options(
            arguments, model_id, tier, latency=request.latency, service_tier=request.service_tier
        )

    def with_options(
        self,
        arguments: dict[str, Any],
        model_id: str,
        tier: str | None,
        *,
        latency: str | None = None,
        service_tier: str | None = None,
    ) -> dict[str, Any]:
        """``arguments`` plus latency, service tier and cache points where ``model_id`` has them."""
        facts = self.facts(model_id)
        chosen = options.choose(
            self.settings, facts, model_id, tier, latency=latency, service_tier=service_tier
        )
        return options.apply(
            arguments,
            chosen,
            caching=facts.prompt_caching,
            config=self.settings.prompt_caching,
        )

    def call_arguments(
        self,
        model_id: str,
        messages: list[dict[str, Any]],
        *,
        inference: dict[str, Any],
        system: list[dict[str, Any]] | None = None,
        guardrail: GuardrailRef | None = None,
    ) -> dict[str, Any]:
        """A Converse call through the model's application profile and ``guardrail`` (the
        request's choice, :meth:`choose_guardrail`; ``None``: the stage's default)."""
        guardrail = guardrail or self.settings.guardrail
        kwargs: dict[str, Any] = {
            "modelId": self.settings.models[model_id].invoke_arn,
            "messages": messages,
            "inferenceConfig": inference,
            "guardrailConfig": guardrail_config(guardrail),
        }
        if system:
            kwargs["system"] = system
        return kwargs

    def deadline(self) -> Deadline:
        """A deadline for calls made outside an API Gateway request (the budget from now)."""
        return Deadline.for_request(
            self.settings.budget, request_time_epoch_ms=None, function_remaining_ms=None
        )

    def chat(self, request: ChatRequest, *, deadline: Deadline | None = None) -> ChatResponse:
        """Answer one chat request (Converse, non-streaming) within ``deadline``."""
        self.check_limits(request)
        chosen = self.choose_guardrail(request.guardrail)
        route = self.route_request(request)
        self.check_content(request, route.model)
        response = self.converse_routed(
            route,
            lambda model_id: self.converse_arguments(
                request, model_id, route.tier, guardrail=chosen.ref
            ),
            deadline=deadline,
        )
        return named_guardrail(response, chosen.name)

    def choose_guardrail(self, name: str | None) -> ChosenGuardrail:
        """The stage guardrail named ``name`` (``None``: the default); raises
        :class:`errors.UnknownGuardrail` (400, with the allowed names) for any other name."""
        return choose_guardrail(self.settings, name, stage=self.settings.stage)

    def converse(
        self,
        model_id: str,
        tier: str | None,
        arguments: dict[str, Any],
        *,
        deadline: Deadline | None = None,
    ) -> ChatResponse:
        """Call Converse with ``arguments`` (:meth:`call_arguments`) within the time budget;
        the answer with its usage and catalog-priced cost (one model, no fallback)."""
        return self.converse_routed(
            Route((model_id,), tier), lambda _: arguments, deadline=deadline
        )

    def converse_routed(
        self,
        route: Route,
        arguments_for: Callable[[str], dict[str, Any]],
        *,
        deadline: Deadline | None = None,
    ) -> ChatResponse:
        """Call Converse along ``route`` (retries, then fallback) within the time budget;
        ``arguments_for(model_id)`` builds each model's call (:meth:`call_arguments`)."""
        routed = self.invoke_routed(self.client.converse, route, arguments_for, deadline=deadline)
        result = routed.result
        content = result.get("output", {}).get("message", {}).get("content", [])
        return self._response(
            routed.model,
            route.tier,
            text="".join(block.get("text", "") for block in content),
            stop_reason=result.get("stopReason", ""),
            usage=result.get("usage", {}),
            latency_ms=result.get("metrics", {}).get("latencyMs"),
            trace=result.get("trace"),
            arguments=arguments_for(routed.model),
            attempts=routed.attempts,
            fallbacks=routed.fallbacks,
        )

    def invoke_routed(
        self,
        operation: Callable[..., Any],
        route: Route,
        arguments_for: Callable[[str], dict[str, Any]],
        *,
        deadline: Deadline | None = None,
    ) -> Routed[Any]:
        """:func:`kit_runtime.routing.invoke_routed` with this service's budget and backoff
        (``operation``: ``converse``, or a stream opener that reads up to the first byte)."""
        return invoke_routed(
            operation,
            route,
            arguments_for,
            deadline=deadline or self.deadline(),
            budget=self.settings.budget,
            sleep=self._sleep,
            rand=self._rand,
        )

    def stream(
        self, request: ChatRequest, *, deadline: Deadline | None = None
    ) -> Iterator[str | ChatResponse]:
        """Answer with ConverseStream: text deltas as they arrive, then the full response.

        Opening the stream, up to its first text delta, follows the same retries and time
        budget as :meth:`chat`: an error before the first delta (an HTTP error or an error
        event of the stream, botocore's ``EventStreamError``) is retried like Converse's and
        raises before anything is yielded, so the caller can still answer with a status. An
        error after the first delta raises after the deltas so far and is never retried (the
        caller has already shown them).
        """
        self.check_limits(request)
        chosen = self.choose_guardrail(request.guardrail)
        route = self.route_request(request)
        self.check_content(request, route.model)

        def arguments_for(model_id: str) -> dict[str, Any]:
            return self.converse_arguments(request, model_id, route.tier, guardrail=chosen.ref)

        # Opening the stream up to its first delta is one attempt: before it, retries and the
        # chain's fallbacks apply as for Converse; after it, nothing is retried.
        routed = self.invoke_routed(
            partial(open_until_first_delta, self.client.converse_stream),
            route,
            arguments_for,
            deadline=deadline,
        )
        events = routed.result
        model_id, tier = routed.model, route.tier
        parts: list[str] = []
        stop_reason, usage, latency, trace = "", {}, None, None
        with bedrock_errors():
            for event in events:
                if "contentBlockDelta" in event:
                    text = event["contentBlockDelta"]["delta"].get("text", "")
                    parts.append(text)
                    yield text
                elif "messageStop" in event:
                    stop_reason = event["messageStop"].get("stopReason", "")
                elif "metadata" in event:
                    usage = event["metadata"].get("usage", {})
                    latency = event["metadata"].get("metrics", {}).get("latencyMs")
                    trace = event["metadata"].get("trace")
        yield named_guardrail(
            self._response(
                model_id,
                tier,
                text="".join(parts),
                stop_reason=stop_reason,
                usage=usage,
                latency_ms=latency,
                trace=trace,
                arguments=arguments_for(model_id),
                attempts=routed.attempts,
                fallbacks=routed.fallbacks,
            ),
            chosen.name,
        )

    def _response(
        self,
        model_id: str,
        tier: str | None,
        *,
        text: str,
        stop_reason: str,
        usage: dict[str, Any],
        latency_ms: int | None,
        trace: dict[str, Any] | None = None,
        arguments: dict[str, Any] | None = None,
        attempts: int = 1,
        fallbacks: int = 0,
    ) -> ChatResponse:
        input_tokens = int(usage.get("inputTokens", 0))
        output_tokens = int(usage.get("outputTokens", 0))
        cache_read = int(usage.get("cacheReadInputTokens", 0))
        cache_write = int(usage.get("cacheWriteInputTokens", 0))
        chosen = options.sent(arguments)
        guardrail = verdict(trace, stop_reason)
        return ChatResponse(
            text=text,
            stop_reason=stop_reason,
            model=model_id,
            tier=tier,
            usage=Usage(
                input_tokens=input_tokens,
                output_tokens=output_tokens,
                total_tokens=int(
                    usage.get(
                        "totalTokens", input_tokens + output_tokens + cache_read + cache_write
                    )
                ),
                cache_read_input_tokens=cache_read,
                cache_write_input_tokens=cache_write,
            ),
            cost=request_cost(
                self.prices(model_id),
                input_tokens,
                output_tokens,
                cache_read_tokens=cache_read,
                cache_write_tokens=cache_write,
                tier=options.tier_pricing(self.facts(model_id), chosen.service_tier),
            ),
            guardrail=guardrail,
            guardrail_intervened=guardrail.intervened,
            latency_ms=latency_ms,
            latency=chosen.latency,  # type: ignore[arg-type]
            service_tier=chosen.service_tier,
            attempts=attempts,
            fallbacks=fallbacks,
        )


def stage_chat_service() -> ChatService:
    """The stage's chat service: its settings (``KIT_SETTINGS``), the catalog facts shipped in
    the asset and a botocore client; each chat function builds it once per environment."""
    from kit_runtime.bedrock import runtime_client
    from kit_runtime.settings import load_chat_settings, load_runtime_catalog

    settings = load_chat_settings()
    return ChatService(settings, load_runtime_catalog(), runtime_client(settings.budget))
