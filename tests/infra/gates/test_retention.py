"""Every log group of a stage is retained, with the configured retention."""

from __future__ import annotations

from tests.support.synth import Synthesized


def test_log_groups_are_retained_with_configured_retention(any_stage: Synthesized) -> None:
    groups = any_stage.resources("AWS::Logs::LogGroup")
    assert len(groups) >= 2  # chat, API access (+ model access and its provider)
    for lid, group in groups.items():
        assert group["DeletionPolicy"] == "Retain", lid
        assert group["UpdateReplacePolicy"] == "Retain", lid
        assert group["Properties"]["RetentionInDays"] == any_stage.config.runtime.log_retention_days
