"""A small throttling storm: 30% of Converse calls refused at random (seeded), and retries and
fallback still answer almost every request, each exactly once (bench/throttling_storm.py runs
the full count)."""

from __future__ import annotations

from tests.fakes import FakeBedrock
from tests.support.chat_api import make_service
from tests.support.routing import chained_settings
from tests.support.storm import run_storm

REQUESTS = 200
RATE = 0.3


def test_given_a_storm_of_random_throttling_then_requests_are_answered_once_each(
    bedrock_server: FakeBedrock,
) -> None:
    # Given a fast tier of three models and a server that throttles 30% of calls at random
    service = make_service(bedrock_server, chained_settings(3))
    # When 200 requests arrive on 8 threads
    result = run_storm(bedrock_server, service, requests=REQUESTS, rate=RATE, seed=8, workers=8)
    # Then the storm happened (about 30% of calls refused)
    assert 0.2 < result.server_refusals / result.server_calls < 0.4, result.summary()
    # And at least 99.5% were answered through retries and fallback
    assert result.success_rate >= 0.995, result.summary()
    assert sum(n for attempts, n in result.attempts.items() if attempts > 1) > 0
    # And none was lost, none answered twice, each caller got its own answer
    assert result.lost() == [], result.summary()
    assert result.answered_twice() == [], result.summary()
    assert result.wrong_answers() == [], result.summary()
    # And the server ran the model once per answered request, no more
    assert sum(result.server_answers.values()) == len(result.answered)
