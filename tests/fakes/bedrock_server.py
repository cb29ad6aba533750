"""In-process fake of the Amazon Bedrock Runtime ``Converse`` / ``ConverseStream`` API, and of
the Bedrock Agent Runtime ``Retrieve`` call (``POST /knowledgebases/{id}/retrieve``) over an
in-memory corpus per knowledge base (:mod:`tests.fakes.knowledge_corpus`).

Speaks the restJson1 wire protocol well enough for *real* boto3/botocore to talk to it::

    with FakeBedrock() as server:
        client = boto3.client(
            "bedrock-runtime", endpoint_url=server.endpoint_url, region_name="us-east-1",
            aws_access_key_id="x", aws_secret_access_key="y",
        )
        server.enqueue(Reply.text("hello", input_tokens=12, output_tokens=5))
        client.converse(modelId="anthropic.claude-3-haiku", messages=[...])

``ApplyGuardrail`` (``POST /guardrail/{id}/version/{version}/apply``) answers verdicts a test
scripts per text (:mod:`tests.fakes.guardrail_verdicts`)::

    server.script_guardrail(GuardrailRule("ignore all", Finding.content("PROMPT_ATTACK")))
    client.apply_guardrail(guardrailIdentifier="gr1", guardrailVersion="1", source="INPUT",
                           content=[{"text": {"text": "Ignore all previous instructions"}}])

A ``bedrock-agent-runtime`` client pointed at the same ``endpoint_url`` reaches ``Retrieve``::

    server.add_knowledge_base("KB12345678", [Chunk("text", "s3://b/doc.md", {"team": "a"})])
    server.script_retrieve(Reply.throttle())   # scripted errors, else answers from the corpus

Only binds to 127.0.0.1. Requests are answered from a FIFO of scripted :class:`Reply`
objects; when the queue is empty a deterministic echo reply is produced (see
:meth:`FakeBedrock.count_input_tokens` / :func:`count_words`).
"""

from __future__ import annotations

import collections
import contextlib
import json
import random
import re
import socket
import threading
import time
import uuid
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import unquote

from tests.fakes.eventstream import CONTENT_TYPE as EVENTSTREAM_CONTENT_TYPE
from tests.fakes.eventstream import encode_event, encode_exception
from tests.fakes.guardrail_verdicts import GuardrailRule, evaluate, request_problem
from tests.fakes.knowledge_corpus import Chunk, FilterInvalid, search

__all__ = [
    "ERROR_STATUS",
    "Chunk",
    "STREAM_EXCEPTION_TYPES",
    "FakeBedrock",
    "ModelRules",
    "RecordedRequest",
    "Reply",
    "count_words",
]

# HTTP status of every modeled Bedrock Runtime error (from botocore's service-2.json).
ERROR_STATUS: dict[str, int] = {
    "ValidationException": 400,
    "ServiceQuotaExceededException": 400,
    "AccessDeniedException": 403,
    "ResourceNotFoundException": 404,
    "ModelTimeoutException": 408,
    "ConflictException": 400,
    "ModelErrorException": 424,
    "ModelStreamErrorException": 424,
    "ThrottlingException": 429,
    "ModelNotReadyException": 429,
    "InternalServerException": 500,
    "ServiceUnavailableException": 503,
}

# Exception members of the ConverseStreamOutput union (event-stream ``:exception-type``).
STREAM_EXCEPTION_TYPES = (
    "internalServerException",
    "modelStreamErrorException",
    "validationException",
    "throttlingException",
    "serviceUnavailableException",
)

_PATH_RE = re.compile(r"^/model/([^/?]+)/(converse|converse-stream)/?(?:\?.*)?$")
_APPLY_GUARDRAIL_RE = re.compile(r"^/guardrail/([^/?]+)/version/([^/?]+)/apply/?(?:\?.*)?$")
_RETRIEVE_RE = re.compile(r"^/knowledgebases/([^/?]+)/retrieve/?(?:\?.*)?$")
_OPERATIONS = {"converse": "Converse", "converse-stream": "ConverseStream"}
_PIECE_RE = re.compile(r"\S+\s*|\s+")


