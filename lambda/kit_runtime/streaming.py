"""``POST /chat/stream`` as server-sent events: a small ASGI app over :class:`ChatService`.

The app needs no web framework: one route, a JSON body in, an event stream out. Lambda runs it
behind the Lambda Web Adapter (``handlers.chat_stream``); ``make serve-local`` runs the same app
on localhost. The wire format::

    event: delta
    data: {"text": "Once upon"}

    event: done
    data: {"stop_reason": ..., "model": ..., "usage": ..., "cost": ..., ...}

``done`` carries every field of the ``POST /chat`` answer but ``text`` (the deltas are the
text). Before the first byte, an error is a plain JSON response with the status and body
``POST /chat`` would give; after it, the stream ends with ``event: error`` whose data is that
same JSON body. The request is read and checked by the code ``POST /chat`` uses
(:func:`kit_runtime.http.checked_json_body`, :func:`kit_runtime.http.parse_body`).

Bedrock is called through botocore, which blocks: each request's stream runs in one worker
thread that hands encoded events to the event loop, which writes every event already waiting
in one ``send``.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
import uuid
from collections.abc import Awaitable, Callable, Iterator, MutableMapping
from typing import Any

from kit_runtime import errors
from kit_runtime.budget import Deadline
from kit_runtime.chat import ChatService
from kit_runtime.contracts.chat_api import ChatRequest, ChatResponse, field_path
from kit_runtime.http import as_kit_error, checked_json_body, parse_body
from kit_runtime.metering import record_answer
from kit_runtime.observability import metrics

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

STREAM_PATH = "/chat/stream"
EVENT_STREAM = b"text/event-stream; charset=utf-8"
# API Gateway's request context (Lambda Web Adapter forwards it as JSON in this header) and
# Lambda's invocation context (ditto): the gateway's request id and start, the function's end.
REQUEST_CONTEXT_HEADER = b"x-amzn-request-context"
LAMBDA_CONTEXT_HEADER = b"x-amzn-lambda-context"
_END = object()
FIRST_EVENT_HANDOFF_S = 0.05
"""How long the worker waits for the first event to be written before it reads on (see
:func:`_stream`)."""


def sse(event: str, data: Any) -> bytes:
    """One server-sent event: ``event: <event>`` and ``data: <compact JSON>``."""
    payload = json.dumps(data, separators=(",", ":"), ensure_ascii=False)
    return f"event: {event}\ndata: {payload}\n\n".encode()


def done_data(response: ChatResponse) -> dict[str, Any]:
    """The final event's data: the ``POST /chat`` answer without its text."""
    return response.model_dump(mode="json", exclude={"text"})


class StreamContext:
    """What the gateway and Lambda tell about one request (headers the adapter forwards)."""

    def __init__(self, headers: dict[bytes, bytes]) -> None:
        request = _json_header(headers.get(REQUEST_CONTEXT_HEADER))
        function = _json_header(headers.get(LAMBDA_CONTEXT_HEADER))
        self.request_id = str(request.get("requestId") or uuid.uuid4())
        epoch = request.get("requestTimeEpoch")
        self.request_time_epoch_ms = epoch if isinstance(epoch, int) else None
        # The adapter serializes the Rust runtime's Context, whose field is `deadline` (its
        # README's example says deadline_ms): accept both.
        deadline_ms = function.get("deadline", function.get("deadline_ms"))
        self.function_remaining_ms = (
            int(deadline_ms - time.time() * 1000) if isinstance(deadline_ms, int) else None
        )

    def deadline(self, service: ChatService) -> Deadline:
        """The request's time budget to the first delta (gateway start, function end)."""
        return Deadline.for_request(
            service.settings.budget,
            request_time_epoch_ms=self.request_time_epoch_ms,
            function_remaining_ms=self.function_remaining_ms,
        )


def _json_header(raw: bytes | None) -> dict[str, Any]:
    if not raw:
        return {}
    try:
        found = json.loads(raw)
    except ValueError:
        return {}
    return found if isinstance(found, dict) else {}


def chat_events(
    service: ChatService, request: ChatRequest, *, deadline: Deadline, request_id: str
) -> Iterator[bytes | errors.KitError]:
    """The stream's events, encoded; a :class:`errors.KitError` in place of the first event
    when the request fails before any (the caller then answers with a status), else the
    last event is ``done`` or ``error``."""
    started = False
    try:
        for item in service.stream(request, deadline=deadline):
            if isinstance(item, ChatResponse):
                record_answer(
                    item,
                    log_prompts=service.settings.log_prompts,
                    prompt=request.model_dump(mode="json", by_alias=True)
                    if service.settings.log_prompts
                    else None,
                    event="chat streamed",
                    extra={"request_id": request_id},
                )
                started = True
                yield sse("done", done_data(item))
            else:
                started = True
                yield sse("delta", {"text": item})
    except Exception as exc:  # every failure ends the stream in the API's error shape
        error = as_kit_error(exc)
        if not started:
            yield error
        else:
            yield sse("error", error.body(request_id))
    finally:
        metrics.flush_metrics()
        # Flushing clears only when metrics are enabled: a local server runs with them off
        # (make serve-local) and would otherwise pile every request's values into one set.
        metrics.clear_metrics()


