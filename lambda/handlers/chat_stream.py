"""Streaming chat function: ``POST /chat/stream`` behind API Gateway response streaming.

Python Lambda cannot stream a response itself: the function runs this module as a web server
(``run.sh``, started by the Lambda Web Adapter layer's ``/opt/bootstrap``), and the adapter
turns each invocation into an HTTP request to it and streams the answer back
(``AWS_LWA_INVOKE_MODE=response_stream``). The app is :class:`kit_runtime.streaming.ChatStreamApp`;
the service is built on first use from the same settings contract as ``POST /chat``
(``KIT_SETTINGS``), and ``make serve-local`` / tests inject their own with :func:`use_service`.
"""

from __future__ import annotations

import os

from kit_runtime.chat import ChatService, stage_chat_service
from kit_runtime.streaming import ChatStreamApp

PORT_VARIABLES = ("AWS_LWA_PORT", "PORT")
DEFAULT_PORT = 8080
"""The adapter's default traffic port (its ``AWS_LWA_PORT``)."""

_service: ChatService | None = None


def service() -> ChatService:
    """The stage's service, built once per execution environment."""
    global _service
    if _service is None:
        _service = stage_chat_service()
    return _service


def use_service(new: ChatService | None) -> None:
    """Replace the service (tests, ``make serve-local``); ``None`` rebuilds it on next use."""
    global _service
    _service = new


app = ChatStreamApp(service)


def port(env: os._Environ[str] | dict[str, str] = os.environ) -> int:
    """The port the adapter forwards to (``AWS_LWA_PORT``, else ``PORT``, else 8080)."""
    for name in PORT_VARIABLES:
        if env.get(name):
            return int(env[name])
    return DEFAULT_PORT


def main() -> None:
    """Serve :data:`app` on 127.0.0.1 (the adapter runs beside it in the same sandbox)."""
    import uvicorn

    # Build the service during Lambda's init phase, not in the first request.
    service()
    uvicorn.run(app, host="127.0.0.1", port=port(), log_level="warning", access_log=False)


if __name__ == "__main__":
    main()
