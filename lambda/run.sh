#!/bin/sh
# The streaming chat function's handler: the Lambda Web Adapter's /opt/bootstrap runs it, and
# it starts the web server the adapter forwards each invocation to (handlers/chat_stream.py).
cd "${LAMBDA_TASK_ROOT:-.}" && exec python3 -m handlers.chat_stream
