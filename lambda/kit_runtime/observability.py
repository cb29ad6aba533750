"""Logger, tracer and metrics shared by every handler (Powertools, configured by env).

The tracer patches botocore only (the Bedrock calls become X-Ray subsegments) so the cold start
does not import every patchable library. It is disabled outside Lambda and in tests
(``POWERTOOLS_TRACE_DISABLED=true``). Handlers never let it record responses: they hold
completions, which are logged only where a stage opts in.
"""

from __future__ import annotations

from aws_lambda_powertools import Logger, Metrics, Tracer

logger = Logger()
tracer = Tracer(patch_modules=["botocore"])
metrics = Metrics()
