"""Function settings in the environment, and the guard on Lambda's 4 KB limit.

A settings document is a contract model (``kit_runtime.contracts``) rendered as JSON into one
variable. Values that are CloudFormation tokens (ARNs of other resources) only resolve at
deploy time, so each is registered with the longest value it can take (``bounded``) and synth
measures the environment with every token at that length: a stage that could pass the limit
fails synth, not the deploy.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping

from pydantic import BaseModel

# "The total size of all environment variables doesn't exceed 4 KB" (Lambda quotas,
# docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html; checked 2026-11-30). Lambda
# measures the JSON of the whole map: its rejection quotes the "String measured" as
# {"KEY":"value",...} with inner quotes escaped.
LAMBDA_ENV_LIMIT_BYTES = 4096

_TOKEN = re.compile(r"\$\{Token\[[^\]]+\]\}")
_BOUNDS: dict[str, int] = {}

# Longest values, from botocore's bedrock service model (checked 2026-11-30): ids are at most
# 64 characters; partitions: aws-us-gov (10), region names at most 20, account 12 digits.
_ARN_HEAD = len("arn:aws-us-gov:bedrock:") + 20 + 1 + 12 + 1
APPLICATION_PROFILE_ARN_MAX = _ARN_HEAD + len("application-inference-profile/") + 64
GUARDRAIL_ARN_MAX = _ARN_HEAD + len("guardrail/") + 64
GUARDRAIL_VERSION_MAX = 8  # GuardrailNumericalVersion: [1-9][0-9]{0,7}


class EnvironmentTooLarge(ValueError):
    """A function's environment could exceed Lambda's limit."""


def bounded(token: str, max_length: int) -> str:
    """Register the longest value a token can resolve to; returns ``token`` unchanged."""
    for found in _TOKEN.findall(token):
        _BOUNDS[found] = max(_BOUNDS.get(found, 0), max_length)
    return token


def render_json(document: BaseModel) -> str:
    """A contract document as compact JSON (tokens stay inline and resolve at deploy)."""
    return json.dumps(document.model_dump(mode="json"), separators=(",", ":"), sort_keys=True)


def longest_size(environment: Mapping[str, str]) -> int:
    """Bytes of ``environment`` as Lambda measures it, every token at its longest value.

    Lambda counts the variables serialized as one JSON object (keys, values, quotes, commas
    and the escaping of quotes inside values), not the bare keys and values.
    """
    rendered: dict[str, str] = {}
    for key, value in environment.items():
        unbounded = [t for t in _TOKEN.findall(value) if t not in _BOUNDS]
        if unbounded:
            raise EnvironmentTooLarge(
                f"environment variable {key} holds a value of unknown length ({unbounded[0]}); "
                "register its longest value with stacks.core.settings.bounded()"
            )
        rendered[key] = _TOKEN.sub(lambda m: "x" * _BOUNDS[m.group(0)], value)
    return len(json.dumps(rendered, separators=(",", ":")).encode())


def check_environment(function: str, environment: Mapping[str, str]) -> None:
    """Fail synth when ``environment`` could pass Lambda's 4 KB limit."""
    size = longest_size(environment)
    if size > LAMBDA_ENV_LIMIT_BYTES:
        raise EnvironmentTooLarge(
            f"the {function} function's environment could reach {size} bytes with the longest "
            f"ARNs (Lambda allows {LAMBDA_ENV_LIMIT_BYTES} in all); enable fewer models in "
            "this stage"
        )
