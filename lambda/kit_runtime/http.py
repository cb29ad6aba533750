"""What every REST handler shares: reading a JSON body and the one error-to-HTTP mapping.

Each handler module owns its resolver and calls :func:`register_error_handlers` on it, so every
route answers errors with the same body: ``{"error": {"code", "message", ...}, "request_id"}``.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

from pydantic import BaseModel, ValidationError

from kit_runtime import errors
from kit_runtime.budget import Deadline
from kit_runtime.contracts.chat import TimeBudget
from kit_runtime.observability import logger

if TYPE_CHECKING:
    from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response
    from aws_lambda_powertools.utilities.data_classes import APIGatewayProxyEvent

M = TypeVar("M", bound=BaseModel)

JSON_MEDIA_TYPE = "application/json"


def is_json_media_type(content_type: str | None) -> bool:
    """``application/json`` or a ``+json`` type, any parameters; a missing header counts as
    JSON (API Gateway assumes it too), and the body is validated the same way either way."""
    if content_type is None:
        return True
    media = content_type.split(";", 1)[0].strip().lower()
    return media == JSON_MEDIA_TYPE or (
        media.startswith("application/") and media.endswith("+json")
    )


def read_json_body(event: APIGatewayProxyEvent, *, max_bytes: int) -> bytes:
    """The request body as bytes, after the size and Content-Type checks.

    Raises
    ------
    errors.RequestTooLarge
        The body is larger than ``max_bytes`` (413).
    errors.UnsupportedMediaType
        The Content-Type is not JSON (415).
    errors.InvalidJson
        The body is empty.
    """
    raw = event.get("body")
    if raw is None or raw == "":
        body = b""
    elif event.get("isBase64Encoded"):
        try:
            body = base64.b64decode(raw, validate=True)
        except (binascii.Error, ValueError):
            raise errors.InvalidJson("the request body is not valid base64") from None
    else:
        body = raw.encode("utf-8", "surrogatepass")
    return checked_json_body(
        body, content_type=event.headers.get("content-type"), max_bytes=max_bytes
    )


def checked_json_body(body: bytes, *, content_type: str | None, max_bytes: int) -> bytes:
    """``body`` after the size and Content-Type checks (every route, REST or streaming).

    Raises
    ------
    errors.RequestTooLarge, errors.UnsupportedMediaType, errors.InvalidJson
        As :func:`read_json_body`.
    """
    if len(body) > max_bytes:
        raise errors.RequestTooLarge(
            f"the request body is {len(body)} bytes, above max_body_bytes {max_bytes}",
            limit="max_body_bytes",
            allowed=max_bytes,
            value=len(body),
        )
    if not is_json_media_type(content_type):
        raise errors.UnsupportedMediaType(
            f"Content-Type {errors.clip(content_type)!r} is not supported; send {JSON_MEDIA_TYPE}"
        )
    if not body:
        raise errors.InvalidJson("the request body is empty; send a JSON object")
    return body


def request_deadline(app: APIGatewayRestResolver, budget: TimeBudget) -> Deadline:
    """The time budget of the request ``app`` is serving (gateway start, function timeout)."""
    return Deadline.for_request(
        budget,
        request_time_epoch_ms=app.current_event.request_context.get("requestTimeEpoch"),
        function_remaining_ms=app.lambda_context.get_remaining_time_in_millis(),
    )


def parse_body(
    model: type[M], body: bytes, *, field_path: Callable[[tuple[int | str, ...]], str]
) -> M:
    """Validate ``body`` against ``model``; each problem named by field (input clipped).

    Raises
    ------
    errors.InvalidJson
        The body is not JSON (400).
    errors.InvalidRequest
        The JSON does not match the schema (422).
    """
    try:
        return model.model_validate_json(body)
    except ValidationError as exc:
        problems = exc.errors(include_url=False, include_context=False)
        if any(p["type"] in ("json_invalid", "json_type") for p in problems):
            raise errors.InvalidJson("the request body is not valid JSON") from None
        raise errors.InvalidRequest(
            f"the request body does not match the schema ({len(problems)} problem(s))",
            errors=[_problem(p, field_path) for p in problems[:20]],
        ) from None


def _problem(problem: Any, field_path: Callable[[tuple[int | str, ...]], str]) -> dict[str, Any]:
    found: dict[str, Any] = {
        "field": field_path(tuple(problem["loc"])),
        "message": errors.clip(problem["msg"], 200),
    }
    value = problem.get("input")
    if isinstance(value, str | int | float | bool):
        found["input"] = errors.clip(value)
    return found


def as_kit_error(error: Exception) -> errors.KitError:
    """``error`` as the API answers it: a :class:`errors.KitError` as is, anything else as the
    500 ``internal_error`` (its trace goes to the log, never to the caller)."""
    if isinstance(error, errors.KitError):
        logger.info("request refused", extra={"code": error.code, "status": error.status})
        return error
    logger.exception("unexpected error")
    return errors.KitError("internal error; see the function log for the request id")


def register_error_handlers(app: APIGatewayRestResolver, *, routes_hint: str) -> None:
    """Answer every error on ``app``'s routes as JSON, never with a trace.

    Parameters
    ----------
    app:
        The handler's resolver.
    routes_hint:
        What the 404 suggests, e.g. ``"use POST /chat or GET /models"``.
    """
    from aws_lambda_powertools.event_handler import Response, content_types

    def answer(error: errors.KitError) -> Response:
        return Response(
            status_code=error.status,
            content_type=content_types.APPLICATION_JSON,
            body=error.body(app.current_event.request_context.request_id),
            headers=error.headers,
        )

    @app.exception_handler(errors.KitError)
    def _kit_error(error: errors.KitError) -> Response:
        return answer(as_kit_error(error))

    @app.not_found
    def _not_found(_: Exception) -> Response:
        return answer(errors.NotFound(f"no such route; {routes_hint}"))

    @app.exception_handler(Exception)
    def _unexpected(error: Exception) -> Response:
        return answer(as_kit_error(error))
