"""Which AWS regions exist, from botocore's bundled endpoint data (no AWS call)."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

import botocore


@cache
def aws_regions() -> dict[str, str]:
    """Every region botocore knows, mapped to its partition (``aws``, ``aws-cn``...)."""
    data = json.loads((Path(botocore.__file__).parent / "data" / "endpoints.json").read_text())
    return {
        region: partition["partition"]
        for partition in data["partitions"]
        for region in partition.get("regions", {})
    }


def known_region_problem(region: str) -> str | None:
    """``None`` for a region AWS has, else a message saying it is unknown."""
    if region in aws_regions():
        return None
    commercial = sorted(r for r, p in aws_regions().items() if p == "aws")
    return f"{region!r} is an unknown region; AWS regions: {', '.join(commercial)}"
