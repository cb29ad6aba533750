"""An endpoint on 127.0.0.1 where every TCP connect times out (no packet leaves the host).

A listening socket with a backlog of 0 that never accepts: once one connection fills its
queue, Linux drops further SYNs, so a client's connect waits for its connect timeout exactly
as it would against an unreachable Bedrock endpoint.
"""

from __future__ import annotations

import socket
from types import TracebackType


class BlackholeEndpoint:
    """Context manager; ``endpoint_url`` is valid while it is open."""

    def __init__(self) -> None:
        self._listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._filler = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.endpoint_url = ""

    def __enter__(self) -> BlackholeEndpoint:
        self._listener.bind(("127.0.0.1", 0))
        self._listener.listen(0)
        host, port = self._listener.getsockname()
        self._filler.settimeout(1.0)
        self._filler.connect((host, port))
        self.endpoint_url = f"http://{host}:{port}"
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._filler.close()
        self._listener.close()
