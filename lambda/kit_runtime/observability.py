"""Logger and metrics shared by every handler (Powertools; configured by env from the stack)."""

from __future__ import annotations

from aws_lambda_powertools import Logger, Metrics

logger = Logger()
metrics = Metrics()