def count_words(text: str) -> int:
    """Deterministic 'token' count used by the fake: whitespace-separated words."""
    return len(text.split())


def _message_texts(body: dict) -> list[str]:
    texts: list[str] = []
    for message in body.get("messages") or []:
        for block in message.get("content") or []:
            if isinstance(block, dict) and isinstance(block.get("text"), str):
                texts.append(block["text"])
    return texts


@dataclass(frozen=True)
class Reply:
    """One scripted outcome. Build with the classmethods, pass to :meth:`FakeBedrock.enqueue`.

    ``times`` = how many consecutive requests this reply answers before it is consumed.
    ``input_tokens`` / ``output_tokens`` = ``None`` means "derive from request / reply text".
    """

    kind: str  # "text" | "error" | "stream_error"
    output_text: str = ""
    input_tokens: int | None = None
    output_tokens: int | None = None
    stop_reason: str = "end_turn"
    latency_ms: int | None = None
    trace: dict | None = None
    status: int = 200
    code: str = ""
    message: str = ""
    exception_payload: dict | None = None
    chunk_words: int = 2
    delay_s: float = 0.0
    times: int = 1
    cache_read_tokens: int | None = None
    cache_write_tokens: int | None = None

    # ----------------------------------------------------------------- successes
    @classmethod
    def text(
        cls,
        text: str,
        *,
        input_tokens: int | None = None,
        output_tokens: int | None = None,
        stop_reason: str = "end_turn",
        latency_ms: int | None = None,
        trace: dict | None = None,
        chunk_words: int = 2,
        delay_s: float = 0.0,
        times: int = 1,
        cache_read_tokens: int | None = None,
        cache_write_tokens: int | None = None,
    ) -> Reply:
        """A successful assistant answer (Converse JSON or a full ConverseStream sequence).

        For streams the text is split into ``contentBlockDelta`` events of ``chunk_words``
        words each. ``delay_s`` (default 0) sleeps before answering / between stream events.
        ``cache_read_tokens`` / ``cache_write_tokens`` add ``cacheReadInputTokens`` /
        ``cacheWriteInputTokens`` to the usage (counted apart from ``inputTokens``).
        """
        return cls(
            kind="text",
            output_text=text,
            input_tokens=input_tokens,
            output_tokens=output_tokens,
            stop_reason=stop_reason,
            latency_ms=latency_ms,
            trace=trace,
            chunk_words=max(1, chunk_words),
            delay_s=delay_s,
            times=times,
            cache_read_tokens=cache_read_tokens,
            cache_write_tokens=cache_write_tokens,
        )

    @classmethod
    def guardrail_intervened(
        cls,
        text: str = "Sorry, blocked.",
        *,
        input_tokens: int | None = None,
        output_tokens: int | None = None,
        guardrail_id: str = "gr-fake123",
        action_reason: str = "Guardrail blocked.",
        times: int = 1,
    ) -> Reply:
        """stopReason ``guardrail_intervened`` with a ``trace.guardrail`` assessment."""
        trace = {
            "guardrail": {
                "inputAssessment": {
                    guardrail_id: {
                        "contentPolicy": {
                            "filters": [
                                {
                                    "type": "VIOLENCE",
                                    "confidence": "HIGH",
                                    "filterStrength": "HIGH",
                                    "action": "BLOCKED",
                                    "detected": True,
                                }
                            ]
                        }
                    }
                },
                "actionReason": action_reason,
            }
        }
        return cls.text(
            text,
            input_tokens=input_tokens,
            output_tokens=0 if output_tokens is None else output_tokens,
            stop_reason="guardrail_intervened",
            trace=trace,
            times=times,
        )

    # ----------------------------------------------------------------- HTTP errors
    @classmethod
    def error(
        cls,
        status: int,
        code: str,
        message: str | None = None,
        *,
        times: int = 1,
        delay_s: float = 0.0,
    ) -> Reply:
        """An HTTP error: ``status`` + header ``x-amzn-ErrorType: code`` + ``{"message"}``,
        sent ``delay_s`` seconds after the request arrived."""
        return cls(
            kind="error",
            status=status,
            code=code,
            message=message if message is not None else f"Fake {code}",
            times=times,
            delay_s=delay_s,
        )

    @classmethod
    def service_error(
        cls, code: str, message: str | None = None, *, times: int = 1, delay_s: float = 0.0
    ) -> Reply:
        """Like :meth:`error` but the HTTP status is looked up in :data:`ERROR_STATUS`."""
        return cls.error(ERROR_STATUS.get(code, 400), code, message, times=times, delay_s=delay_s)

    @classmethod
    def throttle(
        cls,
        times: int = 1,
        message: str = "Too many requests, please wait before trying again.",
        *,
        delay_s: float = 0.0,
    ) -> Reply:
        """HTTP 429 ThrottlingException, ``times`` requests in a row."""
        return cls.error(429, "ThrottlingException", message, times=times, delay_s=delay_s)

    # ----------------------------------------------------------------- mid-stream errors
    @classmethod
    def stream_error(
        cls,
        exception_type: str = "modelStreamErrorException",
        message: str = "The model stream failed.",
        *,
        text_before: str = "partial answer",
        payload: dict | None = None,
        times: int = 1,
    ) -> Reply:
        """ConverseStream: HTTP 200, ``messageStart`` + deltas of ``text_before``, then an
        exception event of ``exception_type`` (one of :data:`STREAM_EXCEPTION_TYPES`).
        Iterating the boto3 stream raises ``botocore.exceptions.EventStreamError``.

        For plain Converse the same reply becomes the equivalent HTTP error
        (e.g. ``modelStreamErrorException`` -> 424 ModelStreamErrorException).
        """
        if exception_type not in STREAM_EXCEPTION_TYPES:
            raise ValueError(f"exception_type must be one of {STREAM_EXCEPTION_TYPES}")
        body: dict[str, Any] = {"message": message}
        if exception_type == "modelStreamErrorException":
            body.update(originalStatusCode=500, originalMessage=message)
        if payload:
            body.update(payload)
        code = exception_type[0].upper() + exception_type[1:]
        return cls(
            kind="stream_error",
            output_text=text_before,
            code=code,
            status=ERROR_STATUS.get(code, 500),
            message=message,
            exception_payload=body,
            times=times,
        )


