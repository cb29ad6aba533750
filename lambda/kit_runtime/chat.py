"""Chat logic: route the request, call Converse through the guardrail, meter tokens and cost."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from botocore.exceptions import (
    ClientError,
    ConnectTimeoutError,
    EndpointConnectionError,
    ReadTimeoutError,
)

from kit_runtime import errors
from kit_runtime.schemas import ChatRequest, ChatResponse, Cost, Usage
from kit_runtime.settings import ModelSettings, Settings

RETRY_AFTER_SECONDS = "2"
_THROTTLE_CODES = {
    "ThrottlingException",
    "ServiceQuotaExceededException",
    "TooManyRequestsException",
    "ModelNotReadyException",
}
_TIMEOUT_CODES = {"ModelTimeoutException"}
_UNAVAILABLE_CODES = {
    "ServiceUnavailableException",
    "InternalServerException",
    "ModelErrorException",
}
_VALIDATION_CODES = {"ValidationException"}


def request_cost(model: ModelSettings, input_tokens: int, output_tokens: int) -> Cost:
    """Token cost at the catalog's on-demand prices (USD per million tokens)."""
    input_usd = input_tokens * model.input_per_mtok / 1_000_000
    output_usd = output_tokens * model.output_per_mtok / 1_000_000
    return Cost(
        input_usd=round(input_usd, 8),
        output_usd=round(output_usd, 8),
        total_usd=round(input_usd + output_usd, 8),
    )


class ChatService:
    """Serves chat requests for one stage.

    Parameters
    ----------
    settings:
        The stage's models, tiers, limits and guardrail.
    client:
        A ``bedrock-runtime`` client (its retry configuration decides the attempts made
        before a throttle is reported as 429).
    """

    def __init__(self, settings: Settings, client: Any) -> None:
        self.settings = settings
        self.client = client

    def route(self, request: ChatRequest) -> tuple[str, str | None]:
        """The model id to use and the tier it came from (``None`` if named directly)."""
        s = self.settings
        if request.model is not None:
            if request.model not in s.models:
                raise errors.UnknownModel(
                    f"model {request.model!r} is not enabled in stage {s.stage!r}",
                    allowed_models=sorted(s.models),
                    allowed_tiers=sorted(s.tiers),
                )
            return request.model, None
        tier = request.tier or s.default_tier
        if tier not in s.tiers:
            raise errors.UnknownModel(
                f"tier {tier!r} does not exist",
                allowed_tiers=sorted(s.tiers),
                allowed_models=sorted(s.models),
            )
        return s.tiers[tier], tier  # type: ignore[index]

    def max_tokens(self, request: ChatRequest, model: ModelSettings) -> int:
        limit = min(self.settings.max_tokens_limit, model.max_output_tokens)
        if request.max_tokens is None:
            return min(self.settings.default_max_tokens, limit)
        if request.max_tokens > limit:
            raise errors.InvalidRequest(
                f"max_tokens {request.max_tokens} is above this model's limit in this stage",
                errors=[{"field": "max_tokens", "message": f"allowed: 1 to {limit}"}],
            )
        return request.max_tokens

    def converse_arguments(self, request: ChatRequest, model_id: str) -> dict[str, Any]:
        """The Converse call: the application profile, the guardrail, maxTokens always set."""
        model = self.settings.models[model_id]
        inference: dict[str, Any] = {"maxTokens": self.max_tokens(request, model)}
        if request.temperature is not None:
            inference["temperature"] = request.temperature
        if request.top_p is not None:
            inference["topP"] = request.top_p
        if request.stop_sequences:
            inference["stopSequences"] = request.stop_sequences
        kwargs: dict[str, Any] = {
            "modelId": model.invoke_arn,
            "messages": [{"role": m.role, "content": m.blocks()} for m in request.messages],
            "inferenceConfig": inference,
            "guardrailConfig": {
                "guardrailIdentifier": self.settings.guardrail_arn,
                "guardrailVersion": self.settings.guardrail_version,
            },
        }
        if request.system:
            kwargs["system"] = [{"text": request.system}]
        return kwargs

    def chat(self, request: ChatRequest) -> ChatResponse:
        """Answer one chat request (Converse, non-streaming)."""
        model_id, tier = self.route(request)
        with _bedrock_errors():
            result = self.client.converse(**self.converse_arguments(request, model_id))
        content = result.get("output", {}).get("message", {}).get("content", [])
        return self._response(
            model_id,
            tier,
            text="".join(block.get("text", "") for block in content),
            stop_reason=result.get("stopReason", ""),
            usage=result.get("usage", {}),
            latency_ms=result.get("metrics", {}).get("latencyMs"),
        )

    def stream(self, request: ChatRequest) -> Iterator[str | ChatResponse]:
        """Answer with ConverseStream: text deltas as they arrive, then the full response.

        An error before the first event raises before anything is yielded (the caller can
        still answer with a status); an error mid-stream raises after the deltas so far.
        """
        model_id, tier = self.route(request)
        parts: list[str] = []
        stop_reason, usage, latency = "", {}, None
        with _bedrock_errors():
            arguments = self.converse_arguments(request, model_id)
            for event in self.client.converse_stream(**arguments)["stream"]:
                if "contentBlockDelta" in event:
                    text = event["contentBlockDelta"]["delta"].get("text", "")
                    parts.append(text)
                    yield text
                elif "messageStop" in event:
                    stop_reason = event["messageStop"].get("stopReason", "")
                elif "metadata" in event:
                    usage = event["metadata"].get("usage", {})
                    latency = event["metadata"].get("metrics", {}).get("latencyMs")
        yield self._response(
            model_id,
            tier,
            text="".join(parts),
            stop_reason=stop_reason,
            usage=usage,
            latency_ms=latency,
        )

    def _response(
        self,
        model_id: str,
        tier: str | None,
        *,
        text: str,
        stop_reason: str,
        usage: dict[str, Any],
        latency_ms: int | None,
    ) -> ChatResponse:
        input_tokens = int(usage.get("inputTokens", 0))
        output_tokens = int(usage.get("outputTokens", 0))
        return ChatResponse(
            text=text,
            stop_reason=stop_reason,
            model=model_id,
            tier=tier,
            usage=Usage(
                input_tokens=input_tokens,
                output_tokens=output_tokens,
                total_tokens=int(usage.get("totalTokens", input_tokens + output_tokens)),
            ),
            cost=request_cost(self.settings.models[model_id], input_tokens, output_tokens),
            guardrail_intervened=stop_reason == "guardrail_intervened",
            latency_ms=latency_ms,
        )


