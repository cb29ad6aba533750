"""Helpers for the knowledge runtime tests: test-owned settings, a multi-tenant corpus, callers.

Settings are built here (never read from a shipped stage); the chat half reuses the chat
tests' settings, whose models are picked generically from the catalog.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from functools import cache
from typing import Any

from kit_runtime.bedrock import agent_runtime_client
from kit_runtime.contracts.chat import TimeBudget
from kit_runtime.contracts.knowledge import RagSettings, RetrieveSettings
from kit_runtime.knowledge import KnowledgeService, RagService
from tests.fakes import FakeBedrock
from tests.fakes.knowledge_corpus import Chunk
from tests.support.chat_api import (
    BUDGET,
    LIMITS,
    LambdaContext,
    Reply,
    call_route,
    catalog,
    client_for,
    make_settings,
)

ACCOUNT = "123456789012"
DOCS_ID = "KBDOCS0001"
TENANTS_ID = "KBTENANT01"
"""Knowledge base ids of the service's shape (10 alphanumerics)."""

ALICE = f"arn:aws:iam::{ACCOUNT}:user/alice"
BOB = f"arn:aws:iam::{ACCOUNT}:user/bob"
SUPPORT_ROLE = f"arn:aws:sts::{ACCOUNT}:assumed-role/Support"
"""A tenant that is an assumed role, as the kit normalizes it (no session name)."""
TENANT_KEY = "tenant"

KNOWLEDGE_BASES: dict[str, Any] = {
    "docs": {"id": DOCS_ID, "tenant_key": None, "default_results": 3, "max_results": 8},
    "tenants": {
        "id": TENANTS_ID,
        "tenant_key": TENANT_KEY,
        "default_results": 4,
        "max_results": 20,
    },
}


TIGHT_BUDGET: dict[str, Any] = {
    "integration_timeout_ms": 1_500,
    "safety_margin_ms": 100,
    "connect_timeout_seconds": 0.1,
    "read_timeout_seconds": 5,
}
"""A budget shorter than a slow answer (its read timeout longer than the budget itself)."""


def retrieve_settings(**overrides: Any) -> RetrieveSettings:
    """Retrieve settings for two knowledge bases: ``docs`` (shared) and ``tenants`` (isolated)."""
    doc: dict[str, Any] = {
        "stage": "test",
        "knowledge_bases": KNOWLEDGE_BASES,
        "limits": {"max_body_bytes": LIMITS["max_body_bytes"], "max_query_chars": 400},
        "budget": dict(BUDGET),
        "log_prompts": False,
    }
    for key, value in overrides.items():
        if isinstance(value, dict) and isinstance(doc.get(key), dict):
            doc[key] = {**doc[key], **value}
        else:
            doc[key] = value
    return RetrieveSettings.model_validate(doc)


def rag_settings(*, grounding_check: bool = False, **overrides: Any) -> RagSettings:
    """RAG settings: :func:`retrieve_settings` and the chat tests' settings, one budget."""
    retrieval = retrieve_settings(**overrides)
    chat = make_settings(budget=retrieval.budget.model_dump(), log_prompts=retrieval.log_prompts)
    return RagSettings(retrieval=retrieval, chat=chat, grounding_check=grounding_check)


@cache
def _agent_client(endpoint_url: str, budget: TimeBudget) -> Any:
    return agent_runtime_client(
        budget,
        endpoint_url=endpoint_url,
        region_name="us-east-1",
        aws_access_key_id="test",
        aws_secret_access_key="test",
    )


def agent_client_for(server: FakeBedrock, budget: TimeBudget) -> Any:
    """A production-configured ``bedrock-agent-runtime`` client pointed at the local server."""
    return _agent_client(server.endpoint_url, budget)


def docs_corpus() -> list[Chunk]:
    """A shared knowledge base: a few documents with numeric, list and string metadata."""
    return [
        Chunk(
            "Refunds are paid within 14 days of a return.",
            "s3://docs/policies/refunds.md",
            {"year": 2024, "tags": ["billing", "policy"], "team": "finance"},
        ),
        Chunk(
            "Passwords rotate every 90 days; refunds never reset them.",
            "s3://docs/security/passwords.md",
            {"year": 2023, "tags": ["security"], "team": "it"},
        ),
        Chunk(
            "The cafeteria opens at 8 and closes at 15.",
            "s3://docs/facilities/cafeteria.md",
            {"year": 2022, "tags": ["facilities"], "team": "ops"},
        ),
    ]


