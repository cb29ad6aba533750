"""The kit's API on localhost: ``make serve-local`` (no AWS account) and ``make serve``.

Usage::

    python -m stacks.tools.serve --local [--stage NAME] [--port 8000]  # local Bedrock stand-in
    python -m stacks.tools.serve --stage dev [--profile p] [--port 8000]  # real Bedrock

Both serve the handlers Lambda runs, unchanged: ``POST /chat/stream`` is the streaming
function's ASGI app (:mod:`handlers.chat_stream`), and ``POST /chat`` and ``GET /models`` are
the chat function's Powertools handler (:mod:`handlers.chat`), called with the REST proxy event
API Gateway would send. There is no SigV4 check on localhost; API Gateway's own request
model is not applied either (the handlers' checks are, and answer the same JSON errors).

``--local`` builds the chat settings from the stage's config with the code the stack uses
(:func:`stacks.api.chat_endpoint.chat_settings`), with stand-in ARNs, and answers every model
call from the local Bedrock wire server (:mod:`tests.fakes.bedrock_server`, started in this
process): it echoes the last user message, streamed two words an event. Without ``--local``
the settings are the deployed stage's own: the ``KIT_SETTINGS`` of its chat function (the
application inference profile ARNs and the guardrail the stack wrote), read with the caller's
credentials, and models are called in the stage's region.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import dataclasses
import json
import os
import sys
import time
import uuid
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
LAMBDA_DIR = ROOT / "lambda"
DEFAULT_PORT = 8000
DEFAULT_EVENT_DELAY_S = 0.05
"""``--local``: seconds between the stand-in's stream events, so the streaming shows."""
STAND_IN_ACCOUNT = "000000000000"
"""The account of the stand-in ARNs ``--local`` serves with (nothing is called in it)."""

# Powertools reads these at import: a quiet terminal (no metric lines, no X-Ray).
_LOCAL_ENV = {
    "POWERTOOLS_SERVICE_NAME": "chat",
    "POWERTOOLS_METRICS_NAMESPACE": "BedrockKitLocal",
    "POWERTOOLS_METRICS_DISABLED": "true",
    "POWERTOOLS_TRACE_DISABLED": "true",
    "POWERTOOLS_LOG_LEVEL": "WARNING",
}


class ServeProblem(Exception):
    """Something to fix before the server can start; the message says what."""


def _runtime_path() -> None:
    if str(LAMBDA_DIR) not in sys.path:  # the handlers and the config's contracts
        sys.path.insert(0, str(LAMBDA_DIR))
    for name, value in _LOCAL_ENV.items():
        os.environ.setdefault(name, value)


def stage_plan(stage: str, cdk_json: Path) -> Any:
    """The stage's plan from ``cdk_json`` (``stage`` empty: ``kit.default_stage``)."""
    _runtime_path()
    from stacks.catalog import CatalogError
    from stacks.config import ConfigError, load_plan

    try:
        context = dict(json.loads(cdk_json.read_text())["context"])
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise ServeProblem(f"{cdk_json}: cannot read its context ({error})") from None
    if stage:
        context["stage"] = stage
    try:
        return load_plan(context, {})
    except (ConfigError, CatalogError) as error:
        raise ServeProblem(f"{cdk_json.name}: {error}") from None


def local_settings(plan: Any) -> Any:
    """The chat settings the stack would write for ``plan``, with stand-in ARNs."""
    from stacks.api.chat_settings import chat_settings
    from stacks.core.references import GuardrailHandle, GuardrailHandles, ProfileHandles

    arn = f"arn:aws:bedrock:{plan.region}:{STAND_IN_ACCOUNT}"
    profiles = ProfileHandles(
        arns={
            m.id: f"{arn}:application-inference-profile/local-{i}"
            for i, m in enumerate(plan.chat_models)
        },
        revision="local",
    )
    default = plan.config.guardrail.name
    by_name: dict[str, GuardrailHandle] = {}
    for i, config in enumerate(plan.config.guardrails):
        # The default keeps the stand-in id it always had; the others are numbered.
        local = "local" if config.name == default else f"local{i}"
        by_name[config.name] = GuardrailHandle(
            arn=f"{arn}:guardrail/{local}",
            version="1",
            version_arn=f"{arn}:guardrail/{local}:1",
            revision="local",
        )
    guardrails = GuardrailHandles(default=default, by_name=by_name, revision="local")
    return chat_settings(plan, profiles=profiles, guardrails=guardrails)


