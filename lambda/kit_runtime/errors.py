"""Domain errors and the one place they become HTTP answers."""

from __future__ import annotations

from typing import Any


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
        error: dict[str, Any] = {"code": self.code, "message": self.message, **self.details}
        return {"error": error, "request_id": request_id}


class InvalidJson(KitError):
    status, code = 400, "invalid_json"


class InvalidRequest(KitError):
    status, code = 422, "invalid_request"


class UnknownModel(KitError):
    status, code = 400, "unknown_model"


class Throttled(KitError):
    status, code = 429, "throttled"


class BedrockRejected(KitError):
    status, code = 400, "bedrock_validation"


class UpstreamTimeout(KitError):
    status, code = 504, "model_timeout"


class UpstreamUnavailable(KitError):
    status, code = 503, "model_unavailable"


class UpstreamFailure(KitError):
    status, code = 502, "bedrock_error"


class NotFound(KitError):
    status, code = 404, "not_found"