@dataclass(frozen=True)
class ModelRules:
    """The per-model options one invoke target accepts, as Bedrock validates them.

    Build them from the catalog (``tests.support.model_options.rules_for``); a target without
    rules accepts every option (the fake's behaviour before rules existed).
    """

    cache_fields: tuple[str, ...] = ()
    """Fields a ``cachePoint`` may follow; empty: the model has no prompt caching."""
    cache_ttls: tuple[str, ...] = ()
    latency_optimized: bool = False
    service_tiers: tuple[str, ...] = ()
    """Service tiers besides ``default``."""


def _cache_points(blocks: Any) -> list[dict]:
    if not isinstance(blocks, list):
        return []
    return [b["cachePoint"] for b in blocks if isinstance(b, dict) and "cachePoint" in b]


def _rules_problem(rules: ModelRules, body: dict) -> str | None:
    """Bedrock's ValidationException text for an option ``rules`` does not allow (or None)."""
    latency = (body.get("performanceConfig") or {}).get("latency", "standard")
    if latency == "optimized" and not rules.latency_optimized:
        return "The provided model doesn't support latency-optimized inference."
    tier = (body.get("serviceTier") or {}).get("type", "default")
    if tier != "default" and tier not in rules.service_tiers:
        return f"The provided model doesn't support service tier {tier}."
    places = {
        "system": _cache_points(body.get("system")),
        "tools": _cache_points((body.get("toolConfig") or {}).get("tools")),
        "messages": [
            p for m in body.get("messages") or [] for p in _cache_points(m.get("content"))
        ],
    }
    for place, points in places.items():
        if not points:
            continue
        if not rules.cache_fields:
            return "You invoked an unsupported model or your request did not allow prompt caching."
        if place not in rules.cache_fields:
            return f"Prompt caching is not supported for {place} with the provided model."
        for point in points:
            if point.get("type") != "default":
                return "cachePoint.type: must be default."
            if "ttl" in point and point["ttl"] not in rules.cache_ttls:
                return f"The provided model doesn't support cache TTL {point['ttl']}."
    return None