def deployed_settings(plan: Any, *, profile: str | None) -> Any:
    """The ``KIT_SETTINGS`` of the deployed stage's chat function (two read-only AWS calls)."""
    import botocore.session
    from botocore.exceptions import BotoCoreError, ClientError

    from kit_runtime.contracts.chat import ENV_VAR, ChatSettings
    from stacks.tools.client import api_stack_name

    session = botocore.session.Session(profile=profile or None)
    stack = api_stack_name(plan.kit_name, plan.name)
    try:
        resources = session.create_client(
            "cloudformation", region_name=plan.region
        ).describe_stack_resources(StackName=stack)["StackResources"]
        names = [
            r["PhysicalResourceId"]
            for r in resources
            if r["ResourceType"] == "AWS::Lambda::Function"
            and r["LogicalResourceId"].startswith("ChatFunction")
        ]
        if not names:
            raise ServeProblem(f"stack {stack} in {plan.region} has no chat function")
        config = session.create_client(
            "lambda", region_name=plan.region
        ).get_function_configuration(FunctionName=names[0])
    except ClientError as error:
        message = error.response.get("Error", {}).get("Message", str(error))
        raise ServeProblem(
            f"reading the deployed settings of stage {plan.name} ({stack}, {plan.region}): "
            f"{message}; deploy the stage first (make deploy STAGE={plan.name}), or try "
            "`make serve-local`"
        ) from None
    except BotoCoreError as error:
        raise ServeProblem(
            f"reading the deployed settings of stage {plan.name}: {error}; check credentials "
            "with `make preflight`"
        ) from None
    text = (config.get("Environment") or {}).get("Variables", {}).get(ENV_VAR)
    if not text:
        raise ServeProblem(f"function {names[0]} has no {ENV_VAR}: redeploy the stage")
    return ChatSettings.model_validate_json(text)


def local_bedrock(event_delay_s: float) -> Any:
    """The local Bedrock wire server, started; its echo streams ``event_delay_s`` apart."""
    from tests.fakes.bedrock_server import FakeBedrock, Reply

    class LocalBedrock(FakeBedrock):
        @staticmethod
        def default_reply(body: dict) -> Reply:
            reply = FakeBedrock.default_reply(body)
            return dataclasses.replace(reply, delay_s=event_delay_s)

    return LocalBedrock().start()


# --- The HTTP front: the streaming ASGI app, and the REST handler through a proxy event ---------


@dataclasses.dataclass
class LocalContext:
    """The Lambda context the Powertools handler reads (a function with ``timeout_s`` left)."""

    timeout_s: float
    function_name: str = "local-chat"
    memory_limit_in_mb: int = 512
    invoked_function_arn: str = "arn:aws:lambda:local:000000000000:function:local-chat"
    aws_request_id: str = dataclasses.field(default_factory=lambda: str(uuid.uuid4()))
    started: float = dataclasses.field(default_factory=time.monotonic)

    def get_remaining_time_in_millis(self) -> int:
        return int((self.timeout_s - (time.monotonic() - self.started)) * 1000)


def proxy_event(
    method: str,
    path: str,
    headers: dict[str, str],
    body: bytes,
    *,
    stage: str = "local",
    request_time_epoch_ms: int | None = None,
) -> dict[str, Any]:
    """The API Gateway REST proxy event of one HTTP request (as Lambda receives it), received
    at ``request_time_epoch_ms`` (default: now)."""
    try:
        text, encoded = body.decode("utf-8"), False
    except UnicodeDecodeError:
        text, encoded = base64.b64encode(body).decode(), True
    return {
        "resource": path,
        "path": path,
        "httpMethod": method,
        "headers": headers,
        "multiValueHeaders": {k: [v] for k, v in headers.items()},
        "queryStringParameters": None,
        "multiValueQueryStringParameters": None,
        "pathParameters": None,
        "stageVariables": None,
        "requestContext": {
            "requestId": str(uuid.uuid4()),
            "stage": stage,
            "resourcePath": path,
            "httpMethod": method,
            "requestTimeEpoch": request_time_epoch_ms or int(time.time() * 1000),
            "identity": {"sourceIp": "127.0.0.1"},
        },
        "body": text or None,
        "isBase64Encoded": encoded,
    }


class LocalApi:
    """ASGI: ``/chat/stream`` to the streaming app, every other path to the REST handler."""

    def __init__(self, stream_app: Any, rest_handler: Any, *, timeout_s: float) -> None:
        self.stream_app = stream_app
        self.rest_handler = rest_handler
        self.timeout_s = timeout_s

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http" or scope["path"].rstrip("/") == "/chat/stream":
            await self.stream_app(scope, receive, send)
            return
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]}
        event = proxy_event(scope["method"], scope["path"], headers, body)
        result = await asyncio.get_running_loop().run_in_executor(
            None, self.rest_handler, event, LocalContext(self.timeout_s)
        )
        # With metrics off (the local server), Powertools' flush keeps what it collected.
        from kit_runtime.observability import metrics

        metrics.clear_metrics()
        answer = dict(result.get("headers") or {})
        for name, values in (result.get("multiValueHeaders") or {}).items():
            answer[name] = values[-1]
        payload = result.get("body") or ""
        raw = base64.b64decode(payload) if result.get("isBase64Encoded") else payload.encode()
        await send(
            {
                "type": "http.response.start",
                "status": result["statusCode"],
                "headers": [(k.lower().encode(), str(v).encode()) for k, v in answer.items()],
            }
        )
        await send({"type": "http.response.body", "body": raw})


