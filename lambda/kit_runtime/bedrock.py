"""Bedrock clients, the retry loop within the time budget, and the one error mapping.

Every capability (chat, streaming, RAG, agents) calls Bedrock through :func:`invoke` and maps
failures with :func:`map_error` / :func:`bedrock_errors`, so retries and answers agree.

Clients come from botocore directly: boto3 would also import s3transfer, which the runtime
never uses (about 220 ms of a cold start without bytecode; docs/performance.md).
"""

from __future__ import annotations

import os
import random
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any, TypeVar

from botocore.exceptions import (
    ClientError,
    ConnectTimeoutError,
    EndpointConnectionError,
    HTTPClientError,
    ParamValidationError,
    ProxyConnectionError,
    ReadTimeoutError,
)
from botocore.exceptions import ConnectionError as BotocoreConnectionError

from kit_runtime import errors
from kit_runtime.budget import (
    Deadline,
    attempt_read_timeout,
    backoff_seconds,
    retry_after_seconds,
)
from kit_runtime.contracts.chat import TimeBudget

T = TypeVar("T")

RETRYABLE_CODES = frozenset(
    {"ThrottlingException", "ServiceUnavailableException", "ModelNotReadyException"}
)
"""Refusals Bedrock gives before it runs the model: retrying cannot bill twice
(docs/decisions.md, "Retries within the time budget")."""


@dataclass(frozen=True)
class RetryPolicy:
    """What :func:`invoke` may retry for one kind of call."""

    codes: frozenset[str]
    """Error codes worth another attempt."""
    read_only: bool
    """The call changes and bills nothing: a read timeout or a connection that broke after the
    request was sent may be retried too (a model call never is: it may have run)."""


MODEL_CALL = RetryPolicy(RETRYABLE_CODES, read_only=False)
"""Converse and friends: only refusals that prove the model did not run."""
READ_ONLY_CALL = RetryPolicy(
    RETRYABLE_CODES
    | {"InternalServerException", "BadGatewayException", "DependencyFailedException"},
    read_only=True,
)
"""Retrieve: a read, so every transient failure may be retried within the time budget
(``DependencyFailedException`` included: a paused Aurora store answers it while it resumes)."""


@dataclass
class Attempts:
    """What one :func:`invoke` did, for a caller that may go on elsewhere (tier fallback)."""

    made: int = 0
    """Calls sent (or tried) to Bedrock."""
    never_ran: bool = False
    """The last failure proves the model did not run: the refusals and connection failures
    :data:`MODEL_CALL` retries. Only then may another model be tried."""


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
    # bedrock-agent-runtime (Retrieve): a dependency such as the vector store failed.
    "BadGatewayException",
    "DependencyFailedException",
}
_VALIDATION_CODES = {"ValidationException"}
# ConverseStream's event "An error occurred while streaming the response. Retry your request."
# (botocore bedrock-runtime 2023-09-30 service model, ModelStreamErrorException, HTTP 424;
# checked 2026-12-01). Never retried by the runtime: the model ran and may have billed.
_STREAM_FAILURE_CODES = {"ModelStreamErrorException"}

NEVER_SENT = (EndpointConnectionError, ConnectTimeoutError, ProxyConnectionError)
"""Connection failures raised before a byte of the request left, so retrying cannot bill twice.

botocore raises them (``httpsession.URLLib3Session.send``) from urllib3's connect phase: no
route or DNS answer, a TCP connect that timed out, or a proxy never reached (urllib3 wraps a
proxy error only while ``not conn.has_connected_to_proxy``). The other subclass of botocore's
``ConnectionError``, ``SSLError``, is mapped but not retried: urllib3 also raises it for a TLS
failure while reading the response, after the request was sent, and a certificate failure does
not heal on retry. A ``ReadTimeoutError`` is never retried (the model may have run).
"""
_MESSAGE_CHARS = 300

# The read timeout of the attempt in flight (botocore reads it from the request context).
_attempt_read_timeout: ContextVar[float | None] = ContextVar("attempt_read_timeout", default=None)


def current_attempt_read_timeout() -> float | None:
    """The read timeout of the attempt in flight (``None`` outside :func:`invoke`)."""
    return _attempt_read_timeout.get()


def _set_attempt_read_timeout(context: dict[str, Any], **_: Any) -> None:
    timeout = _attempt_read_timeout.get()
    if timeout is not None:
        context["read_timeout"] = timeout