@dataclass
class RecordedRequest:
    operation: str  # "Converse" | "ConverseStream" | "Retrieve" | "ApplyGuardrail"
    model_id: str  # model id or profile ARN; knowledge base id (Retrieve); "<id>:<version>"
    # (ApplyGuardrail), URL-decoded
    body: dict
    headers: dict[str, str] = field(default_factory=dict)  # lower-cased names
    path: str = ""
    received_at: float = 0.0  # time.monotonic() when the request arrived
    status: int = 0  # HTTP status answered (0 until a reply was chosen)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive
    disable_nagle_algorithm = True  # no 40 ms Nagle/delayed-ACK stalls in benchmarks
    server: _Server
    recorded: RecordedRequest

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - silence
        pass

    def setup(self) -> None:
        super().setup()
        self.server.fake._track(self.connection, add=True)

    def finish(self) -> None:
        try:
            super().finish()
        finally:
            self.server.fake._track(self.connection, add=False)

    # ------------------------------------------------------------------ routing
    def do_POST(self) -> None:  # noqa: N802
        started = time.perf_counter()
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        guardrail = _APPLY_GUARDRAIL_RE.match(self.path)
        if guardrail:
            self._apply_guardrail(unquote(guardrail.group(1)), unquote(guardrail.group(2)), raw)
            return
        retrieve = _RETRIEVE_RE.match(self.path)
        if retrieve:
            self._retrieve(unquote(retrieve.group(1)), raw)
            return
        match = _PATH_RE.match(self.path)
        if not match:
            self._send_error(404, "UnknownOperationException", f"Unknown operation {self.path}")
            return
        operation = _OPERATIONS[match.group(2)]
        target = unquote(match.group(1))
        body = self._read_and_record(operation, target, raw)
        if body is None:
            return
        fake = self.server.fake
        recorded = self.recorded
        problem = _validate(body)
        rules = fake._rules_for(unquote(match.group(1)))
        if problem is None and rules is not None:
            problem = _rules_problem(rules, body)
        if problem:
            recorded.status = 400
            self._send_error(400, "ValidationException", problem)
            return
        reply = fake._next_reply(body, target)
        recorded.status = reply.status
        if operation == "ConverseStream" and reply.kind != "error":
            self._send_stream(reply, body, started)  # applies delay_s between events
            return
        if reply.delay_s:
            time.sleep(reply.delay_s)
        with contextlib.suppress(OSError):  # the client may have timed out meanwhile
            self._answer(reply, body, started)

    def _read_and_record(self, operation: str, target: str, raw: bytes) -> dict | None:
        """The JSON body, recorded; ``None`` (answered 400) when it is not a JSON object."""
        try:
            body = json.loads(raw) if raw else {}
            if not isinstance(body, dict):
                raise ValueError("body is not an object")
        except ValueError:
            self._send_error(400, "SerializationException", "Request body is not valid JSON.")
            return None
        # This handler's own record (another thread may record meanwhile).
        self.recorded = RecordedRequest(
            operation=operation,
            model_id=target,
            body=body,
            headers={k.lower(): v for k, v in self.headers.items()},
            path=self.path,
            received_at=time.monotonic(),
        )
        self.server.fake._record(self.recorded)
        return body

    def _apply_guardrail(self, identifier: str, version: str, raw: bytes) -> None:
        body = self._read_and_record("ApplyGuardrail", f"{identifier}:{version}", raw)
        if body is None:
            return
        fake = self.server.fake
        reply = fake._next_guardrail_reply()
        if reply is not None and reply.delay_s:
            time.sleep(reply.delay_s)
        if reply is not None and reply.kind != "text":
            self.recorded.status = reply.status
            with contextlib.suppress(OSError):
                self._send_error(reply.status, reply.code, reply.message)
            return
        known = fake._guardrail_known(identifier, version)
        problem = request_problem(body)
        if not known:
            status, code = 404, "ResourceNotFoundException"
            problem = f"The guardrail {identifier} version {version} was not found."
        else:
            status, code = 400, "ValidationException"
        if problem:
            self.recorded.status = status
            self._send_error(status, code, problem)
            return
        self.recorded.status = 200
        answer = evaluate(fake._guardrail_rules_for(identifier), body)
        payload = json.dumps(answer, separators=(",", ":")).encode()
        with contextlib.suppress(OSError):
            self._send_bytes(200, "application/json", payload)

    def _retrieve(self, knowledge_base_id: str, raw: bytes) -> None:
        body = self._read_and_record("Retrieve", knowledge_base_id, raw)
        if body is None:
            return
        fake = self.server.fake
        reply = fake._next_retrieve_reply()
        if reply is not None and reply.delay_s:
            time.sleep(reply.delay_s)
        if reply is not None and reply.kind != "text":
            with contextlib.suppress(OSError):
                self._send_error(reply.status, reply.code, reply.message)
            return
        corpus = fake._corpus(knowledge_base_id)
        if corpus is None:
            self._send_error(
                404, "ResourceNotFoundException", f"Knowledge base {knowledge_base_id} not found"
            )
            return
        try:
            answer = search(corpus, body, knowledge_base_id=knowledge_base_id)
        except FilterInvalid as problem:
            self._send_error(400, "ValidationException", str(problem))
            return
        payload = json.dumps(answer, separators=(",", ":")).encode()
        with contextlib.suppress(OSError):
            self._send_bytes(200, "application/json", payload)

    def _answer(self, reply: Reply, body: dict, started: float) -> None:
        if reply.kind == "text":
            self._send_converse(reply, body, started)
        else:
            self._send_error(reply.status, reply.code, reply.message)

    def do_GET(self) -> None:  # noqa: N802
        self._send_error(404, "UnknownOperationException", f"Unknown operation {self.path}")

    # ------------------------------------------------------------------ writers
    def _send_bytes(self, status: int, content_type: str, payload: bytes, extra=()) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(payload)))
        self.send_header("x-amzn-RequestId", str(uuid.uuid4()))
        for name, value in extra:
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(payload)

    def _send_error(self, status: int, code: str, message: str) -> None:
        payload = json.dumps({"message": message}).encode()
        self._send_bytes(status, "application/json", payload, (("x-amzn-ErrorType", code),))

    def _send_converse(self, reply: Reply, body: dict, started: float) -> None:
        usage = _usage(reply, body)
        response: dict[str, Any] = {
            "output": {"message": {"role": "assistant", "content": [{"text": reply.output_text}]}},
            "stopReason": reply.stop_reason,
            "usage": usage,
            "metrics": {"latencyMs": _latency(reply, started)},
        }
        if reply.trace is not None:
            response["trace"] = reply.trace
        payload = json.dumps(response, separators=(",", ":")).encode()
        self._send_bytes(200, "application/json", payload)

    def _send_stream(self, reply: Reply, body: dict, started: float) -> None:
        events = [encode_event("messageStart", {"role": "assistant"})]
        pieces = _PIECE_RE.findall(reply.output_text)
        n = reply.chunk_words
        for i in range(0, len(pieces), n):
            delta = {"delta": {"text": "".join(pieces[i : i + n])}, "contentBlockIndex": 0}
            events.append(encode_event("contentBlockDelta", delta))
        if reply.kind == "stream_error":
            events.append(encode_exception(_lower_first(reply.code), reply.exception_payload or {}))
        else:
            events.append(encode_event("contentBlockStop", {"contentBlockIndex": 0}))
            events.append(encode_event("messageStop", {"stopReason": reply.stop_reason}))
            metadata: dict[str, Any] = {
                "usage": _usage(reply, body),
                "metrics": {"latencyMs": _latency(reply, started)},
            }
            if reply.trace is not None:
                metadata["trace"] = reply.trace
            events.append(encode_event("metadata", metadata))

        self.send_response(200)
        self.send_header("Content-Type", EVENTSTREAM_CONTENT_TYPE)
        self.send_header("Transfer-Encoding", "chunked")
        self.send_header("x-amzn-RequestId", str(uuid.uuid4()))
        self.end_headers()
        chunks = [b"%x\r\n%s\r\n" % (len(e), e) for e in events] + [b"0\r\n\r\n"]
        if reply.delay_s:
            for chunk in chunks:
                time.sleep(reply.delay_s)
                self.wfile.write(chunk)
        else:
            self.wfile.write(b"".join(chunks))  # one syscall: fastest for benchmarks