class ChatStreamApp:
    """The ASGI app: ``POST /chat/stream``; every other route answers the API's JSON 404/405.

    Parameters
    ----------
    service:
        Returns the stage's chat service (built on first use, replaced in tests).
    """

    def __init__(self, service: Callable[[], ChatService]) -> None:
        self._service = service

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await _lifespan(receive, send)
            return
        if scope["type"] != "http":
            return
        headers = dict(scope.get("headers") or [])
        context = StreamContext(headers)
        try:
            if scope["path"].rstrip("/") != STREAM_PATH:
                raise errors.NotFound(f"no such route; use POST {STREAM_PATH}")
            if scope["method"] != "POST":
                raise errors.MethodNotAllowed(
                    f"{scope['method']} is not allowed on {STREAM_PATH}; use POST",
                    headers={"Allow": "POST"},
                )
            service = self._service()
            body = await _read_body(receive, service.settings.limits.max_body_bytes)
            content_type = headers.get(b"content-type")
            checked = checked_json_body(
                body,
                content_type=None if content_type is None else content_type.decode("latin-1"),
                max_bytes=service.settings.limits.max_body_bytes,
            )
            request = parse_body(ChatRequest, checked, field_path=field_path)
        except Exception as exc:
            await send_error(send, as_kit_error(exc), context.request_id)
            return
        events = chat_events(
            service, request, deadline=context.deadline(service), request_id=context.request_id
        )
        await _stream(events, receive, send, context.request_id)


async def _lifespan(receive: Receive, send: Send) -> None:
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await send({"type": "lifespan.shutdown.complete"})
            return


async def _read_body(receive: Receive, max_bytes: int) -> bytes:
    """The request body; reading stops one byte past ``max_bytes`` (the check refuses it)."""
    parts: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            break
        chunk = message.get("body", b"")
        if size <= max_bytes:
            parts.append(chunk)
        size += len(chunk)
        if not message.get("more_body"):
            break
    body = b"".join(parts)
    return body if size == len(body) else body + b"\0" * (size - len(body))


async def send_error(send: Send, error: errors.KitError, request_id: str) -> None:
    """Answer ``error`` as JSON with its status (before any byte of a stream was sent)."""
    payload = json.dumps(error.body(request_id)).encode()
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(payload)).encode()),
        *((k.lower().encode(), v.encode()) for k, v in error.headers.items()),
    ]
    await send({"type": "http.response.start", "status": error.status, "headers": headers})
    await send({"type": "http.response.body", "body": payload})


async def _stream(
    events: Iterator[bytes | errors.KitError], receive: Receive, send: Send, request_id: str
) -> None:
    loop = asyncio.get_running_loop()
    ready: asyncio.Queue[Any] = asyncio.Queue()
    stop = threading.Event()
    # Botocore parses events while holding the GIL: when Bedrock's next events are already
    # buffered, the worker would keep the event loop from writing the first one for up to the
    # interpreter's switch interval (5 ms). The worker waits (bounded) until it is written.
    first_written = threading.Event()

    async def watch_disconnect() -> None:
        # The body is read: the next message is the caller going away.
        while (await receive())["type"] != "http.disconnect":
            pass
        stop.set()
        ready.put_nowait(_END)

    def produce() -> None:
        try:
            for event in events:
                loop.call_soon_threadsafe(ready.put_nowait, event)
                if not first_written.is_set():
                    first_written.wait(FIRST_EVENT_HANDOFF_S)
                if stop.is_set():
                    break
        finally:
            loop.call_soon_threadsafe(ready.put_nowait, _END)
            if stop.is_set() and hasattr(events, "close"):
                events.close()

    worker = loop.run_in_executor(None, produce)
    watcher = asyncio.ensure_future(watch_disconnect())
    try:
        await _relay(ready, send, request_id, stop, first_written)
    finally:
        first_written.set()
        watcher.cancel()
    await worker


async def _relay(
    ready: asyncio.Queue[Any],
    send: Send,
    request_id: str,
    stop: threading.Event,
    first_written: threading.Event,
) -> None:
    first = await ready.get()
    if isinstance(first, errors.KitError):
        await send_error(send, first, request_id)
        first_written.set()
        return
    await send(
        {
            "type": "http.response.start",
            "status": 200,
            "headers": [
                (b"content-type", EVENT_STREAM),
                (b"cache-control", b"no-cache"),
                # Proxies that buffer (nginx and friends) pass the events on as they come.
                (b"x-accel-buffering", b"no"),
            ],
        }
    )
    pending: list[bytes] = [first] if first is not _END else []
    ended = first is _END
    while True:
        while not ended and not ready.empty():
            item = ready.get_nowait()
            if item is _END:
                ended = True
            else:
                pending.append(item)
        try:
            await send(
                {"type": "http.response.body", "body": b"".join(pending), "more_body": not ended}
            )
        except OSError:  # the caller went away: stop reading Bedrock
            stop.set()
            break
        first_written.set()
        if ended or stop.is_set():
            break
        pending = []
        item = await ready.get()
        if item is _END:
            ended = True
        else:
            pending.append(item)
