"""A local stand-in for a deployed stage: CloudFormation's outputs and a SigV4-checking API.

:class:`SignedFront` plays API Gateway with IAM auth in front of the real chat handler: it
recomputes each request's SigV4 signature with botocore's signer from the test credentials and
answers 403 in the kit's error shape when the ``Authorization`` header is missing or differs;
signed requests reach :func:`handlers.chat.handler` (through :class:`tests.support.chat_api.Api`)
as a REST proxy event, the handler calling the local Bedrock wire server. Given a
``stream_port``, signed ``POST /chat/stream`` requests are proxied to the streaming ASGI app
served there (:func:`tests.support.serve_local.asgi_on_localhost`) and its answer is passed on
chunk by chunk as it arrives, as API Gateway's response streaming does; each chunk is recorded
with the time it was sent on (:attr:`SignedFront.streamed`), before it is written, so the record
is there by the time the caller has the chunk.

:class:`FakeCloudFormation` answers ``DescribeStacks`` with the outputs it is given and records
the region each call was signed for (point a client at it with
``AWS_ENDPOINT_URL_CLOUDFORMATION``).
"""

from __future__ import annotations

import http.client
import json
import os
import re
import subprocess
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from tests.support.chat_api import Api, make_service
from tests.support.local_server import LocalServer

ROOT = Path(__file__).resolve().parents[2]
ACCESS_KEY = "AKIACLIENTTESTKEY000"
SECRET_KEY = "client-test-secret"
SESSION_TOKEN = "client-test-session-token"

_AUTH = re.compile(
    r"^AWS4-HMAC-SHA256 Credential=(?P<key>[^/]+)/(?P<date>\d{8})/(?P<region>[^/]+)/"
    r"(?P<service>[^/]+)/aws4_request, SignedHeaders=(?P<signed>[^,]+), "
    r"Signature=(?P<sig>[0-9a-f]+)$"
)
_SIGV4_TIMESTAMP = "%Y%m%dT%H%M%SZ"


def credentials_env() -> dict[str, str]:
    """Environment variables giving a child (or botocore) the test credentials, nothing else."""
    return {
        "AWS_ACCESS_KEY_ID": ACCESS_KEY,
        "AWS_SECRET_ACCESS_KEY": SECRET_KEY,
        "AWS_SESSION_TOKEN": SESSION_TOKEN,
        "AWS_EC2_METADATA_DISABLED": "true",
        "AWS_MAX_ATTEMPTS": "1",
    }


def signature_problem(
    method: str, url: str, headers: dict[str, str], body: bytes, *, region: str, service: str
) -> str | None:
    """Why the request's SigV4 signature is not the one botocore computes, or ``None``.

    The signature is recomputed over the headers the request says it signed, with the test
    credentials, the request's own ``x-amz-date`` and the expected ``region`` and ``service``.
    """
    lower = {k.lower(): v for k, v in headers.items()}
    match = _AUTH.match(lower.get("authorization", ""))
    if match is None:
        return "missing or malformed Authorization header"
    if match["key"] != ACCESS_KEY:
        return f"signed with access key {match['key']}, not the caller's"
    if (match["region"], match["service"]) != (region, service):
        return f"signed for {match['region']}/{match['service']}, expected {region}/{service}"
    stamp = lower.get("x-amz-date", "")
    try:
        when = datetime.strptime(stamp, _SIGV4_TIMESTAMP).replace(tzinfo=UTC)
    except ValueError:
        return f"bad x-amz-date {stamp!r}"
    if abs(datetime.now(UTC) - when) > timedelta(minutes=5):
        return "x-amz-date is more than 5 minutes off"
    if lower.get("x-amz-security-token") != SESSION_TOKEN:
        return "the session token is missing"
    signed = match["signed"].split(";")
    if "host" not in signed:
        return "host is not signed"
    if any(h != "host" and h not in lower for h in signed):
        return "a signed header is missing"
    request = AWSRequest(
        method=method, url=url, data=body, headers={h: lower[h] for h in signed if h in lower}
    )
    request.context["timestamp"] = stamp
    signer = SigV4Auth(Credentials(ACCESS_KEY, SECRET_KEY, SESSION_TOKEN), service, region)
    canonical = signer.canonical_request(request)
    expected = signer.signature(signer.string_to_sign(request, canonical), request)
    return None if expected == match["sig"] else "signature does not match"


