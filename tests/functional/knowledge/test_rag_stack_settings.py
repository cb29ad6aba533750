"""The settings the Api stack writes drive the real RAG handler: the contract holds end to end.

The RAG function's ``KIT_SETTINGS`` comes from the harness stack (test-owned ``knowledge``
stage, literal handles) and is parsed by the runtime's own loader from the environment.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from kit_runtime.contracts.knowledge import RagSettings
from tests.fakes import FakeBedrock, Reply
from tests.fakes.knowledge_corpus import Chunk
from tests.support.knowledge_api import knowledge_api as harness
from tests.support.knowledge_runtime import ALICE, BOB, KnowledgeApi


@pytest.fixture
def deployed(
    bedrock_server: FakeBedrock, monkeypatch: pytest.MonkeyPatch
) -> Iterator[KnowledgeApi]:
    from handlers.rag import use_service as use_rag
    from handlers.retrieve import use_service as use_retrieve
    from kit_runtime.settings import read_settings

    api = harness()
    fn = next(
        f
        for f in api.resources("AWS::Lambda::Function", "Api").values()
        if f["Properties"]["Handler"] == "handlers.rag.handler"
    )
    # Given the environment variable exactly as the stack wrote it
    monkeypatch.setenv("KIT_SETTINGS", fn["Properties"]["Environment"]["Variables"]["KIT_SETTINGS"])
    settings = read_settings(RagSettings)
    bedrock_server.reset()
    served = KnowledgeApi(bedrock_server, settings)
    served.use(settings)
    yield served
    use_rag(None)
    use_retrieve(None)


def test_every_knowledge_base_of_the_stage_answers_through_its_id(deployed: KnowledgeApi) -> None:
    settings = deployed.rag_settings
    for name, route in settings.retrieval.knowledge_bases.items():
        owner_key = route.tenant_key or "owner"
        deployed.server.add_knowledge_base(
            route.id,
            [
                Chunk(f"{name} fact for alice", f"s3://d/{name}/a.md", {owner_key: ALICE}),
                Chunk(f"{name} fact for bob", f"s3://d/{name}/b.md", {owner_key: BOB}),
            ],
        )
        deployed.server.enqueue(Reply.text(f"answer about {name} [1]"))
        # When Alice asks each knowledge base of the stage
        got = deployed.rag({"knowledge_base": name, "question": f"{name} fact"}, caller=ALICE)
        # Then it answers from that base, through its id, and a tenant base from Alice's only
        assert got.status == 200, got.body
        assert got.body["answer"] == f"answer about {name} [1]"
        assert deployed.retrievals()[-1] and deployed.server.requests[-2].model_id == route.id
        uris = {c["source_uri"] for c in got.body["citations"]}
        if route.tenant_key:
            assert uris == {f"s3://d/{name}/a.md"}
        else:
            assert uris == {f"s3://d/{name}/a.md", f"s3://d/{name}/b.md"}
    assert any(r.tenant_key for r in settings.retrieval.knowledge_bases.values())
    sent = deployed.conversations()[-1]
    assert sent["guardrailConfig"]["guardrailVersion"] == settings.chat.guardrail.version
    assert json.dumps(sent).count("Passages:") == 1
