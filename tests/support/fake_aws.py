"""A local stand-in for every AWS endpoint the CDK CLI calls, recording what it asked for.

Point the CLI at it with ``AWS_ENDPOINT_URL`` and nothing leaves the machine::

    with FakeAws(account="111111111111") as aws:
        subprocess.run([...], env={**os.environ, **aws.environment()})
        aws.stack_names()  # the CloudFormation stacks the CLI asked about

It answers just enough for the CLI to reach its per-stack calls and no further:

- STS ``GetCallerIdentity`` names ``account`` (the CLI needs an account to pick stacks' roles);
- CloudFormation ``DescribeStacks`` answers "does not exist", CloudFormation's reply for a
  stack that was never deployed, so ``diff`` and ``destroy`` walk every selected stack;
- SSM's bootstrap-version parameter and S3 (location, listing, upload) play a bootstrapped
  environment, so ``deploy`` publishes its assets and goes on to its first stack;
- everything else is denied (query/XML or JSON, as the caller's protocol expects), so
  ``deploy`` stops at its first stack having named it.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler
from urllib.parse import parse_qsl, urlsplit

from tests.support.local_server import LocalServer

__all__ = ["FakeAws", "Request"]

# The CDK CLI's default toolkit (bootstrap) stack; it may ask about it before any app stack.
TOOLKIT_STACK = "CDKToolkit"
# What the fake reports as the environment's bootstrap version: newer than any CLI requires.
BOOTSTRAP_VERSION = "99"


@dataclass(frozen=True)
class Request:
    """One call the fake received: its operation (query Action or JSON target) and stack name."""

    operation: str
    stack_name: str | None


class FakeAws(LocalServer):
    """A threaded HTTP server on 127.0.0.1 that plays STS, CloudFormation and a denying rest."""

    def __init__(self, *, account: str) -> None:
        self.account = account
        self.requests: list[Request] = []
        self._lock = threading.Lock()
        super().__init__(_handler_for(self))

    def environment(self) -> dict[str, str]:
        """Environment variables that send every SDK call of a child process here."""
        return {
            "AWS_ENDPOINT_URL": self.endpoint_url,
            "AWS_ACCESS_KEY_ID": "AKIAFAKEFAKEFAKEFAKE",
            "AWS_SECRET_ACCESS_KEY": "fake-secret-for-local-tests",
            "AWS_EC2_METADATA_DISABLED": "true",
            "AWS_MAX_ATTEMPTS": "1",
        }

    def stack_names(self) -> list[str]:
        """App stacks the CLI asked CloudFormation about, in order, without repeats."""
        names = (r.stack_name for r in self.requests if r.stack_name)
        return list(dict.fromkeys(n for n in names if n != TOOLKIT_STACK))

    def record(self, request: Request) -> None:
        with self._lock:
            self.requests.append(request)


def _handler_for(fake: FakeAws) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def _answer(self) -> None:
            length = int(self.headers.get("content-length") or 0)
            body = self.rfile.read(length).decode("utf-8", errors="replace")
            target = self.headers.get("x-amz-target")
            form = dict(parse_qsl(body)) if not target else {}
            form.update(parse_qsl(urlsplit(self.path).query))
            operation = target or form.get("Action") or f"{self.command} {urlsplit(self.path).path}"
            fake.record(Request(operation, form.get("StackName")))
            if operation == "GetCallerIdentity":
                self._send(200, "text/xml", _caller_identity(fake.account))
            elif operation == "DescribeStacks" and form.get("StackName"):
                message = f"Stack with id {form['StackName']} does not exist"
                self._send(400, "text/xml", _query_error("ValidationError", message))
            elif target == "AmazonSSM.GetParameter":
                # A bootstrapped environment, so deploy goes on to its stacks.
                self._send(200, "application/x-amz-json-1.1", _bootstrap_version(form, body))
            elif self.command == "GET" and "location" in urlsplit(self.path).query:
                self._send(200, "application/xml", _S3_LOCATION)
            elif self.command == "GET" and form.get("list-type") == "2":
                self._send(200, "application/xml", _S3_EMPTY_LISTING)
            elif self.command == "PUT":
                # Assets "upload", so deploy goes on to its stacks.
                self._send(200, "application/xml", "")
            elif target:
                self._send(
                    400,
                    "application/x-amz-json-1.1",
                    '{"__type": "AccessDeniedException", "message": "denied by the local fake"}',
                )
            else:
                self._send(
                    403, "text/xml", _query_error("AccessDenied", "denied by the local fake")
                )

        def _send(self, status: int, content_type: str, text: str) -> None:
            data = text.encode()
            self.send_response(status)
            self.send_header("content-type", content_type)
            self.send_header("content-length", str(len(data)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(data)

        do_GET = do_POST = do_PUT = do_HEAD = do_DELETE = _answer

        def log_message(self, format: str, *args: object) -> None:  # noqa: A002
            """Silence the per-request log line."""

    return Handler


def _caller_identity(account: str) -> str:
    return (
        '<GetCallerIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">'
        "<GetCallerIdentityResult>"
        f"<Arn>arn:aws:iam::{account}:user/fake</Arn><UserId>AIDAFAKE</UserId>"
        f"<Account>{account}</Account>"
        "</GetCallerIdentityResult>"
        "<ResponseMetadata><RequestId>fake</RequestId></ResponseMetadata>"
        "</GetCallerIdentityResponse>"
    )


def _bootstrap_version(form: dict[str, str], body: str) -> str:
    name = json.loads(body or "{}").get("Name", "")
    return json.dumps({"Parameter": {"Name": name, "Type": "String", "Value": BOOTSTRAP_VERSION}})


_S3_XMLNS = "http://s3.amazonaws.com/doc/2006-03-01/"
_S3_LOCATION = f'<LocationConstraint xmlns="{_S3_XMLNS}"></LocationConstraint>'
_S3_EMPTY_LISTING = (
    f'<ListBucketResult xmlns="{_S3_XMLNS}"><KeyCount>0</KeyCount><MaxKeys>1</MaxKeys>'
    "<IsTruncated>false</IsTruncated></ListBucketResult>"
)


def _query_error(code: str, message: str) -> str:
    return (
        f"<ErrorResponse><Error><Type>Sender</Type><Code>{code}</Code>"
        f"<Message>{message}</Message></Error><RequestId>fake</RequestId></ErrorResponse>"
    )