def runtime_client(
    budget: TimeBudget,
    *,
    region_name: str | None = None,
    endpoint_url: str | None = None,
    **kwargs: Any,
) -> Any:
    """A ``bedrock-runtime`` client whose only retries are :func:`invoke`'s.

    botocore's own retries are off (``total_max_attempts`` 1) so the two never multiply; its
    timeouts are the budget's, and :func:`invoke` shortens the read timeout of each attempt
    to the time left.

    Parameters
    ----------
    budget:
        The stage's time budget (connect and read timeouts).
    region_name:
        Default: ``AWS_REGION`` (set by Lambda).
    endpoint_url:
        Another endpoint (tests: the local wire-protocol server).
    **kwargs:
        Passed to ``create_client`` (tests: static credentials).
    """
    return _client("bedrock-runtime", budget, region_name, endpoint_url, **kwargs)


def agent_runtime_client(
    budget: TimeBudget,
    *,
    region_name: str | None = None,
    endpoint_url: str | None = None,
    **kwargs: Any,
) -> Any:
    """A ``bedrock-agent-runtime`` client (Retrieve), configured like :func:`runtime_client`."""
    return _client("bedrock-agent-runtime", budget, region_name, endpoint_url, **kwargs)


def _client(
    service: str,
    budget: TimeBudget,
    region_name: str | None,
    endpoint_url: str | None,
    **kwargs: Any,
) -> Any:
    from botocore.config import Config
    from botocore.session import get_session

    config = Config(
        retries={"mode": "standard", "total_max_attempts": 1},
        connect_timeout=budget.connect_timeout_seconds,
        read_timeout=budget.read_timeout_seconds,
        tcp_keepalive=True,
    )
    client = get_session().create_client(
        service,
        region_name=region_name or os.environ.get("AWS_REGION"),
        endpoint_url=endpoint_url,
        config=config,
        **kwargs,
    )
    client.meta.events.register(f"before-call.{service}", _set_attempt_read_timeout)
    return client


def invoke(
    operation: Callable[..., T],
    arguments: dict[str, Any],
    *,
    deadline: Deadline,
    budget: TimeBudget,
    sleep: Callable[[float], None] = time.sleep,
    rand: Callable[[], float] = random.random,
    retry: RetryPolicy = MODEL_CALL,
    attempts: Attempts | None = None,
) -> T:
    """Call ``operation(**arguments)`` with retries that fit the time budget.

    For a model call (``retry`` :data:`MODEL_CALL`) retries only what Bedrock refused before
    running the model (:data:`RETRYABLE_CODES`, connection failures before the request was
    sent, :data:`NEVER_SENT`); a read timeout is never retried: the model may have answered
    (and billed). A read-only call (:data:`READ_ONLY_CALL`) also retries transient server
    errors, read timeouts and broken connections. Backoff is full-jitter exponential, at most
    ``budget.max_attempts`` attempts, never an attempt that could not end by the deadline.

    ``attempts``, when given, receives the calls made and whether the last failure proves the
    model never ran (:mod:`kit_runtime.routing` falls back on it).

    Raises
    ------
    errors.KitError
        The mapped failure: 504 when no attempt fits, 429 with ``Retry-After`` when throttled,
        503 with ``Retry-After`` when Bedrock could not be reached.
    """
    tally = attempts if attempts is not None else Attempts()
    retries = 0
    while True:
        read_timeout = attempt_read_timeout(deadline, budget)
        if not read_timeout:
            raise errors.DeadlineExceeded(_no_time(budget))
        token = _attempt_read_timeout.set(read_timeout)
        tally.made += 1
        tally.never_ran = False
        try:
            return operation(**arguments)
        except ReadTimeoutError:
            delay = backoff_seconds(budget, retries + 1, rand)
            if (
                retry.read_only
                and retries + 1 < budget.max_attempts
                and attempt_read_timeout(deadline, budget, after=delay)
            ):
                sleep(delay)
                retries += 1
                continue
            if read_timeout < budget.read_timeout_seconds:
                raise errors.DeadlineExceeded(_no_time(budget)) from None
            raise errors.UpstreamTimeout(
                f"Bedrock did not answer within {budget.read_timeout_seconds:g} s; "
                "ask for fewer tokens or a faster tier"
            ) from None
        except (ClientError, BotocoreConnectionError) as exc:
            tally.never_ran = _safe_to_retry(exc, MODEL_CALL)
            retry_after = retry_after_seconds(budget, retries + 1)
            if not _safe_to_retry(exc, retry) or retries + 1 >= budget.max_attempts:
                raise _mapped(exc, retry_after) from None
            delay = backoff_seconds(budget, retries + 1, rand)
            if not attempt_read_timeout(deadline, budget, after=delay):
                # No further attempt fits: answer now, before the gateway cuts.
                raise _mapped(exc, retry_after) from None
            sleep(delay)
            retries += 1
        except Exception as exc:
            mapped = map_error(exc)
            if mapped is None:
                raise
            raise mapped from None
        finally:
            _attempt_read_timeout.reset(token)


