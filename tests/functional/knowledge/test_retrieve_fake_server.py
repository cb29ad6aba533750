"""The local Retrieve speaks the service's wire protocol to real boto3 and refuses what it does."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from tests.fakes import FakeBedrock, Reply
from tests.fakes.knowledge_corpus import Chunk

KB = "KBFAKE0001"
CORPUS = [
    Chunk("alpha beta", "s3://b/1.md", {"team": "a", "year": 2020}),
    Chunk("alpha gamma", "s3://b/2.md", {"team": "b"}),
    Chunk("delta", "s3://b/3.md", {"year": 2024, "tags": ["x", "yz"]}),
]


@pytest.fixture
def client(bedrock_server: FakeBedrock) -> Iterator[Any]:
    bedrock_server.reset()
    bedrock_server.add_knowledge_base(KB, CORPUS)
    # Client-side validation off: the server's own checks are under test
    yield boto3.client(
        "bedrock-agent-runtime",
        endpoint_url=bedrock_server.endpoint_url,
        region_name="us-east-1",
        aws_access_key_id="x",
        aws_secret_access_key="y",
        config=Config(parameter_validation=False, retries={"total_max_attempts": 1}),
    )


def uris(client: Any, wanted: dict[str, Any] | None = None, query: str = "alpha") -> list[str]:
    search: dict[str, Any] = {"numberOfResults": 10}
    if wanted is not None:
        search["filter"] = wanted
    got = client.retrieve(
        knowledgeBaseId=KB,
        retrievalQuery={"text": query},
        retrievalConfiguration={"vectorSearchConfiguration": search},
    )
    return [r["location"]["s3Location"]["uri"] for r in got["retrievalResults"]]


def test_results_are_ranked_by_shared_words_then_insertion(client: Any) -> None:
    assert uris(client, query="alpha gamma") == ["s3://b/2.md", "s3://b/1.md", "s3://b/3.md"]


@pytest.mark.parametrize(
    ("wanted", "expected"),
    [
        ({"notEquals": {"key": "team", "value": "a"}}, ["s3://b/2.md", "s3://b/3.md"]),
        ({"notIn": {"key": "team", "value": ["a"]}}, ["s3://b/2.md"]),
        ({"greaterThan": {"key": "year", "value": 2020}}, ["s3://b/3.md"]),
        ({"equals": {"key": "year", "value": "2020"}}, []),
        ({"stringContains": {"key": "tags", "value": "z"}}, ["s3://b/3.md"]),
        ({"listContains": {"key": "tags", "value": "x"}}, ["s3://b/3.md"]),
        ({"equals": {"key": "Team", "value": "a"}}, []),
        (
            {
                "orAll": [
                    {"equals": {"key": "team", "value": "a"}},
                    {"in": {"key": "year", "value": [2024]}},
                ]
            },
            ["s3://b/1.md", "s3://b/3.md"],
        ),
    ],
)
def test_filters_are_evaluated(client: Any, wanted: dict[str, Any], expected: list[str]) -> None:
    assert uris(client, wanted) == expected


@pytest.mark.parametrize(
    "wanted",
    [
        {"andAll": [{"equals": {"key": "team", "value": "a"}}]},
        {"equals": {"key": "team", "value": "a"}, "notEquals": {"key": "team", "value": "b"}},
        {"in": {"key": "team", "value": "a"}},
        {"greaterThan": {"key": "year", "value": "2020"}},
        {"equals": {"key": "", "value": "a"}},
    ],
)
def test_a_filter_the_service_refuses_is_a_validation_exception(
    client: Any, wanted: dict[str, Any]
) -> None:
    with pytest.raises(ClientError) as raised:
        uris(client, wanted)
    assert raised.value.response["Error"]["Code"] == "ValidationException"
    assert raised.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400


def test_an_unknown_knowledge_base_is_not_found(client: Any) -> None:
    with pytest.raises(ClientError) as raised:
        client.retrieve(knowledgeBaseId="KBMISSING1", retrievalQuery={"text": "q"})
    assert raised.value.response["Error"]["Code"] == "ResourceNotFoundException"


def test_scripted_errors_come_first_then_the_corpus_answers(
    client: Any, bedrock_server: FakeBedrock
) -> None:
    bedrock_server.script_retrieve(Reply.throttle(times=2))
    for _ in range(2):
        with pytest.raises(ClientError) as raised:
            uris(client)
        assert raised.value.response["Error"]["Code"] == "ThrottlingException"
    assert uris(client)
    assert [r.operation for r in bedrock_server.requests] == ["Retrieve"] * 3
