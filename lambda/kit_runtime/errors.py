"""Domain errors: each knows its HTTP status, its code and the JSON body the caller gets."""

from __future__ import annotations

from typing import Any

ECHO_CHARS = 80
"""Longest piece of caller input an error message repeats."""


def clip(value: object, limit: int = ECHO_CHARS) -> str:
    """``value`` as text, cut to ``limit`` characters (an error never echoes a whole input)."""
    text = value if isinstance(value, str) else repr(value)
    return text if len(text) <= limit else f"{text[: limit - 3]}..."


class KitError(Exception):
    """An error the API reports to the caller as JSON (never with a trace)."""

    status = 500
    code = "internal_error"

    def __init__(
        self, message: str, *, headers: dict[str, str] | None = None, **details: Any
    ) -> None:
        super().__init__(message)
        self.message = message
        self.headers = headers or {}
        self.details = details

    def body(self, request_id: str | None = None) -> dict[str, Any]:
        """``{"error": {"code", "message", ...details}, "request_id"}``."""
        error: dict[str, Any] = {"code": self.code, "message": self.message, **self.details}
        return {"error": error, "request_id": request_id}


class InvalidJson(KitError):
    status, code = 400, "invalid_json"


class InvalidRequest(KitError):
    """The body does not match the chat schema (a field list says what to fix)."""

    status, code = 422, "invalid_request"


class LimitExceeded(KitError):
    """The body is well formed but exceeds one of the stage's request limits."""

    status, code = 400, "limit_exceeded"


class RequestTooLarge(KitError):
    status, code = 413, "request_too_large"


class UnsupportedMediaType(KitError):
    status, code = 415, "unsupported_media_type"


class UnknownModel(KitError):
    status, code = 400, "unknown_model"


class UnknownKnowledgeBase(KitError):
    """The request names a knowledge base the stage does not serve (the allowed names follow)."""

    status, code = 400, "unknown_knowledge_base"


class UnknownGuardrail(KitError):
    """The request names a guardrail the stage does not have (the allowed names follow)."""

    status, code = 400, "unknown_guardrail"


class NoCallerIdentity(KitError):
    """A tenant-isolated knowledge base needs the caller's IAM identity, and there is none."""

    status, code = 403, "no_caller_identity"


class UnsupportedContent(KitError):
    """The request holds a kind of content (e.g. images) the chosen model does not take."""

    status, code = 400, "unsupported_content"


class Throttled(KitError):
    status, code = 429, "throttled"


class BedrockRejected(KitError):
    status, code = 400, "bedrock_validation"


class DeadlineExceeded(KitError):
    """The answer cannot arrive within the API's time budget."""

    status, code = 504, "deadline_exceeded"


class UpstreamTimeout(KitError):
    status, code = 504, "model_timeout"


class UpstreamUnavailable(KitError):
    status, code = 503, "model_unavailable"


class UpstreamFailure(KitError):
    status, code = 502, "bedrock_error"


class ModelStreamFailed(KitError):
    """The model's response stream broke (Bedrock's ``modelStreamErrorException``): a transient
    fault of that one answer, not a platform problem; the caller may send the request again."""

    status, code = 502, "model_stream_error"


class NotFound(KitError):
    status, code = 404, "not_found"


class MethodNotAllowed(KitError):
    status, code = 405, "method_not_allowed"
