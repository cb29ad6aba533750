"""Output that remembers when each piece was written, to tell streamed from buffered output."""

from __future__ import annotations

import io
import os
import re
import select
import subprocess
import time


class TimedWriter(io.StringIO):
    """A text stream (``sys.stdout`` stand-in) recording ``(time.monotonic(), text)`` per write."""

    def __init__(self) -> None:
        super().__init__()
        self.writes: list[tuple[float, str]] = []

    def write(self, text: str) -> int:
        self.writes.append((time.monotonic(), text))
        return super().write(text)

    def first_time(self, needle: str) -> float:
        """When the output so far first contained ``needle``."""
        seen = ""
        for when, text in self.writes:
            seen += text
            if needle in seen:
                return when
        raise AssertionError(f"{needle!r} was never written; output: {seen!r}")


def read_timed(process: subprocess.Popen[bytes], *, timeout_s: float) -> list[tuple[float, bytes]]:
    """Every piece of ``process``'s stdout with the ``time.monotonic()`` it arrived, to EOF."""
    assert process.stdout is not None
    fd = process.stdout.fileno()
    pieces: list[tuple[float, bytes]] = []
    deadline = time.monotonic() + timeout_s
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            raise AssertionError(f"no end of output in {timeout_s} s: {pieces!r}")
        ready, _, _ = select.select([fd], [], [], left)
        if not ready:
            continue
        chunk = os.read(fd, 65536)
        if not chunk:
            return pieces
        pieces.append((time.monotonic(), chunk))


def first_arrival(pieces: list[tuple[float, bytes]], needle: bytes) -> float:
    """When the output in ``pieces`` first contained ``needle``."""
    seen = b""
    for when, chunk in pieces:
        seen += chunk
        if needle in seen:
            return when
    raise AssertionError(f"{needle!r} never arrived; output: {seen!r}")


_EMF_LINE = re.compile(r'\{"_aws":[^\n]*\n')


def without_metrics(text: str) -> str:
    """``text`` without the EMF metric lines an in-process server thread printed into it.

    The local stream app runs in the test's process, so its Powertools metrics go to the same
    ``sys.stdout`` the client prints its deltas to, and may land between two deltas.
    """
    return _EMF_LINE.sub("", text)
