"""One request's time budget: the deadline and when another Bedrock attempt still fits.

The deadline is the earlier of the gateway's cut (request start + integration timeout) and the
function's own timeout, less a safety margin so the kit answers with its own JSON error first.
"""

from __future__ import annotations

import math
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from kit_runtime.contracts.chat import TimeBudget

Clock = Callable[[], float]
"""Wall-clock seconds since the epoch (``time.time``); injectable for tests."""

MIN_ATTEMPT_READ_SECONDS = 1.0
"""An attempt starts only if it may wait this long for the answer (or the whole read timeout,
when that is shorter): a shorter wait could only end in a timeout that may still be billed."""


@dataclass(frozen=True)
class Deadline:
    """When the kit must have answered, in epoch seconds of ``clock``."""

    at: float
    clock: Clock = field(default=time.time, compare=False)

    @classmethod
    def for_request(
        cls,
        budget: TimeBudget,
        *,
        request_time_epoch_ms: int | None,
        function_remaining_ms: int | None,
        clock: Clock = time.time,
    ) -> Deadline:
        """The deadline of one API Gateway request.

        Parameters
        ----------
        budget:
            The stage's time budget.
        request_time_epoch_ms:
            ``requestContext.requestTimeEpoch`` (when the gateway received the request);
            ``None`` outside API Gateway: the function's deadline alone then applies.
        function_remaining_ms:
            ``context.get_remaining_time_in_millis()``; ``None`` outside Lambda.
        clock:
            Epoch seconds.
        """
        now = clock()
        limits = []
        if request_time_epoch_ms is not None:
            # A gateway clock slightly ahead of the function's must not extend the budget.
            start = min(request_time_epoch_ms / 1000, now)
            limits.append(start + budget.integration_timeout_ms / 1000)
        if function_remaining_ms is not None:
            limits.append(now + function_remaining_ms / 1000)
        if not limits:
            limits.append(now + budget.integration_timeout_ms / 1000)
        return cls(min(limits) - budget.safety_margin_ms / 1000, clock)

    def remaining(self) -> float:
        """Seconds left (negative once passed)."""
        return self.at - self.clock()


def attempt_read_timeout(deadline: Deadline, budget: TimeBudget, *, after: float = 0.0) -> float:
    """The read timeout an attempt starting ``after`` seconds from now may use, or 0.

    The attempt's worst case is connect + read; the read timeout is the configured one, cut so
    the attempt ends by the deadline. 0 means the attempt must not start.
    """
    left = deadline.remaining() - after - budget.connect_timeout_seconds
    read = min(budget.read_timeout_seconds, left)
    return read if read >= min(budget.read_timeout_seconds, MIN_ATTEMPT_READ_SECONDS) else 0.0


def backoff_seconds(
    budget: TimeBudget, retry: int, rand: Callable[[], float] = random.random
) -> float:
    """Full-jitter exponential backoff before retry number ``retry`` (1 for the first)."""
    cap = min(budget.backoff_max_ms, budget.backoff_base_ms * 2 ** (retry - 1))
    return rand() * cap / 1000


def retry_after_seconds(budget: TimeBudget, retries: int) -> int:
    """The ``Retry-After`` a throttled caller gets: the next backoff cap, at least 1 s."""
    cap = min(budget.backoff_max_ms, budget.backoff_base_ms * 2**retries)
    return max(1, math.ceil(cap / 1000))
