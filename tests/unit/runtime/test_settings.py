"""The chat function's inputs fail with a message that says how to fix them."""

from __future__ import annotations

from pathlib import Path

import pytest

from kit_runtime import settings
from kit_runtime.contracts.chat import ENV_VAR
from tests.support.chat_api import make_settings


def test_settings_are_parsed_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    expected = make_settings()
    monkeypatch.setenv(ENV_VAR, expected.model_dump_json())
    settings.load_chat_settings.cache_clear()
    try:
        assert settings.load_chat_settings() == expected
    finally:
        settings.load_chat_settings.cache_clear()


def test_missing_settings_say_the_stack_writes_them(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(ENV_VAR, raising=False)
    settings.load_chat_settings.cache_clear()
    with pytest.raises(RuntimeError, match=ENV_VAR):
        settings.load_chat_settings()


def test_missing_catalog_facts_say_how_to_rebuild() -> None:
    missing = Path(settings.CATALOG_PATH).with_name("no-such-catalog.json")
    with pytest.raises(RuntimeError, match="make synth"):
        settings.load_runtime_catalog(missing)
