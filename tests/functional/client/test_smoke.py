"""``make smoke``: models, one chat per tier, a guardrail block, a bad request; a table."""

from __future__ import annotations

import pytest

from stacks.tools.client import main
from tests.fakes import Reply
from tests.functional.client.conftest import STAGE, Deployed


def run_smoke(deployed: Deployed) -> int:
    return main(["smoke", f"--stage={STAGE}", f"--cdk-json={deployed.cdk_json}"])


def tiers(deployed: Deployed) -> list[str]:
    return sorted(deployed.api.settings.tiers)


def test_given_a_healthy_stage_when_smoked_then_every_check_passes(
    deployed: Deployed, capsys: pytest.CaptureFixture[str]
) -> None:
    deployed.api.server.enqueue(
        Reply.text("ok", times=len(tiers(deployed))), Reply.guardrail_intervened()
    )

    status = run_smoke(deployed)

    out = capsys.readouterr().out
    assert status == 0, out
    checks = 1 + len(tiers(deployed)) + 2
    assert f"{checks}/{checks} checks passed" in out
    for tier in tiers(deployed):
        assert f"chat tier {tier}" in out
    assert "MISS" not in out
    assert all(seen.refused is None for seen in deployed.front.seen)
    assert len(deployed.front.seen) == checks


def test_given_a_guardrail_that_does_not_intervene_when_smoked_then_a_miss_and_status_1(
    deployed: Deployed, capsys: pytest.CaptureFixture[str]
) -> None:
    # No scripted guardrail reply: the local Bedrock echoes the prompt back.
    status = run_smoke(deployed)

    out = capsys.readouterr().out
    assert status == 1
    guardrail_row = next(line for line in out.splitlines() if line.startswith("guardrail"))
    assert guardrail_row.endswith("MISS")
    assert "1 missed" in out


def test_given_a_failing_model_when_smoked_then_its_tier_misses(
    deployed: Deployed, capsys: pytest.CaptureFixture[str]
) -> None:
    first = tiers(deployed)[0]
    deployed.api.server.enqueue(
        Reply.error(403, "AccessDeniedException", "no access", times=1),
        Reply.text("ok", times=len(tiers(deployed)) - 1),
        Reply.guardrail_intervened(),
    )

    status = run_smoke(deployed)

    out = capsys.readouterr().out
    assert status == 1
    row = next(line for line in out.splitlines() if line.startswith(f"chat tier {first}"))
    assert row.endswith("MISS")
