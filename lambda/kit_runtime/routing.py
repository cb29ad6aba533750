"""Routing with fallback: which models may answer a request, and the call that walks them.

A tier maps to an ordered chain of enabled models (``ChatSettings.tiers`` holds each first
choice, ``ChatSettings.fallbacks`` the rest). A request is tried on the first model with the
runtime's retries (:func:`kit_runtime.bedrock.invoke`); when every attempt there was refused
before the model ran (throttled, unavailable, not ready, or never sent) and the time budget
still fits an attempt, the next model of the chain is tried. A call that may have run is never
retried nor repeated elsewhere: it may have been billed.

:func:`select_route` and :func:`falls_back` are pure (the policy); :func:`invoke_routed` is the
one place the chain is walked, shared by chat, streaming (before the first byte) and RAG.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar, cast

from kit_runtime import errors
from kit_runtime.bedrock import Attempts, invoke
from kit_runtime.budget import Deadline, attempt_read_timeout
from kit_runtime.contracts.chat import ChatSettings, TimeBudget
from kit_runtime.contracts.common import TIERS, Tier

T = TypeVar("T")


@dataclass(frozen=True)
class Route:
    """The models that may answer one request, first choice first."""

    chain: tuple[str, ...]
    tier: str | None
    """The tier the chain came from; ``None`` when the request named its model."""

    @property
    def model(self) -> str:
        """The first choice."""
        return self.chain[0]

    def keeping(self, usable: Callable[[str], bool]) -> Route:
        """The route without the fallbacks ``usable`` refuses (the first choice always stays:
        a request it cannot take is refused with that model's own reason)."""
        rest = tuple(m for m in self.chain[1:] if usable(m))
        return Route((self.chain[0], *rest), self.tier)


@dataclass(frozen=True)
class Routed(Generic[T]):
    """A call's result and how the route got it."""

    result: T
    model: str
    """The model that answered."""
    attempts: int
    """Calls made across the chain (1 when the first call answered)."""
    fallbacks: int
    """The answering model's position in the chain (0: the first choice answered)."""


def tier_chain(settings: ChatSettings, tier: str) -> tuple[str, ...]:
    """The chain of ``tier``: its first choice, then its fallbacks."""
    # The request carries a plain string; the caller checked it names a tier.
    key = cast(Tier, tier)
    return (settings.tiers[key], *settings.fallbacks.get(key, ()))


def select_route(settings: ChatSettings, model: str | None, tier: str | None) -> Route:
    """The route of a request that names ``model``, or ``tier``, or neither (default tier).

    A named model answers alone, unless the stage sets ``allow_fallback_for_named_models``:
    it then continues along the first chain that lists a model after it (the default tier's
    first), from its place on, so it only falls back where the stage configured a substitute
    for it.

    Raises
    ------
    errors.UnknownModel
        ``model`` is not enabled, or ``tier`` does not exist (404 naming what is allowed).
    """
    if model is not None:
        if model not in settings.models:
            raise errors.UnknownModel(
                f"model {errors.clip(model)!r} is not enabled in stage {settings.stage!r}",
                allowed_models=sorted(settings.models),
                allowed_tiers=sorted(settings.tiers),
            )
        return Route(named_chain(settings, model), None)
    tier = tier or settings.default_tier
    if tier not in settings.tiers:
        raise errors.UnknownModel(
            f"tier {errors.clip(tier)!r} does not exist",
            allowed_tiers=sorted(settings.tiers),
            allowed_models=sorted(settings.models),
        )
    return Route(tier_chain(settings, tier), tier)


def named_chain(settings: ChatSettings, model: str) -> tuple[str, ...]:
    """The chain a request naming ``model`` may use (see :func:`select_route`)."""
    if not settings.allow_fallback_for_named_models:
        return (model,)
    order = [settings.default_tier, *(t for t in TIERS if t != settings.default_tier)]
    for tier in order:
        if tier not in settings.tiers:
            continue
        chain = tier_chain(settings, tier)
        if model in chain[:-1]:
            return chain[chain.index(model) :]
    return (model,)


def falls_back(attempts: Attempts, error: errors.KitError) -> bool:
    """Whether a failed model may hand the request to the next one in its chain.

    Only when the last attempt proves the model never ran (a refusal before it ran, or a
    request never sent): anything else may have produced (and billed) an answer, and a bad
    request fails the same on any model. A deadline error never falls back (no time left).
    """
    return attempts.never_ran and not isinstance(error, errors.DeadlineExceeded)


def invoke_routed(
    operation: Callable[..., T],
    route: Route,
    arguments_for: Callable[[str], dict[str, Any]],
    *,
    deadline: Deadline,
    budget: TimeBudget,
    sleep: Callable[[float], None] = time.sleep,
    rand: Callable[[], float] = random.random,
) -> Routed[T]:
    """Call ``operation`` for the route's models in order until one answers.

    Each model gets :func:`kit_runtime.bedrock.invoke`'s retries (jittered backoff, at most
    ``budget.max_attempts``, inside ``deadline``); the next model is tried only when
    :func:`falls_back` allows it and an attempt still fits the deadline.

    Parameters
    ----------
    operation:
        The client method (``converse``, or for a stream, a callable that opens it and reads
        up to the first content so errors before the first byte are still retried).
    route:
        The models to try (:func:`select_route`).
    arguments_for:
        The call's keyword arguments for one model id (its ARN, its ``maxTokens`` bound).

    Raises
    ------
    errors.KitError
        The last model's mapped failure (429, 503...), or 504 when no attempt fits.
    """
    made = 0
    for position, model_id in enumerate(route.chain):
        tally = Attempts()
        try:
            result = invoke(
                operation,
                arguments_for(model_id),
                deadline=deadline,
                budget=budget,
                sleep=sleep,
                rand=rand,
                attempts=tally,
            )
        except errors.KitError as error:
            made += tally.made
            last = position + 1 == len(route.chain)
            if last or not falls_back(tally, error) or not attempt_read_timeout(deadline, budget):
                raise
            continue
        return Routed(result, model_id, made + tally.made, position)
    raise AssertionError("a route has at least one model")  # pragma: no cover