def _lower_first(name: str) -> str:
    return name[:1].lower() + name[1:]


def _validate(body: dict) -> str | None:
    messages = body.get("messages")
    if not messages:
        return (
            "A conversation must start with a user message. "
            "Try again with a conversation that starts with a user message."
        )
    if not isinstance(messages, list) or not all(isinstance(m, dict) for m in messages):
        return "messages must be a list of message objects."
    if messages[0].get("role") != "user":
        return (
            "A conversation must start with a user message. "
            "Try again with a conversation that starts with a user message."
        )
    for i, message in enumerate(messages):
        if message.get("role") not in ("user", "assistant"):
            return f"messages.{i}.role: must be one of user, assistant."
        if not message.get("content"):
            return f"messages.{i}.content: must not be empty."
    return None


def _usage(reply: Reply, body: dict) -> dict[str, int]:
    inp = reply.input_tokens
    if inp is None:
        inp = FakeBedrock.count_input_tokens(body)
    out = reply.output_tokens if reply.output_tokens is not None else count_words(reply.output_text)
    usage = {"inputTokens": inp, "outputTokens": out, "totalTokens": inp + out}
    for name, count in (
        ("cacheReadInputTokens", reply.cache_read_tokens),
        ("cacheWriteInputTokens", reply.cache_write_tokens),
    ):
        if count is not None:
            usage[name] = count
            usage["totalTokens"] += count
    return usage


