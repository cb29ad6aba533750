"""The stage's Lambda functions, their logs and their retry policy."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from stacks.config.base import Strict

# The one retention table: the periods CloudWatch Logs accepts (PutRetentionPolicy's
# retentionInDays, botocore logs service model; checked 2026-11-30), named as aws_logs does.
RETENTION_DAYS: dict[int, str] = {
    1: "ONE_DAY",
    3: "THREE_DAYS",
    5: "FIVE_DAYS",
    7: "ONE_WEEK",
    14: "TWO_WEEKS",
    30: "ONE_MONTH",
    60: "TWO_MONTHS",
    90: "THREE_MONTHS",
    120: "FOUR_MONTHS",
    150: "FIVE_MONTHS",
    180: "SIX_MONTHS",
    365: "ONE_YEAR",
    400: "THIRTEEN_MONTHS",
    545: "EIGHTEEN_MONTHS",
    731: "TWO_YEARS",
    1096: "THREE_YEARS",
    1827: "FIVE_YEARS",
    2192: "SIX_YEARS",
    2557: "SEVEN_YEARS",
    2922: "EIGHT_YEARS",
    3288: "NINE_YEARS",
    3653: "TEN_YEARS",
}


class RuntimeConfig(Strict):
    """The Lambda functions and their logs."""

    memory_mb: int = Field(default=512, ge=128, le=10240)
    log_retention_days: int = 30
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    log_prompts: bool = False
    """Opt-in: log prompts and completions (off by default; they may hold personal data)."""
    max_attempts: int = Field(default=3, ge=1, le=10)
    """Bedrock attempts per request (the runtime's own retries; botocore's are off)."""
    retry_base_delay_ms: int = Field(default=200, ge=1, le=10_000)
    retry_max_delay_ms: int = Field(default=2_000, ge=1, le=30_000)
    allow_fallback_for_named_models: bool = False
    """A request naming a model may fall back along the first tier chain that lists it (off:
    a named model is what the caller asked for, and only that model answers)."""
    deadline_margin_ms: int = Field(default=1_000, ge=100, le=10_000)
    """The runtime answers this long before API Gateway would cut the connection."""
    connect_timeout_seconds: float = Field(default=2.0, gt=0, le=10)
    reserved_concurrency: int | None = Field(default=None, ge=1, le=1000)
    tracing: bool = True
    """X-Ray active tracing with the Powertools Tracer (a subsegment per Bedrock call). Off,
    the functions trace nothing themselves (Lambda's default, PassThrough), hold no X-Ray
    permission and skip the X-Ray SDK: about 100 ms less cold start."""


# Keys that moved, with what to write instead (a fork upgrading its cdk.json is told how).
MOVED_KEYS = {
    "runtime.timeout_seconds": (
        "removed: the function timeout now derives from api.integration_timeout_seconds"
    ),
}


def runtime_problems(prefix: str, runtime: RuntimeConfig, integration_timeout_s: int) -> list[str]:
    """Cross-field checks of the runtime block against the API's time budget."""
    problems: list[str] = []
    if runtime.log_retention_days not in RETENTION_DAYS:
        problems.append(
            f"{prefix}.runtime.log_retention_days: {runtime.log_retention_days} is not a "
            f"CloudWatch retention; allowed: {', '.join(map(str, RETENTION_DAYS))}"
        )
    if runtime.retry_base_delay_ms > runtime.retry_max_delay_ms:
        problems.append(
            f"{prefix}.runtime.retry_base_delay_ms: {runtime.retry_base_delay_ms} exceeds "
            f"retry_max_delay_ms ({runtime.retry_max_delay_ms}); allowed: <= the maximum"
        )
    spare_ms = integration_timeout_s * 1000 - runtime.deadline_margin_ms
    if spare_ms < runtime.connect_timeout_seconds * 1000 + 1000:
        problems.append(
            f"{prefix}.runtime.deadline_margin_ms: {runtime.deadline_margin_ms} leaves "
            f"{spare_ms} ms of the {integration_timeout_s} s integration timeout; allowed: "
            "a margin that leaves at least connect_timeout_seconds + 1 s for the model call"
        )
    return problems