OWNERS = (ALICE, BOB, SUPPORT_ROLE)


def signed_as(owner: str, session: str = "session-1") -> str:
    """The ``userArn`` API Gateway reports for a request of ``owner`` (a role signs as one of
    its sessions)."""
    return f"{owner}/{session}" if ":assumed-role/" in owner else owner


def tenant_corpus() -> list[Chunk]:
    """Chunks of several tenants, plus traps: a chunk without the tenant key, one whose tenant
    is a number, one carrying Alice's value under a differently cased key."""
    chunks = []
    for owner in OWNERS:
        name = owner.rsplit("/", 1)[-1].lower()
        for topic, year in (("salary", 2024), ("contract", 2023), ("holiday", 2022)):
            chunks.append(
                Chunk(
                    f"The {topic} record of {name}: private {topic} notes.",
                    f"s3://tenants/{name}/{topic}.md",
                    {TENANT_KEY: owner, "year": year, "tags": [topic, name], "title": topic},
                )
            )
    chunks += [
        Chunk("An orphan salary note with no tenant.", "s3://tenants/orphan.md", {"year": 2024}),
        Chunk(
            "A salary note whose tenant is a number.",
            "s3://tenants/number.md",
            {TENANT_KEY: 12345, "year": 2024},
        ),
        Chunk(
            "A salary note of bob filed under a cased key.",
            "s3://tenants/cased.md",
            {TENANT_KEY: BOB, "Tenant": ALICE, "TENANT": ALICE, "year": 2024},
        ),
    ]
    return chunks


def owner_of(uri: str) -> str:
    """The tenant of a corpus chunk, by its URI."""
    chunk = next(c for c in tenant_corpus() if c.uri == uri)
    return str(chunk.metadata.get(TENANT_KEY))


@dataclass
class KnowledgeApi:
    """Calls the real ``/retrieve`` and ``/rag`` handlers over the local server."""

    server: FakeBedrock
    rag_settings: RagSettings

    @property
    def retrieve_settings(self) -> RetrieveSettings:
        return self.rag_settings.retrieval

    def use(self, settings: RagSettings) -> None:
        """Serve both routes with ``settings`` (same local server and corpus)."""
        from handlers.rag import use_service as use_rag
        from handlers.retrieve import use_service as use_retrieve

        self.rag_settings = settings
        budget = settings.retrieval.budget
        agent = agent_client_for(self.server, budget)
        use_retrieve(KnowledgeService(settings.retrieval, agent))
        use_rag(RagService(settings, catalog(), client_for(self.server, settings.chat), agent))

    def call(
        self,
        method: str,
        path: str,
        body: Any = None,
        *,
        raw: str | None = None,
        headers: dict[str, str] | None = None,
        caller: str | None = ALICE,
        request_time_epoch_ms: int | None = None,
        context: LambdaContext | None = None,
    ) -> Reply:
        """``method path`` through the route's handler, signed by ``caller`` (an IAM ARN as
        API Gateway reports it in ``requestContext.identity.userArn``; ``None``: unsigned)."""
        from handlers.rag import handler as rag_handler
        from handlers.retrieve import handler as retrieve_handler

        handler = rag_handler if path.rstrip("/") == "/rag" else retrieve_handler
        return call_route(
            handler,
            method,
            path,
            body,
            raw=raw,
            headers=headers,
            caller=caller,
            request_time_epoch_ms=request_time_epoch_ms,
            context=context,
        )

    def retrieve(self, body: Any, **kwargs: Any) -> Reply:
        return self.call("POST", "/retrieve", body, **kwargs)

    def rag(self, body: Any, **kwargs: Any) -> Reply:
        return self.call("POST", "/rag", body, **kwargs)

    def timed(self, path: str, body: Any) -> tuple[Reply, float]:
        """``POST path`` with ``body``: the reply and how long it took, in milliseconds."""
        started = time.monotonic()
        reply = self.call("POST", path, body)
        return reply, (time.monotonic() - started) * 1000

    def retrievals(self) -> list[dict[str, Any]]:
        """The bodies of every Retrieve the server received."""
        return [r.body for r in self.server.requests if r.operation == "Retrieve"]

    def conversations(self) -> list[dict[str, Any]]:
        """The bodies of every Converse the server received."""
        return [r.body for r in self.server.requests if r.operation == "Converse"]
