"""The stream client's pure parts: reading server-sent events and the one-line summary."""

from __future__ import annotations

from collections.abc import Iterator

from stacks.tools.client import describe_done, server_events


def test_given_events_split_across_lines_when_read_then_each_is_yielded_once_it_ends() -> None:
    # Given an event stream with a comment, a two-line data field and CRLF line ends
    read: list[bytes] = []

    def lines() -> Iterator[bytes]:
        for line in [
            b": keep-alive\n",
            b"event: delta\r\n",
            b'data: {"text": "Once"}\r\n',
            b"\r\n",
            b"event: done\n",
            b'data: {"model":\n',
            b'data: "m"}\n',
            b"\n",
        ]:
            read.append(line)
            yield line

    events = server_events(lines())
    # When the first event is taken, Then it came as soon as its blank line was read
    first = next(events)
    assert (first.event, first.data) == ("delta", {"text": "Once"})
    assert len(read) == 4
    # And the next joins its data lines with a newline, as the SSE format says
    second = next(events)
    assert (second.event, second.data) == ("done", {"model": "m"})
    assert list(events) == []


def test_given_data_that_is_not_json_when_read_then_the_raw_text_is_kept() -> None:
    (event,) = server_events([b"event: error\n", b"data: upstream went away\n", b"\n"])
    assert event.data is None and event.raw == "upstream went away"


def test_given_an_unfinished_event_when_the_stream_ends_then_it_is_not_yielded() -> None:
    assert list(server_events([b"event: done\n", b'data: {"model": "m"}\n'])) == []


def test_given_a_done_event_when_described_then_one_line_names_who_answered_and_what_it_cost() -> (
    None
):
    done = {
        "model": "vendor.model-a",
        "tier": "fast",
        "attempts": 4,
        "fallbacks": 1,
        "usage": {"input_tokens": 12, "output_tokens": 30},
        "cost": {"total_usd": 0.000123, "currency": "USD"},
        "guardrail_intervened": True,
    }
    line = describe_done(done)
    assert "\n" not in line
    for part in (
        "vendor.model-a",
        "tier fast",
        "attempts 4",
        "fallbacks 1",
        "12 in",
        "30 out",
        "0.000123 USD",
        "guardrail",
    ):
        assert part in line
