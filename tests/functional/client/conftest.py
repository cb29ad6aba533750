"""A deployed stage played locally: test-owned config, CloudFormation outputs, a signed front."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

from stacks.catalog import load_catalog
from stacks.tools.client import api_stack_name
from tests.stages import basic_stage
from tests.support.chat_api import Api
from tests.support.serve_local import asgi_on_localhost
from tests.support.signed_front import (
    FakeCloudFormation,
    SignedFront,
    credentials_env,
    serve_streams,
)

STAGE = "client-test"


@dataclass
class Deployed:
    """What a test needs to call the local stage: its config file, region and servers."""

    cdk_json: Path
    region: str
    front: SignedFront
    cloudformation: FakeCloudFormation
    api: Api

    def env(self) -> dict[str, str]:
        """Environment for the client: test credentials, CloudFormation sent to the fake."""
        return {
            **credentials_env(),
            "AWS_ENDPOINT_URL_CLOUDFORMATION": self.cloudformation.endpoint_url,
            # A region the client must not use: the stage's own comes from its config.
            "AWS_DEFAULT_REGION": "ap-southeast-2"
            if self.region != "ap-southeast-2"
            else "eu-west-1",
        }


@pytest.fixture
def deployed(chat_api: Api, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Deployed]:
    """A test-owned stage whose Api stack's ApiUrl points at a signed front over the handler."""
    with _deployed(chat_api, tmp_path, monkeypatch, stream_port=None) as stage:
        yield stage


@pytest.fixture(scope="module")
def stream_app_port() -> Iterator[int]:
    """The streaming function's ASGI app (``handlers.chat_stream``) under uvicorn on localhost."""
    from handlers.chat_stream import app

    with asgi_on_localhost(app) as port:
        yield port


@pytest.fixture
def deployed_streaming(
    chat_api: Api, stream_app_port: int, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Deployed]:
    """:func:`deployed` whose front also streams ``POST /chat/stream`` from the ASGI app,
    which serves ``chat_api``'s settings (call :func:`serve_streams` after ``chat_api.use``)."""
    from handlers.chat_stream import use_service

    serve_streams(chat_api)
    with _deployed(chat_api, tmp_path, monkeypatch, stream_port=stream_app_port) as stage:
        yield stage
    use_service(None)


@contextmanager
def _deployed(
    chat_api: Api, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, *, stream_port: int | None
) -> Iterator[Deployed]:
    config = basic_stage(load_catalog())
    cdk_json = tmp_path / "cdk.json"
    cdk_json.write_text(json.dumps({"context": {"stages": {STAGE: config}}}))
    region = config["region"]
    with SignedFront(chat_api, stage=STAGE, region=region, stream_port=stream_port) as front:
        stacks = {
            api_stack_name("kit", STAGE): {"ApiUrl": front.url, "ChatUrl": front.url + "chat"}
        }
        with FakeCloudFormation(stacks) as cloudformation:
            stage = Deployed(cdk_json, region, front, cloudformation, chat_api)
            # No shared files: only what each test provides reaches botocore's chain.
            monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-config"))
            monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-credentials"))
            for name in ("AWS_PROFILE", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
                monkeypatch.delenv(name, raising=False)
            for key, value in stage.env().items():
                monkeypatch.setenv(key, value)
            yield stage
