"""Knowledge fixtures: the real /retrieve and /rag handlers over the local Bedrock server."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.fakes import FakeBedrock
from tests.support.knowledge_runtime import (
    DOCS_ID,
    TENANTS_ID,
    KnowledgeApi,
    docs_corpus,
    rag_settings,
    tenant_corpus,
)


@pytest.fixture
def knowledge_api(bedrock_server: FakeBedrock) -> Iterator[KnowledgeApi]:
    """Both handlers serving test settings; a shared and a multi-tenant knowledge base."""
    from handlers.rag import use_service as use_rag
    from handlers.retrieve import use_service as use_retrieve

    bedrock_server.reset()
    bedrock_server.add_knowledge_base(DOCS_ID, docs_corpus())
    bedrock_server.add_knowledge_base(TENANTS_ID, tenant_corpus())
    api = KnowledgeApi(bedrock_server, rag_settings())
    api.use(api.rag_settings)
    yield api
    use_rag(None)
    use_retrieve(None)
