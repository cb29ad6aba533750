"""The verdict read from a guardrail trace: what fired, where, and never what was caught."""

from __future__ import annotations

import json

from kit_runtime.guardrail_verdict import findings, verdict
from tests.fakes import guardrail_traces as traces


def test_given_words_and_regexes_when_read_then_only_their_kinds_and_names_come_back() -> None:
    # Given an input caught by a custom word, profanity, a PII type and a named regex
    assessment = {
        **traces.words(custom="frobnicate", profanity="darn"),
        **traces.sensitive(
            pii=("PHONE", "090-1234-5678"),
            regex=("my_number", r"\d{12}", "123456789012"),
            action="BLOCKED",
        ),
    }
    # When the verdict is read
    got = verdict(traces.trace(input_assessment=assessment), "guardrail_intervened")
    # Then each is named by kind, never by the text it matched (nor the regex itself)
    assert [(p.policy, p.type, p.action) for p in got.policies] == [
        ("word", "CUSTOM_WORD", "BLOCKED"),
        ("word", "PROFANITY", "BLOCKED"),
        ("sensitive_information", "PHONE", "BLOCKED"),
        ("sensitive_information", "my_number", "BLOCKED"),
    ]
    dumped = got.model_dump_json()
    for caught in ("frobnicate", "darn", "090-1234-5678", "123456789012", r"\d{12}"):
        assert caught not in dumped


def test_given_a_streamed_answer_assessed_per_chunk_then_each_finding_appears_once() -> None:
    repeated = [traces.denied_topic("Medical advice")] * 3
    got = verdict(traces.trace(output_assessments=repeated), "guardrail_intervened")
    assert len(got.policies) == 1 and got.where == "output"


def test_given_a_passing_grounding_score_then_it_is_not_reported() -> None:
    got = verdict(
        traces.trace(output_assessments=[traces.grounding(score=0.9, threshold=0.7)]), "end_turn"
    )
    assert got.intervened is False and got.where is None and got.policies == []


def test_given_a_detect_only_finding_then_reported_without_intervention() -> None:
    # Given a PII type the guardrail detects without acting on
    assessment = traces.sensitive(pii=("NAME", "Taro Yamada"), action="NONE")
    got = verdict(traces.trace(input_assessment=assessment), "end_turn")
    assert got.intervened is False and got.where is None
    assert [(p.type, p.action) for p in got.policies] == [("NAME", "NONE")]
    assert "Taro" not in got.model_dump_json()


def test_given_a_stop_for_the_guardrail_without_a_trace_then_intervened_nowhere_known() -> None:
    got = verdict(None, "guardrail_intervened")
    assert (got.intervened, got.where, got.policies) == (True, None, [])


def test_given_malformed_assessments_then_they_are_skipped_not_raised() -> None:
    found = findings(
        [{"contentPolicy": {"filters": [{"type": 3, "action": "BLOCKED"}, "x"]}}, {}], "input"
    )
    assert found == []
    assert (
        json.loads(verdict({"guardrail": {"inputAssessment": []}}, "").model_dump_json())[
            "intervened"
        ]
        is False
    )
