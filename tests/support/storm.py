"""A throttling storm: many chat requests while the local server refuses a share at random.

Shared by the storm test (a small count) and ``bench/throttling_storm.py`` (the full count).
Each request carries its own id in its prompt; the local server echoes it back, so the run can
tell, per id, whether the caller got its own answer and how many answers the server gave.
"""

from __future__ import annotations

import collections
import statistics
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from kit_runtime import errors
from kit_runtime.chat import ChatService
from kit_runtime.contracts.chat_api import ChatRequest
from tests.fakes import FakeBedrock

TAG = "storm-request"


@dataclass
class StormResult:
    """What a storm did, from the callers' side and the server's."""

    sent: list[str]
    answered: dict[str, str] = field(default_factory=dict)
    """Request id -> the text its caller got."""
    failed: dict[str, str] = field(default_factory=dict)
    """Request id -> the API error code its caller got."""
    latencies_ms: list[float] = field(default_factory=list)
    attempts: collections.Counter[int] = field(default_factory=collections.Counter)
    fallbacks: collections.Counter[int] = field(default_factory=collections.Counter)
    server_answers: collections.Counter[str] = field(default_factory=collections.Counter)
    """Request id -> successful (200) Converse answers the server gave for it."""
    server_refusals: int = 0
    server_calls: int = 0
    seconds: float = 0.0

    @property
    def success_rate(self) -> float:
        return len(self.answered) / len(self.sent)

    def lost(self) -> list[str]:
        """Ids that got neither an answer nor an error."""
        return [i for i in self.sent if i not in self.answered and i not in self.failed]

    def answered_twice(self) -> list[str]:
        """Ids the server answered more than once (a model that ran twice, billed twice)."""
        return [i for i, n in self.server_answers.items() if n > 1]

    def wrong_answers(self) -> list[str]:
        """Ids whose caller got text that is not the echo of its own prompt."""
        return [i for i, text in self.answered.items() if not text.endswith(f"{TAG} {i}")]

    def percentile_ms(self, q: float) -> float:
        """The ``q`` quantile (0-1) of the answered requests' latency."""
        ordered = sorted(self.latencies_ms)
        return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]

    def summary(self) -> str:
        mean = statistics.fmean(self.latencies_ms) if self.latencies_ms else 0.0
        return "; ".join(
            [
                f"{len(self.sent)} requests, {len(self.answered)} answered "
                f"({self.success_rate:.2%}), {len(self.failed)} failed, {len(self.lost())} lost, "
                f"{len(self.answered_twice())} answered twice",
                f"server refused {self.server_refusals} of {self.server_calls} calls",
                f"p50 {self.percentile_ms(0.5):.1f} ms, p99 {self.percentile_ms(0.99):.1f} ms, "
                f"mean {mean:.1f} ms",
                f"fallbacks {dict(sorted(self.fallbacks.items()))}",
                f"attempts {dict(sorted(self.attempts.items()))}",
                f"{self.seconds:.1f} s",
            ]
        )


def run_storm(
    server: FakeBedrock,
    service: ChatService,
    *,
    requests: int,
    rate: float,
    seed: int,
    workers: int,
    tier: str = "fast",
) -> StormResult:
    """Send ``requests`` chat requests on ``workers`` threads while ``rate`` of Converse calls
    are throttled at random (seeded); every caller's outcome and the server's answers."""
    server.reset()
    server.throttle_randomly(rate, seed=seed)
    ids = [f"{i:05d}" for i in range(requests)]
    result = StormResult(sent=ids)

    def one(request_id: str) -> None:
        request = ChatRequest.model_validate(
            {"tier": tier, "messages": [{"role": "user", "content": f"{TAG} {request_id}"}]}
        )
        started = time.perf_counter()
        try:
            answer = service.chat(request)
        except errors.KitError as error:
            result.failed[request_id] = error.code
            return
        result.latencies_ms.append((time.perf_counter() - started) * 1000)
        result.answered[request_id] = answer.text
        result.attempts[answer.attempts] += 1
        result.fallbacks[answer.fallbacks] += 1

    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=workers) as pool:
        list(pool.map(one, ids))
    result.seconds = time.perf_counter() - started
    server.throttle_randomly(0, seed=seed)
    for recorded in server.requests:
        if recorded.operation != "Converse":
            continue
        result.server_calls += 1
        if recorded.status == 200:
            text = recorded.body["messages"][-1]["content"][0]["text"]
            result.server_answers[text.removeprefix(f"{TAG} ")] += 1
        else:
            result.server_refusals += 1
    return result
