"""A stand-in for the Lambda context object (what the handlers and Powertools read)."""

from __future__ import annotations

import time
from dataclasses import dataclass, field


@dataclass
class LambdaContext:
    """The parts of the Lambda context the handlers use."""

    remaining_ms: int = 30_000
    function_name: str = "kit-test-chat"
    memory_limit_in_mb: int = 512
    invoked_function_arn: str = "arn:aws:lambda:us-east-1:123456789012:function:kit-test-chat"
    aws_request_id: str = "req-1"
    started: float = field(default_factory=time.monotonic)

    def get_remaining_time_in_millis(self) -> int:
        elapsed_ms = (time.monotonic() - self.started) * 1000
        return int(self.remaining_ms - elapsed_ms)