def build_app(settings: Any, *, endpoint_url: str | None, region: str) -> LocalApi:
    """Both handlers serving ``settings`` through one service (Bedrock at ``endpoint_url``)."""
    from handlers import chat, chat_stream
    from kit_runtime.bedrock import runtime_client
    from kit_runtime.chat import ChatService
    from stacks.catalog import load_catalog
    from stacks.catalog.runtime_facts import runtime_catalog

    extra: dict[str, Any] = {}
    if endpoint_url is not None:  # the local server accepts any signature
        extra = {"aws_access_key_id": "local", "aws_secret_access_key": "local"}
    client = runtime_client(settings.budget, region_name=region, endpoint_url=endpoint_url, **extra)
    service = ChatService(settings, runtime_catalog(load_catalog()), client)
    chat.use_service(service)
    chat_stream.use_service(service)
    timeout_s = settings.budget.integration_timeout_ms / 1000 + 1
    return LocalApi(chat_stream.app, chat.handler, timeout_s=timeout_s)


def banner(url: str, *, where: str, model: str) -> str:
    """What the terminal shows: the URL, where models answer, and curl lines to try."""
    body = '{"messages": [{"role": "user", "content": "Tell me a story about a kit"}]}'
    return "\n".join(
        [
            f"serving the kit's API on {url} ({where})",
            f"  default tier's model: {model}",
            "try it (Ctrl-C stops the server):",
            f"  curl -s {url}/models",
            f"  curl -s {url}/chat -H 'content-type: application/json' -d '{body}'",
            f"  curl -N {url}/chat/stream -H 'content-type: application/json' -d '{body}'",
            f"  curl -s {url}/chat -H 'content-type: application/json' -d '{{\"messages\": []}}'",
            "",
        ]
    )


def main(argv: Sequence[str] | None = None) -> int:
    """Command-line entry of ``make serve-local`` and ``make serve``."""
    # The local server turns metrics off; Powertools then warns per request that it has none to
    # publish, which is noise in a terminal.
    warnings.filterwarnings("ignore", message="No application metrics to publish")
    parser = argparse.ArgumentParser(prog="python -m stacks.tools.serve")
    parser.add_argument("--stage", default="", help="empty: kit.default_stage of cdk.json")
    parser.add_argument("--local", action="store_true", help="the local Bedrock stand-in")
    parser.add_argument("--port", type=int, default=DEFAULT_PORT)
    parser.add_argument("--profile", default=None, help="real Bedrock: the AWS profile")
    parser.add_argument("--cdk-json", type=Path, default=ROOT / "cdk.json")
    parser.add_argument(
        "--event-delay",
        type=float,
        default=DEFAULT_EVENT_DELAY_S,
        help="--local: seconds between the stand-in's stream events (shows the streaming)",
    )
    args = parser.parse_args(argv)
    name = "make serve-local" if args.local else "make serve"
    if not args.local and not args.stage:
        print(f"{name}: name the deployed stage (make serve STAGE=<name>)", file=sys.stderr)
        return 2
    if not 0 < args.port < 65536:
        print(f"{name}: PORT {args.port} is not a TCP port (1-65535)", file=sys.stderr)
        return 2
    try:
        plan = stage_plan(args.stage, args.cdk_json)
        if args.local:
            settings = local_settings(plan)
            bedrock = local_bedrock(args.event_delay)
            endpoint: str | None = bedrock.endpoint_url
            where = f"stage {plan.name}'s config, models answered by the local Bedrock stand-in"
        else:
            if args.profile:
                os.environ["AWS_PROFILE"] = args.profile
            settings = deployed_settings(plan, profile=args.profile)
            endpoint = None
            where = f"stage {plan.name}'s deployed settings, real Bedrock in {plan.region}"
    except ServeProblem as error:
        print(f"{name}: {error}", file=sys.stderr)
        return 2
    import uvicorn

    app = build_app(settings, endpoint_url=endpoint, region=plan.region)
    url = f"http://127.0.0.1:{args.port}"
    print(banner(url, where=where, model=settings.tiers[settings.default_tier]), flush=True)
    uvicorn.run(app, host="127.0.0.1", port=args.port, log_level="warning", access_log=False)
    return 0


if __name__ == "__main__":
    sys.exit(main())
