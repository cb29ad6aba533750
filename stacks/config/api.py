"""The REST API: auth, throttling, token caps, request limits and the one time budget."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from stacks.config.base import Strict

# API Gateway REST integrations wait at most 29 s unless the account's quota "Maximum
# integration timeout in milliseconds" is raised (Regional and private REST APIs only).
# Source: aws.amazon.com/about-aws/whats-new/2024/06/amazon-api-gateway-integration-timeout-
# limit-29-seconds/ (checked 2026-11-30). 300 s is the ceiling AWS support quotes on re:Post
# (unverified in the API Gateway quota table).
DEFAULT_INTEGRATION_TIMEOUT_S = 29
RAISED_INTEGRATION_TIMEOUT_MAX_S = 300


class RequestLimits(Strict):
    """Bounds on one request; a request over one gets a 413/400 naming the limit."""

    # API Gateway payloads stop at 10 MB and a synchronous Lambda invoke at 6 MB for the whole
    # proxy event (Lambda API_Invoke, checked 2026-11-30). The body travels JSON-escaped inside
    # the event, which can double it (every quote becomes \"), so the bound stays under half
    # of 6 MB with room for headers and context. 1 MiB keeps a few images (base64 adds a third)
    # and fails oversized bodies early.
    max_body_bytes: int = Field(default=1_048_576, ge=1024, le=2_800_000)
    max_messages: int = Field(default=100, ge=1, le=1000)
    max_content_blocks: int = Field(default=20, ge=1, le=100)
    max_text_chars: int = Field(default=100_000, ge=1, le=1_000_000)
    max_stop_sequences: int = Field(default=4, ge=0, le=10)
    max_stop_sequence_chars: int = Field(default=100, ge=1, le=1000)
    max_images: int = Field(default=5, ge=0, le=20)
    # Converse accepts images up to 3.75 MB each (Bedrock user guide, Converse API
    # "ImageBlock"; checked 2026-11-30).
    max_image_bytes: int = Field(default=3_750_000, ge=1, le=3_750_000)


# AWS WAF rate-based rules (botocore wafv2 2019-07-29 RateBasedStatement, checked 2026-12-01):
# Limit 10-2,000,000,000 requests per EvaluationWindowSec, one of 60/120/300/600 (default 300).
WAF_RATE_LIMIT_MIN = 10
WAF_RATE_LIMIT_MAX = 2_000_000_000


class WafConfig(Strict):
    """The AWS WAF web ACL on the API stage (stacks/api/waf.py)."""

    enabled: bool | None = None
    """``null``: on in a ``production`` stage, off otherwise (a web ACL bills per month)."""
    rate_limit: int = Field(default=2000, ge=WAF_RATE_LIMIT_MIN, le=WAF_RATE_LIMIT_MAX)
    """Requests one source IP may send per ``rate_window_seconds`` before WAF blocks it."""
    rate_window_seconds: Literal[60, 120, 300, 600] = 300
    logging: bool = True
    """Blocked and counted requests to the log group ``aws-waf-logs-<kit>-<stage>``."""


class ApiConfig(Strict):
    """The chat REST API."""

    auth: Literal["iam"] = "iam"
    endpoint: Literal["regional"] = "regional"
    throttle_rate_limit: float = Field(default=20, ge=1, le=10000)
    throttle_burst_limit: int = Field(default=40, ge=1, le=5000)
    default_max_tokens: int = Field(default=1024, ge=1, le=128000)
    max_tokens_limit: int = Field(default=4096, ge=1, le=128000)
    integration_timeout_seconds: int = Field(
        default=DEFAULT_INTEGRATION_TIMEOUT_S, ge=3, le=RAISED_INTEGRATION_TIMEOUT_MAX_S
    )
    """How long API Gateway waits for the function; every other timeout derives from it."""
    integration_timeout_quota_raised: bool = False
    """Set when the account's integration-timeout quota allows more than 29 s."""
    limits: RequestLimits = RequestLimits()
    waf: WafConfig = WafConfig()


def api_problems(prefix: str, api: ApiConfig) -> list[str]:
    """Cross-field checks of the API block."""
    problems: list[str] = []
    if api.default_max_tokens > api.max_tokens_limit:
        problems.append(
            f"{prefix}.api.default_max_tokens: {api.default_max_tokens} exceeds "
            f"api.max_tokens_limit ({api.max_tokens_limit}); allowed: <= {api.max_tokens_limit}"
        )
    if api.throttle_burst_limit < api.throttle_rate_limit:
        problems.append(
            f"{prefix}.api.throttle_burst_limit: {api.throttle_burst_limit} is below "
            f"throttle_rate_limit ({api.throttle_rate_limit:g}); allowed: >= the rate limit"
        )
    timeout = api.integration_timeout_seconds
    if timeout > DEFAULT_INTEGRATION_TIMEOUT_S and not api.integration_timeout_quota_raised:
        problems.append(
            f"{prefix}.api.integration_timeout_seconds: {timeout} exceeds API Gateway's "
            f"default of {DEFAULT_INTEGRATION_TIMEOUT_S} s; allowed: 3-"
            f"{DEFAULT_INTEGRATION_TIMEOUT_S}, or up to {RAISED_INTEGRATION_TIMEOUT_MAX_S} after "
            "raising the account's 'Maximum integration timeout in milliseconds' quota and "
            "setting api.integration_timeout_quota_raised: true"
        )
    return problems


def waf_enabled(api: ApiConfig, *, production: bool) -> bool:
    """Whether the stage's API gets a web ACL: ``api.waf.enabled``, else the stage's
    ``production``."""
    return production if api.waf.enabled is None else api.waf.enabled
