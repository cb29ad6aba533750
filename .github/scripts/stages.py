"""Print the stages of cdk.json, in config order, as a GitHub Actions job matrix.

Used by the workflows (``python3 .github/scripts/stages.py >> "$GITHUB_OUTPUT"``); standard
library only, so it runs before any of the kit's tools are installed. Each entry names the
stage, its region, its GitHub environment and the repository variables that hold its roles
(stage name upper-cased, anything but letters and digits turned into ``_``: GitHub variable
names allow no more).
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from typing import Any


def stage_matrix(cdk_json: Path) -> list[dict[str, str]]:
    """The ``include`` entries of the stage matrix, in the order ``context.stages`` lists them.

    Parameters
    ----------
    cdk_json:
        The CDK app's ``cdk.json``.

    Raises
    ------
    ValueError
        When the file has no stages or a stage has no region, naming what to fix.
    """
    context: dict[str, Any] = json.loads(cdk_json.read_text(encoding="utf-8")).get("context", {})
    stages = context.get("stages")
    if not isinstance(stages, dict) or not stages:
        raise ValueError(f"{cdk_json}: context.stages must map each stage name to its config")
    pipeline = context.get("pipeline")
    environments = pipeline.get("environments", {}) if isinstance(pipeline, dict) else {}
    matrix = []
    for name, config in stages.items():
        region = config.get("region") if isinstance(config, dict) else None
        if not isinstance(region, str) or not region:
            raise ValueError(f"{cdk_json}: context.stages.{name}.region is required")
        suffix = re.sub(r"[^A-Z0-9]", "_", name.upper())
        matrix.append(
            {
                "stage": name,
                "region": region,
                # The GitHub environment the deploy runs in: pipeline.environments, else the
                # stage name (the deploy role's trust policy names the same one).
                "environment": str(environments.get(name, name)),
                "deploy_role_var": f"AWS_ROLE_ARN_{suffix}",
                "diff_role_var": f"AWS_DIFF_ROLE_ARN_{suffix}",
            }
        )
    return matrix


def main(argv: list[str]) -> int:
    path = Path(argv[1]) if len(argv) > 1 else Path("cdk.json")
    try:
        matrix = stage_matrix(path)
    except (OSError, ValueError) as error:
        print(f"::error::{error}", file=sys.stderr)
        return 1
    print(f"matrix={json.dumps(matrix, separators=(',', ':'))}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