def _mapped(exc: ClientError | BotocoreConnectionError, retry_after_s: int) -> errors.KitError:
    mapped = map_error(exc, retry_after_s=retry_after_s)
    # Every botocore client or connection error has a mapping; the fallback keeps types honest.
    return mapped or errors.UpstreamFailure("Bedrock failed; try again")


def _no_time(budget: TimeBudget) -> str:
    return (
        f"the answer cannot arrive within the API's time budget "
        f"({budget.integration_timeout_ms / 1000:g} s); ask for fewer tokens or a faster "
        "tier, or try again"
    )


def _safe_to_retry(exc: Exception, retry: RetryPolicy) -> bool:
    if isinstance(exc, ClientError):
        return error_code(exc) in retry.codes
    return retry.read_only or isinstance(exc, NEVER_SENT)


def error_code(exc: ClientError) -> str:
    """The Bedrock error code (mid-stream errors arrive in lower camel case)."""
    code = str(exc.response.get("Error", {}).get("Code", ""))
    return code[:1].upper() + code[1:]


@contextmanager
def bedrock_errors(*, retry_after_s: int = 1) -> Iterator[None]:
    """Raise Bedrock and transport failures inside the block as the API's errors."""
    try:
        yield
    except Exception as exc:
        mapped = map_error(exc, retry_after_s=retry_after_s)
        if mapped is None:
            raise
        raise mapped from None


def map_error(exc: BaseException, *, retry_after_s: int = 1) -> errors.KitError | None:
    """A botocore failure as the API's answer (no trace, a hint what to do); else ``None``."""
    if isinstance(exc, errors.KitError):
        return exc
    if isinstance(exc, ParamValidationError):
        # botocore's client-side checks: the request passed the schema but not the service
        # model (e.g. an empty stop sequence); the caller can fix it.
        report = str(exc.kwargs.get("report", exc))
        return errors.BedrockRejected(
            f"a request value is outside what Bedrock accepts: {errors.clip(report, 200)}"
        )
    if isinstance(exc, ReadTimeoutError):
        return errors.UpstreamTimeout("Bedrock did not answer in time; try again")
    # Every botocore connection failure (connect timeout, TLS, proxy, no route) and every
    # other transport failure: Bedrock was not reached or the exchange broke; try again.
    if isinstance(exc, BotocoreConnectionError | HTTPClientError):
        return errors.UpstreamUnavailable(
            "Bedrock could not be reached; try again",
            headers={"Retry-After": str(retry_after_s)},
        )
    if not isinstance(exc, ClientError):
        return None
    code = error_code(exc)
    message = str(exc.response.get("Error", {}).get("Message", ""))
    if code in _THROTTLE_CODES:
        return errors.Throttled(
            "Bedrock is throttling this model; retry after the delay",
            headers={"Retry-After": str(retry_after_s)},
            retry_after_seconds=retry_after_s,
        )
    if code in _VALIDATION_CODES:
        return errors.BedrockRejected(
            f"Bedrock rejected the request: {errors.clip(message, _MESSAGE_CHARS)}"
        )
    if code in _TIMEOUT_CODES:
        return errors.UpstreamTimeout(
            "the model did not answer in time; try again or ask for fewer tokens"
        )
    if code in _UNAVAILABLE_CODES:
        return errors.UpstreamUnavailable(
            "the model is temporarily unavailable; try again",
            headers={"Retry-After": str(retry_after_s)},
        )
    if code in _STREAM_FAILURE_CODES:
        return errors.ModelStreamFailed(
            "the model's response stream failed before the answer was complete; the request "
            "may be retried",
            bedrock_code=code,
        )
    return errors.UpstreamFailure(
        f"Bedrock answered {code or 'an error'}; the platform team "
        "should check model access and IAM for this stage",
        bedrock_code=code,
    )