@contextmanager
def _bedrock_errors() -> Iterator[None]:
    """Bedrock and transport failures as the API's errors."""
    try:
        yield
    except ClientError as exc:
        raise _map_client_error(exc) from None
    except (ReadTimeoutError, ConnectTimeoutError) as exc:
        raise errors.UpstreamTimeout("Bedrock did not answer in time; try again") from exc
    except EndpointConnectionError as exc:
        raise errors.UpstreamUnavailable("Bedrock could not be reached; try again") from exc


def _map_client_error(exc: ClientError) -> errors.KitError:
    """Bedrock's error codes as the API's answers (no trace, a hint what to do)."""
    code = exc.response.get("Error", {}).get("Code", "")
    # Mid-stream errors arrive as event-stream exceptions named in lower camel case.
    code = code[:1].upper() + code[1:]
    message = exc.response.get("Error", {}).get("Message", "")
    if code in _THROTTLE_CODES:
        return errors.Throttled(
            "Bedrock is throttling this model; retry after the delay",
            headers={"Retry-After": RETRY_AFTER_SECONDS},
            retry_after_seconds=int(RETRY_AFTER_SECONDS),
        )
    if code in _VALIDATION_CODES:
        return errors.BedrockRejected(f"Bedrock rejected the request: {message}")
    if code in _TIMEOUT_CODES:
        return errors.UpstreamTimeout(
            "the model did not answer in time; try again or ask for fewer tokens"
        )
    if code in _UNAVAILABLE_CODES:
        return errors.UpstreamUnavailable(
            "the model is temporarily unavailable; try again",
            headers={"Retry-After": RETRY_AFTER_SECONDS},
        )
    return errors.UpstreamFailure(
        f"Bedrock answered {code or 'an error'}; the platform team "
        "should check model access and IAM for this stage",
        bedrock_code=code,
    )