def profile_environment(
    directory: Path, *, profile: str, cloudformation_url: str
) -> dict[str, str]:
    """The environment of a ``make`` child that signs with ``profile`` (a credentials file in
    ``directory`` holding the test credentials) and asks the fake CloudFormation; nothing else
    of the caller's AWS settings leaks in."""
    credentials = directory / "credentials"
    credentials.write_text(
        f"[{profile}]\naws_access_key_id = {ACCESS_KEY}\n"
        f"aws_secret_access_key = {SECRET_KEY}\naws_session_token = {SESSION_TOKEN}\n"
    )
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith("AWS_") and key not in ("MAKEFLAGS", "MFLAGS")
    }
    env.update(
        AWS_ENDPOINT_URL_CLOUDFORMATION=cloudformation_url,
        AWS_SHARED_CREDENTIALS_FILE=str(credentials),
        AWS_CONFIG_FILE=str(directory / "no-config"),
    )
    return env


def make_call(variables: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """``make -s call <variables>`` from the repository root, as a user types it."""
    return subprocess.run(
        ["make", "-s", "call", *variables],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def serve_streams(api: Api) -> None:
    """Let the streaming app (``handlers.chat_stream``) serve ``api``'s current settings over
    the same local Bedrock (after ``api.use(...)``, so both routes route alike)."""
    from handlers.chat_stream import use_service

    use_service(make_service(api.server, api.settings))


@dataclass(frozen=True)
class Seen:
    """One request the front received and what it did with it."""

    method: str
    path: str
    status: int
    refused: str | None


STREAM_ROUTE = "/chat/stream"
_PASSED_HEADERS = ("content-type", "cache-control", "retry-after")


class SignedFront(LocalServer):
    """API Gateway with IAM auth, for one stage (``/<stage>/...``), in front of ``api``; with
    ``stream_port``, ``POST /chat/stream`` goes to the ASGI app listening there."""

    def __init__(
        self, api: Api, *, stage: str, region: str, stream_port: int | None = None
    ) -> None:
        self.api = api
        self.stage = stage
        self.region = region
        self.stream_port = stream_port
        self.seen: list[Seen] = []
        self.streamed: list[tuple[float, bytes]] = []
        """Each chunk of a streamed answer with the ``time.monotonic()`` it was sent on (taken
        just before the write, so no caller can have the chunk before it is listed here)."""
        super().__init__(_front_handler(self))

    @property
    def url(self) -> str:
        """The ``ApiUrl`` output a deployed stage would have."""
        return f"{self.endpoint_url}/{self.stage}/"


def _front_handler(front: SignedFront) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def _answer(self) -> None:
            body = self.rfile.read(int(self.headers.get("content-length") or 0))
            url = f"http://{self.headers.get('host', '')}{self.path}"
            headers = dict(self.headers.items())
            problem = signature_problem(
                self.command, url, headers, body, region=front.region, service="execute-api"
            )
            path = urlsplit(self.path).path
            prefix = f"/{front.stage}"
            if problem is not None:
                status, payload = 403, _gateway_error("INVALID_SIGNATURE", problem)
            elif not path.startswith(prefix + "/"):
                status, payload = 403, _gateway_error("MISSING_AUTHENTICATION_TOKEN", "no route")
            elif front.stream_port is not None and path[len(prefix) :] == STREAM_ROUTE:
                self._stream(front.stream_port, path, headers, body)
                return
            else:
                reply = front.api.call(
                    self.command,
                    path[len(prefix) :],
                    raw=body.decode() if body else None,
                    headers={k.lower(): v for k, v in headers.items()},
                )
                status, payload = reply.status, reply.body
            front.seen.append(Seen(self.command, path, status, problem))
            data = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def _stream(self, port: int, path: str, headers: dict[str, str], body: bytes) -> None:
            # Forward the request; pass the answer on as each piece of it arrives. The front
            # speaks HTTP/1.0 (no length: the body ends when the connection closes).
            upstream = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            sent = {k: v for k, v in headers.items() if k.lower() == "content-type"}
            upstream.request(self.command, STREAM_ROUTE, body=body, headers=sent)
            response = upstream.getresponse()
            # Seen once the status is known: the caller may be done before the body ends.
            front.seen.append(Seen(self.command, path, response.status, None))
            self.send_response(response.status)
            for name in _PASSED_HEADERS:
                value = response.getheader(name)
                if value is not None:
                    self.send_header(name, value)
            self.end_headers()
            self.wfile.flush()
            try:
                while chunk := response.read1(65536):
                    # Recorded before it is written: once the caller has a chunk, a test reading
                    # `streamed` must find it there, even if this thread is not scheduled again
                    # before the caller (done at the final event) returns or exits.
                    front.streamed.append((time.monotonic(), chunk))
                    self.wfile.write(chunk)
                    self.wfile.flush()
            finally:
                upstream.close()

        do_GET = do_POST = _answer

        def log_message(self, format: str, *args: object) -> None:  # noqa: A002
            """Silence the per-request log line."""

    return Handler


def _gateway_error(code: str, message: str) -> dict[str, Any]:
    # The shape of the kit's gateway responses (stacks/api/rest_api.py ERROR_TEMPLATE).
    return {"error": {"code": code, "message": message}, "request_id": "front"}


class FakeCloudFormation(LocalServer):
    """``DescribeStacks`` for the stacks it is given (name -> outputs); others do not exist."""

    def __init__(self, stacks: dict[str, dict[str, str]]) -> None:
        self.stacks = stacks
        self.regions: list[str] = []
        super().__init__(_cloudformation_handler(self))


def _cloudformation_handler(fake: FakeCloudFormation) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802
            length = int(self.headers.get("content-length") or 0)
            form = dict(parse_qsl(self.rfile.read(length).decode()))
            match = _AUTH.match(self.headers.get("authorization", ""))
            fake.regions.append(match["region"] if match else "")
            name = form.get("StackName", "")
            if form.get("Action") != "DescribeStacks" or name not in fake.stacks:
                text = (
                    "<ErrorResponse><Error><Type>Sender</Type><Code>ValidationError</Code>"
                    f"<Message>Stack with id {name} does not exist</Message></Error>"
                    "<RequestId>fake</RequestId></ErrorResponse>"
                )
                self._send(400, text)
                return
            outputs = "".join(
                f"<member><OutputKey>{k}</OutputKey><OutputValue>{v}</OutputValue></member>"
                for k, v in fake.stacks[name].items()
            )
            self._send(
                200,
                '<DescribeStacksResponse xmlns="http://cloudformation.amazonaws.com/doc/2010-05-15/">'
                f"<DescribeStacksResult><Stacks><member><StackName>{name}</StackName>"
                "<StackId>arn:aws:cloudformation:xx:111111111111:stack/x/1</StackId>"
                "<CreationTime>2026-11-30T00:00:00Z</CreationTime>"
                "<StackStatus>CREATE_COMPLETE</StackStatus>"
                f"<Outputs>{outputs}</Outputs></member></Stacks></DescribeStacksResult>"
                "<ResponseMetadata><RequestId>fake</RequestId></ResponseMetadata>"
                "</DescribeStacksResponse>",
            )

        def _send(self, status: int, text: str) -> None:
            data = text.encode()
            self.send_response(status)
            self.send_header("content-type", "text/xml")
            self.send_header("content-length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: object) -> None:  # noqa: A002
            """Silence the per-request log line."""

    return Handler
