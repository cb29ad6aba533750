"""The summary of unacknowledged cdk-nag findings the app prints when it fails synth."""

from __future__ import annotations

import json
from pathlib import Path

from stacks.core.nag import Finding, findings_summary, report_findings


def _report(tmp_path: Path, plugins: list[dict[str, object]]) -> Path:
    path = tmp_path / "validation-report.json"
    path.write_text(json.dumps({"version": "1", "pluginReports": plugins}))
    return path


def _violation(rule: str, paths: list[str], severity: str = "error") -> dict[str, object]:
    return {
        "ruleName": rule,
        "description": f"What {rule}\n   checks.",
        "severity": severity,
        "violatingConstructs": [{"constructPath": p} for p in paths],
    }


def test_given_a_report_then_every_violation_of_every_pack_is_a_finding_per_resource(
    tmp_path: Path,
) -> None:
    # Given two packs' reports, one with an error on two resources, one with a warning
    report = _report(
        tmp_path,
        [
            {
                "pluginName": "A",
                "conclusion": "failure",
                "violations": [_violation("A-1", ["s/x", "s/y"])],
            },
            {
                "pluginName": "B",
                "conclusion": "success",
                "violations": [_violation("B-1", ["s/z"], "warning")],
            },
            {"pluginName": "C", "conclusion": "success", "violations": []},
        ],
    )
    # When it is read
    findings = report_findings(report)
    # Then each resource of each violation counts, warnings too (the test gate fails on them)
    assert [(f.pack, f.rule, f.path) for f in findings] == [
        ("A", "A-1", "s/x"),
        ("A", "A-1", "s/y"),
        ("B", "B-1", "s/z"),
    ]
    assert findings[0].description == "What A-1 checks."


def test_given_few_findings_then_the_summary_names_each_rule_and_resource_and_how_to_act(
    tmp_path: Path,
) -> None:
    report = tmp_path / "validation-report.json"
    findings = [Finding("A", "A-1", "What A-1 checks.", p) for p in ("s/x", "s/y")]
    summary = findings_summary(findings, report)
    lines = summary.splitlines()
    assert "A-1 (A): What A-1 checks." in lines
    assert "    s/x" in lines and "    s/y" in lines
    assert "acknowledge(" in summary and "more" not in summary


def test_given_more_findings_than_the_limit_then_the_rest_is_counted_and_the_report_named(
    tmp_path: Path,
) -> None:
    # Given 12 findings under two rules and room for 5 lines
    report = tmp_path / "validation-report.json"
    findings = [Finding("A", "A-1", "a", f"s/a{i}") for i in range(6)]
    findings += [Finding("B", "B-1", "b", f"s/b{i}") for i in range(6)]
    # When they are summarized
    lines = findings_summary(findings, report, limit=5).splitlines()
    shown = [line for line in lines if line.startswith("    ")]
    # Then the lines shown and the count of the others account for every finding
    more = [line for line in lines if "more; see" in line]
    assert len(more) == 1 and "validation-report.json" in more[0]
    assert len(shown) + int(more[0].split()[1]) == len(findings)
