"""The Bedrock Runtime client, built once per execution environment."""

from __future__ import annotations

from typing import Any

import boto3
from botocore.config import Config


def runtime_client(*, max_attempts: int, endpoint_url: str | None = None, **kwargs: Any) -> Any:
    """A ``bedrock-runtime`` client with standard retries (exponential backoff with jitter).

    ``max_attempts`` counts the first call; throttles still failing after it become 429s.
    """
    config = Config(
        retries={"mode": "standard", "total_max_attempts": max_attempts},
        connect_timeout=5,
        read_timeout=120,
        tcp_keepalive=True,
    )
    return boto3.client("bedrock-runtime", endpoint_url=endpoint_url, config=config, **kwargs)
