"""Functional fixtures: the real handlers, real botocore, the local Bedrock wire server."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.fakes import FakeBedrock
from tests.support.chat_api import Api, catalog, make_service, make_settings
from tests.support.model_options import rules_for


@pytest.fixture(scope="session")
def bedrock_server() -> Iterator[FakeBedrock]:
    with FakeBedrock() as server:
        yield server


@pytest.fixture
def chat_api(bedrock_server: FakeBedrock) -> Iterator[Api]:
    """The chat handler serving test settings over the local server."""
    from handlers.chat import use_service

    bedrock_server.reset()
    settings = make_settings()
    # Bedrock's per-model option checks, from the catalog: a test catches the kit sending an
    # option (performanceConfig, serviceTier, cachePoint) to a model that rejects it.
    bedrock_server.set_rules(rules_for(settings, catalog()))
    use_service(make_service(bedrock_server, settings))
    yield Api(bedrock_server, settings)
    use_service(None)
