"""cdk-nag acknowledgments in one form, and the validation report read back after synth.

Every acknowledgment names its rule and a specific reason. Under the CDK CLI a finding only
sets the exit code of jsii's Node child process, so the Python app would exit 0 and ``cdk
deploy`` would go ahead: the app reads the report CDK writes into the assembly and fails
itself (``findings_summary``; ``stacks.app_builder.synth_checked``).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

from aws_cdk import Acknowledgment, Validations
from constructs import IConstruct

# The file aws-cdk-lib writes into the (root) assembly directory whenever a validation plugin
# ran; it lists only the findings no acknowledgment covers.
REPORT_FILE = "validation-report.json"
# Finding and rule lines printed before "and N more".
SUMMARY_LINES = 30


def acknowledge(scope: IConstruct, rule_id: str, reason: str) -> None:
    """Acknowledge ``rule_id`` (e.g. ``AwsSolutions-IAM5[Resource::*]``) on ``scope``."""
    if len(reason) < 40:
        raise ValueError(f"acknowledgment of {rule_id} needs a specific reason, got {reason!r}")
    Validations.of(scope).acknowledge(Acknowledgment(id=rule_id, reason=reason))


@dataclass(frozen=True)
class Finding:
    """One unacknowledged finding: the pack, the rule and the resource it names."""

    pack: str
    rule: str
    description: str
    path: str


def report_findings(report: Path) -> list[Finding]:
    """Every violation ``report`` (a ``validation-report.json``) lists, whatever its severity:
    the test gate fails on warnings too, so the CLI does."""
    data = json.loads(report.read_text())
    return [
        Finding(
            pack=plugin.get("pluginName", "?"),
            rule=violation.get("ruleName", "?"),
            description=" ".join(str(violation.get("description", "")).split()),
            path=resource.get("constructPath", "?"),
        )
        for plugin in data.get("pluginReports", [])
        for violation in plugin.get("violations", [])
        for resource in violation.get("violatingConstructs", []) or [{}]
    ]


def findings_summary(findings: list[Finding], report: Path, *, limit: int = SUMMARY_LINES) -> str:
    """A short, readable account of ``findings`` for stderr: per rule one line (pack, what it
    checks), then one line per resource; at most ``limit`` of those, then where the rest is
    and how to fix or acknowledge a finding."""
    shown = _display_path(report)
    lines = [
        f"cdk-nag: {len(findings)} unacknowledged finding(s); synth fails, so deploy and "
        "diff stop here too:"
    ]
    body: list[str] = []
    by_rule: dict[str, list[Finding]] = {}
    for finding in findings:
        by_rule.setdefault(finding.rule, []).append(finding)
    for rule, group in by_rule.items():
        body.append(f"{rule} ({group[0].pack}): {_clip(group[0].description)}")
        body += [f"    {finding.path}" for finding in group]
    lines += body[:limit]
    if len(body) > limit:
        rest = sum(1 for line in body[limit:] if line.startswith("    "))
        lines.append(f"  and {rest} more; see {shown}")
    lines += [
        "Fix: change the stage's config or the construct so the rule passes (README, "
        '"cdk-nag rule packs").',
        "Or acknowledge, with a specific reason, where the construct is built: acknowledge("
        'construct, "<rule id>", "why it is acceptable") from stacks/core/nag.py.',
        f"Full report: {shown}",
    ]
    return "\n".join(lines)


def _clip(text: str, width: int = 160) -> str:
    return text if len(text) <= width else text[: width - 3].rstrip() + "..."


def _display_path(path: Path) -> str:
    try:
        return os.path.relpath(path)
    except ValueError:  # another drive (Windows)
        return str(path)
