"""Test settings with tier fallback chains (models picked generically from the catalog)."""

from __future__ import annotations

from typing import Any

from kit_runtime.contracts.chat import ChatSettings
from tests.support.chat_api import chat_model_ids, make_settings


def chained_settings(length: int = 3, **overrides: Any) -> ChatSettings:
    """Test settings whose ``fast`` tier is a chain of ``length`` text chat models (the other
    tiers keep one model each); ``overrides`` as :func:`make_settings` takes them."""
    chain = chat_model_ids(max(3, length))[:length]
    doc: dict[str, Any] = {"tiers": {"fast": chain[0]}, "fallbacks": {"fast": chain[1:]}}
    return make_settings(**{**doc, **overrides})


def fast_chain(settings: ChatSettings) -> list[str]:
    """The ``fast`` tier's models, first choice first."""
    return [settings.tiers["fast"], *settings.fallbacks.get("fast", [])]


def arn(settings: ChatSettings, model_id: str) -> str:
    """What Converse is called with for ``model_id`` (its application profile ARN)."""
    return settings.models[model_id].invoke_arn
