"""The settings a stack writes drive the real handler: the contract holds end to end.

The chat function's ``KIT_SETTINGS`` is read from a synthesized test stage, its deploy-time
tokens replaced by ARNs of the longest shape they can take, and parsed by the runtime's own
loader from the environment, as in Lambda.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest

from tests.fakes import FakeBedrock, Reply
from tests.support.chat_api import Api, catalog, client_for
from tests.support.synth import Synthesized
from tests.support.templates import render

ACCOUNT = "123456789012"


def _deployed_value(token: str) -> str:
    """What a ``${Output:...}`` reference resolves to after deploy (a realistic value)."""
    if "Version" in token:
        return "7"
    if "Guardrail" in token:
        return f"arn:aws:bedrock:us-east-1:{ACCOUNT}:guardrail/abcdefgh1234"
    suffix = abs(hash(token)) % 10**12
    return f"arn:aws:bedrock:us-east-1:{ACCOUNT}:application-inference-profile/{suffix:012d}"


def settings_text(stage: Synthesized) -> str:
    function = next(
        f
        for f in stage.resources("AWS::Lambda::Function", "Api").values()
        if f["Properties"]["Handler"] == "handlers.chat.handler"
    )
    rendered = render(function["Properties"]["Environment"]["Variables"]["KIT_SETTINGS"])
    return re.sub(r"\$\{[^}]*\}", lambda m: _deployed_value(m.group(0)), rendered)


@pytest.fixture
def deployed_api(
    stage: Synthesized, bedrock_server: FakeBedrock, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Api]:
    from handlers.chat import use_service
    from kit_runtime.chat import ChatService
    from kit_runtime.settings import load_chat_settings

    # Given the environment variable exactly as the stack wrote it (tokens deployed)
    monkeypatch.setenv("KIT_SETTINGS", settings_text(stage))
    load_chat_settings.cache_clear()
    settings = load_chat_settings()
    bedrock_server.reset()
    use_service(ChatService(settings, catalog(), client_for(bedrock_server, settings)))
    yield Api(bedrock_server, settings)
    use_service(None)
    load_chat_settings.cache_clear()


def test_every_tier_answers_through_its_profile_and_the_pinned_guardrail(
    deployed_api: Api, stage: Synthesized
) -> None:
    settings = deployed_api.settings
    # Then the settings carry the stage's facts
    assert settings.stage == stage.name
    assert dict(settings.tiers) == stage.config.tiers.primaries()
    assert dict(settings.fallbacks) == stage.config.tiers.fallbacks()
    for tier, model_id in settings.tiers.items():
        # When a client asks each tier
        deployed_api.server.enqueue(Reply.text("ok", input_tokens=10, output_tokens=2))
        got = deployed_api.chat({"tier": tier, "messages": [{"role": "user", "content": "hi"}]})
        # Then the model answers through its application profile with the pinned guardrail
        assert got.status == 200, got.body
        sent = deployed_api.server.last_request
        assert sent.model_id == settings.models[model_id].invoke_arn
        assert sent.body["guardrailConfig"]["guardrailVersion"] == "7"
        # And the cost uses the catalog price for the way the model is reached
        facts = catalog().models[model_id].prices_for(settings.models[model_id].profile)
        expected = (10 * facts.input_per_mtok + 2 * facts.output_per_mtok) / 1_000_000
        assert got.body["cost"]["total_usd"] == pytest.approx(expected)


def test_the_stage_limits_are_enforced(deployed_api: Api) -> None:
    limit = deployed_api.settings.limits.max_messages
    turns: list[dict[str, Any]] = [
        {"role": "user" if i % 2 == 0 else "assistant", "content": "x"} for i in range(limit + 1)
    ]
    if len(turns) % 2 == 0:
        turns.append({"role": "user", "content": "x"})
    got = deployed_api.chat({"messages": turns})
    assert 400 <= got.status < 500 and got.body["error"]["code"]
