"""The Ingestion stack, synthesized alone from literal knowledge base handles."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from stacks.knowledge.ingestion import ACTIVE_STATUSES, MAX_RECEIVES, TRIGGER_TIMEOUT_SECONDS
from stacks.knowledge.ingestion_stack import TARGETS_OUTPUT
from tests.support.knowledge_harness import STACK_ID, definition, literal_handles, synth_ingestion
from tests.support.synth import Synthesized
from tests.support.templates import as_list, render, statements

STAGES = ["knowledge", "full"]  # tracing off / on, existing bucket / kit bucket only


@pytest.fixture(scope="module", params=STAGES)
def ingestion(request: pytest.FixtureRequest) -> Synthesized:
    return synth_ingestion(request.param)


def _template(s: Synthesized) -> dict[str, Any]:
    return s.templates[STACK_ID]


def _of_type(s: Synthesized, type_: str) -> dict[str, dict[str, Any]]:
    return s.resources(type_, STACK_ID)


def test_given_literal_handles_then_synth_passes_cdk_nag_and_cfn_lint(
    ingestion: Synthesized,
) -> None:
    from cfnlint.api import ManualArgs, lint_file

    assert ingestion.synth_error is None, ingestion.synth_error
    assert ingestion.nag_findings == []
    path: Path = ingestion.template_files[STACK_ID]
    findings = lint_file(
        path, config=ManualArgs(ignore_checks=["W3005"], regions=[ingestion.plan.region])
    )
    assert [str(f) for f in findings] == []


def test_each_data_source_has_a_rule_for_its_bucket_and_prefix(ingestion: Synthesized) -> None:
    handles = literal_handles(ingestion.plan).bases
    rules = [
        r
        for r in _of_type(ingestion, "AWS::Events::Rule").values()
        if "EventPattern" in r["Properties"]
    ]
    patterns = [r["Properties"]["EventPattern"] for r in rules]
    # Then one rule per knowledge base, each on its own bucket and prefix, created + deleted
    expected = sorted((h.bucket_name, h.prefix) for h in handles.values())
    found = sorted(
        (p["detail"]["bucket"]["name"][0], p["detail"]["object"]["key"][0]["prefix"])
        for p in patterns
    )
    assert found == expected
    for p in patterns:
        assert p["source"] == ["aws.s3"]
        assert sorted(p["detail-type"]) == ["Object Created", "Object Deleted"]
    # And an existing bucket (the knowledge stage names one) gets the same kind of rule
    existing = [h for h in handles.values() if "tests-existing-docs" in h.bucket_arn]
    if ingestion.name == "knowledge":
        assert existing and (existing[0].bucket_name, existing[0].prefix) in found


def test_rules_deliver_to_the_queue_with_the_dead_letter_queue_for_failures(
    ingestion: Synthesized,
) -> None:
    queues = _of_type(ingestion, "AWS::SQS::Queue")
    main = next(lid for lid, q in queues.items() if "RedrivePolicy" in q["Properties"])
    dlq = next(lid for lid in queues if lid != main)
    main_id, dlq_id = main.split("/")[1], dlq.split("/")[1]
    for lid, rule in _of_type(ingestion, "AWS::Events::Rule").items():
        (target,) = rule["Properties"]["Targets"]
        assert render(target["Arn"]) == "${" + main_id + ".Arn}", lid
        assert render(target["DeadLetterConfig"]["Arn"]) == "${" + dlq_id + ".Arn}", lid
    redrive = queues[main]["Properties"]["RedrivePolicy"]
    assert redrive["maxReceiveCount"] == MAX_RECEIVES
    # Visibility timeout above the function timeout, so a batch is never handled twice at once
    assert queues[main]["Properties"]["VisibilityTimeout"] > TRIGGER_TIMEOUT_SECONDS


def test_the_trigger_reads_the_queue_reporting_batch_item_failures(ingestion: Synthesized) -> None:
    (mapping,) = _of_type(ingestion, "AWS::Lambda::EventSourceMapping").values()
    assert mapping["Properties"]["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    # A sweep on a schedule reaches the same queue
    schedules = [
        r
        for r in _of_type(ingestion, "AWS::Events::Rule").values()
        if "ScheduleExpression" in r["Properties"]
    ]
    assert len(schedules) == 1


def test_alarms_cover_the_dead_letter_queue_failed_followers_and_failed_jobs(
    ingestion: Synthesized,
) -> None:
    alarms = list(_of_type(ingestion, "AWS::CloudWatch::Alarm").values())
    names = {a["Properties"].get("MetricName") for a in alarms}
    assert {"ApproximateNumberOfMessagesVisible", "ExecutionsFailed", "ExecutionsTimedOut"} <= names
    for name in ingestion.plan.knowledge_bases:
        for metric in ("IngestionJobsFailed", "DocumentsFailed"):
            matching = [
                a["Properties"]
                for a in alarms
                if a["Properties"].get("MetricName") == metric
                and {"Name": "knowledge_base", "Value": name.name} in a["Properties"]["Dimensions"]
            ]
            assert len(matching) == 1, (metric, name.name)
            assert matching[0]["Namespace"] == ingestion.plan.metrics_namespace
            assert {"Name": "stage", "Value": ingestion.plan.name} in matching[0]["Dimensions"]
    for a in alarms:
        assert a["Properties"]["Threshold"] == 0
        assert a["Properties"]["ComparisonOperator"] == "GreaterThanThreshold"


def test_the_follower_polls_the_job_and_reports_its_end(ingestion: Synthesized) -> None:
    states = definition(_template(ingestion))["States"]
    get_job = states["GetIngestionJob"]
    assert get_job["Resource"].endswith(":states:::aws-sdk:bedrockagent:getIngestionJob")
    choice = states["JobRunning?"]
    looped = sorted(c["StringEquals"] for c in choice["Choices"][0]["Or"])
    assert looped == sorted(ACTIVE_STATUSES) and choice["Choices"][0]["Next"] == "WaitForJob"
    assert choice["Default"] == "ReportJob"
    # A failure while following releases the coordinator record before failing
    for step in ("GetIngestionJob", "ReportJob"):
        assert states[step]["Catch"][0]["Next"] == "ReleaseLostJob"
    assert states["ReleaseLostJob"]["Next"] == "FollowingFailed"


def _policies_of(template: dict[str, Any], role_fragment: str) -> list[dict[str, Any]]:
    found = []
    for lid, st in statements(template):
        res = template["Resources"][lid]
        roles = [render(r) for r in res["Properties"].get("Roles", [])]
        if any(role_fragment in r for r in roles):
            found.append(st)
    return found


def test_functions_are_scoped_to_the_knowledge_bases_table_and_state_machine(
    ingestion: Synthesized,
) -> None:
    template = _template(ingestion)
    kb_arns = sorted(h.arn for h in literal_handles(ingestion.plan).bases.values())
    for fragment in ("Trigger", "Report"):
        sts = _policies_of(template, fragment)
        by_action = {a: st for st in sts for a in as_list(st["Action"])}
        bedrock = by_action["bedrock:StartIngestionJob"]
        assert sorted(as_list(bedrock["Resource"])) == kb_arns
        assert sorted(as_list(by_action["bedrock:ListIngestionJobs"]["Resource"])) == kb_arns
        table = [render(r) for r in as_list(by_action["dynamodb:PutItem"]["Resource"])]
        assert len(table) == 1 and "Coordination" in table[0]
        machine = render(by_action["states:StartExecution"]["Resource"])
        assert ":stateMachine:" in machine and "*" not in machine
        for st in sts:
            # "*" only for X-Ray, which has no resource type (added where the stage traces)
            if "*" in [render(r) for r in as_list(st["Resource"])]:
                assert all(a.startswith("xray:") for a in as_list(st["Action"])), st


def test_the_follower_reads_jobs_of_the_stage_knowledge_bases_only(ingestion: Synthesized) -> None:
    kb_arns = sorted(h.arn for h in literal_handles(ingestion.plan).bases.values())
    sts = [
        st
        for _, st in statements(_template(ingestion))
        if "bedrock:GetIngestionJob" in as_list(st["Action"])
    ]
    for st in sts:
        assert sorted(as_list(st["Resource"])) == kb_arns


def test_the_coordination_table_is_on_demand_and_the_state_machine_named(
    ingestion: Synthesized,
) -> None:
    (table,) = _of_type(ingestion, "AWS::DynamoDB::Table").values()
    assert table["Properties"]["BillingMode"] == "PAY_PER_REQUEST"
    (machine,) = _of_type(ingestion, "AWS::StepFunctions::StateMachine").values()
    name = machine["Properties"]["StateMachineName"]
    # The functions' ARN (built from the name) and the resource agree
    trigger = next(
        f for lid, f in _of_type(ingestion, "AWS::Lambda::Function").items() if "Trigger" in lid
    )
    rendered = render(trigger["Properties"]["Environment"]["Variables"]["KIT_SETTINGS"])
    assert f"stateMachine:{name}" in rendered


def test_the_targets_output_names_every_knowledge_base(ingestion: Synthesized) -> None:
    outputs = _template(ingestion)["Outputs"]
    rendered = render(outputs[TARGETS_OUTPUT]["Value"])
    for kb in ingestion.plan.knowledge_bases:
        assert f'"{kb.name}"' in rendered


def test_retained_resources_are_the_pinned_log_groups(ingestion: Synthesized) -> None:
    from stacks.knowledge.ingestion import LOG_GROUP_LOGICAL_IDS

    retained = {
        lid
        for lid, res in _template(ingestion)["Resources"].items()
        if res.get("DeletionPolicy") == "Retain"
    }
    # The stack's customer-managed key (where the stage has them) is retained too.
    key = {"IngestionKey"} if ingestion.plan.customer_managed_keys else set()
    assert retained == set(LOG_GROUP_LOGICAL_IDS.values()) | key
    for lid in retained - key:
        res = _template(ingestion)["Resources"][lid]
        assert res["Type"] == "AWS::Logs::LogGroup"
        assert res["Properties"]["RetentionInDays"] == ingestion.config.runtime.log_retention_days
