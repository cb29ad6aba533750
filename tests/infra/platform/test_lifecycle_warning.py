"""A legacy model's warning reaches the synth output (what `cdk synth` prints)."""

from __future__ import annotations

from tests.stages import basic_stage
from tests.support.lifecycle import CATALOG, LEGACY, retiring
from tests.support.synth import synthesize


def test_the_warning_reaches_the_synth_output() -> None:
    stage = basic_stage(CATALOG)
    catalog, old, _ = retiring(stage)
    result = synthesize("qa", {"qa": stage}, today=LEGACY, catalog=catalog)
    assert any(old in w and "legacy model" in w for w in result.warnings), result.warnings