def _latency(reply: Reply, started: float) -> int:
    if reply.latency_ms is not None:
        return reply.latency_ms
    return max(1, int((time.perf_counter() - started) * 1000))


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    allow_reuse_address = True
    request_queue_size = 128
    fake: FakeBedrock

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client that timed out closes its socket mid-reply: expected in deadline tests.
        pass


class FakeBedrock:
    """Local Bedrock Runtime endpoint on ``127.0.0.1:<ephemeral port>``.

    Use as a context manager (or call :meth:`start` / :meth:`stop`).
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._queue: collections.deque[list] = collections.deque()  # [reply, remaining]
        self._retrieve_queue: collections.deque[list] = collections.deque()
        self._guardrail_queue: collections.deque[list] = collections.deque()
        self._guardrail_rules: list[tuple[str | None, GuardrailRule]] = []
        self._guardrails: set[tuple[str, str]] = set()
        self._corpora: dict[str, list[Chunk]] = {}
        self._rules: dict[str, ModelRules] = {}
        self._requests: list[RecordedRequest] = []
        self._connections: dict[socket.socket, threading.Thread] = {}
        self._by_target: dict[str, collections.deque[list]] = {}
        self._chaos: tuple[float, random.Random, Reply] | None = None
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    # ------------------------------------------------------------------ lifecycle
    def start(self) -> FakeBedrock:
        if self._server is not None:
            return self
        server = _Server(("127.0.0.1", 0), _Handler)
        server.fake = self
        self._server = server
        self._thread = threading.Thread(
            target=server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name="fake-bedrock",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        server, self._server = self._server, None
        if server is None:
            return
        server.shutdown()
        server.server_close()
        with self._lock:
            conns = list(self._connections.items())
            self._connections.clear()
        for conn, _ in conns:  # unblock keep-alive handler threads blocked in readline()
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)
        for _, handler_thread in conns:
            handler_thread.join(timeout=1)
        if self._thread is not None:
            self._thread.join(timeout=2)

    def __enter__(self) -> FakeBedrock:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def port(self) -> int:
        if self._server is None:
            raise RuntimeError("FakeBedrock is not started")
        return self._server.server_address[1]

    @property
    def endpoint_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    # ------------------------------------------------------------------ scripting
    def enqueue(self, *replies: Reply) -> FakeBedrock:
        """Append replies to the FIFO; each answers ``reply.times`` requests."""
        with self._lock:
            for reply in replies:
                if reply.times > 0:
                    self._queue.append([reply, reply.times])
        return self

    def enqueue_for(self, target: str, *replies: Reply) -> FakeBedrock:
        """Replies for Converse calls to ``target`` only (a model id or profile ARN, as sent);
        they come before :meth:`throttle_randomly` and the shared FIFO."""
        with self._lock:
            queue = self._by_target.setdefault(target, collections.deque())
            for reply in replies:
                if reply.times > 0:
                    queue.append([reply, reply.times])
        return self

    def throttle_randomly(
        self, rate: float, *, seed: int, reply: Reply | None = None
    ) -> FakeBedrock:
        """Refuse a ``rate`` share of Converse calls at random (seeded, so a run repeats),
        with ``reply`` (default: a ThrottlingException); ``rate`` 0 turns it off."""
        if not 0 <= rate <= 1:
            raise ValueError("rate must be between 0 and 1")
        with self._lock:
            refusal = reply or Reply.throttle()
            self._chaos = (rate, random.Random(seed), refusal) if rate else None
        return self

    def add_knowledge_base(self, knowledge_base_id: str, chunks: list[Chunk]) -> FakeBedrock:
        """Serve ``Retrieve`` for ``knowledge_base_id`` from ``chunks`` (replacing any)."""
        with self._lock:
            self._corpora[knowledge_base_id] = list(chunks)
        return self

    def script_retrieve(self, *replies: Reply) -> FakeBedrock:
        """Answer the next ``Retrieve`` calls with ``replies`` (errors; ``Reply.text`` means
        "answer from the corpus", after its ``delay_s``); then from the corpus again."""
        with self._lock:
            for reply in replies:
                if reply.times > 0:
                    self._retrieve_queue.append([reply, reply.times])
        return self

    def script_guardrail(self, *rules: GuardrailRule, guardrail: str | None = None) -> FakeBedrock:
        """Findings ``ApplyGuardrail`` reports on the texts ``rules`` match (added to those set
        before); ``guardrail`` (an identifier as sent) limits them to that guardrail."""
        with self._lock:
            self._guardrail_rules.extend((guardrail, rule) for rule in rules)
        return self

    def add_guardrail(self, identifier: str, version: str) -> FakeBedrock:
        """Declare a deployed guardrail version; once any is declared, ``ApplyGuardrail`` on
        another answers 404 ResourceNotFoundException (else every guardrail exists)."""
        with self._lock:
            self._guardrails.add((identifier, version))
        return self

    def script_apply_guardrail(self, *replies: Reply) -> FakeBedrock:
        """Answer the next ``ApplyGuardrail`` calls with ``replies`` (errors; ``Reply.text``
        means "answer from the rules"); then from the rules again."""
        with self._lock:
            for reply in replies:
                if reply.times > 0:
                    self._guardrail_queue.append([reply, reply.times])
        return self

    def set_rules(self, rules: dict[str, ModelRules]) -> FakeBedrock:
        """Validate per-model options per invoke target (model id or profile ARN), replacing
        any rules set before; an empty dict turns validation off."""
        with self._lock:
            self._rules = dict(rules)
        return self

    def reset(self) -> None:
        """Forget recorded requests, pending replies and knowledge bases."""
        with self._lock:
            self._queue.clear()
            self._by_target.clear()
            self._chaos = None
            self._retrieve_queue.clear()
            self._guardrail_queue.clear()
            self._guardrail_rules.clear()
            self._guardrails.clear()
            self._corpora.clear()
            self._rules.clear()
            self._requests.clear()

    @property
    def pending(self) -> int:
        """Number of requests still scripted."""
        with self._lock:
            targeted = [entry for queue in self._by_target.values() for entry in queue]
            return sum(
                remaining
                for _, remaining in [
                    *self._queue,
                    *targeted,
                    *self._retrieve_queue,
                    *self._guardrail_queue,
                ]
            )

    @property
    def requests(self) -> list[RecordedRequest]:
        """Snapshot of every request received (valid or not), oldest first."""
        with self._lock:
            return list(self._requests)

    @property
    def last_request(self) -> RecordedRequest:
        with self._lock:
            return self._requests[-1]

    @staticmethod
    def count_input_tokens(body: dict) -> int:
        """Default input token count: words across every ``messages[].content[].text``."""
        return sum(count_words(t) for t in _message_texts(body))

    @staticmethod
    def default_reply(body: dict) -> Reply:
        """Echo of the last user text; honours ``inferenceConfig.maxTokens`` (-> max_tokens)."""
        last_user = ""
        for message in reversed(body.get("messages") or []):
            if message.get("role") == "user":
                last_user = " ".join(
                    b["text"]
                    for b in message.get("content") or []
                    if isinstance(b, dict) and isinstance(b.get("text"), str)
                )
                break
        words = ["Echo:", *last_user.split()]
        stop_reason = "end_turn"
        max_tokens = (body.get("inferenceConfig") or {}).get("maxTokens")
        if isinstance(max_tokens, int) and 0 < max_tokens < len(words):
            words = words[:max_tokens]
            stop_reason = "max_tokens"
        return Reply.text(" ".join(words), stop_reason=stop_reason)

    # ------------------------------------------------------------------ internals
    def _next_reply(self, body: dict, target: str = "") -> Reply:
        with self._lock:
            targeted = self._by_target.get(target)
            if targeted:
                entry = targeted[0]
                entry[1] -= 1
                if entry[1] <= 0:
                    targeted.popleft()
                return entry[0]
            if self._chaos is not None:
                rate, draw, refusal = self._chaos
                if draw.random() < rate:
                    return refusal
            if self._queue:
                entry = self._queue[0]
                entry[1] -= 1
                if entry[1] <= 0:
                    self._queue.popleft()
                return entry[0]
        return self.default_reply(body)

    def _next_retrieve_reply(self) -> Reply | None:
        with self._lock:
            if not self._retrieve_queue:
                return None
            entry = self._retrieve_queue[0]
            entry[1] -= 1
            if entry[1] <= 0:
                self._retrieve_queue.popleft()
            return entry[0]

    def _next_guardrail_reply(self) -> Reply | None:
        with self._lock:
            if not self._guardrail_queue:
                return None
            entry = self._guardrail_queue[0]
            entry[1] -= 1
            if entry[1] <= 0:
                self._guardrail_queue.popleft()
            return entry[0]

    def _guardrail_known(self, identifier: str, version: str) -> bool:
        with self._lock:
            return not self._guardrails or (identifier, version) in self._guardrails

    def _guardrail_rules_for(self, identifier: str) -> list[GuardrailRule]:
        with self._lock:
            return [rule for only, rule in self._guardrail_rules if only in (None, identifier)]

    def _rules_for(self, target: str) -> ModelRules | None:
        with self._lock:
            return self._rules.get(target)

    def _corpus(self, knowledge_base_id: str) -> list[Chunk] | None:
        with self._lock:
            found = self._corpora.get(knowledge_base_id)
            return None if found is None else list(found)

    def _record(self, request: RecordedRequest) -> None:
        with self._lock:
            self._requests.append(request)

    def _track(self, conn: socket.socket, *, add: bool) -> None:
        with self._lock:
            if add:
                self._connections[conn] = threading.current_thread()
            else:
                self._connections.pop(conn, None)
