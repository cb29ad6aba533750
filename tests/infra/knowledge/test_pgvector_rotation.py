"""Rotation of the Bedrock user's Aurora secret: scheduled where the master's rotates (RDS),
absent where it does not, and the rotation function scoped to its one secret and cluster."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from stacks.knowledge.pgvector_schema import ROTATION_DAYS, ROTATION_HANDLER
from tests.support.knowledge import KnowledgeBaseView, knowledge_bases
from tests.support.synth import Synthesized
from tests.support.templates import as_list, render

STAGES = ["knowledge", "full"]
SECRET_ACTIONS = {
    "secretsmanager:DescribeSecret",
    "secretsmanager:GetSecretValue",
    "secretsmanager:PutSecretValue",
    "secretsmanager:UpdateSecretVersionStage",
}


@pytest.fixture(scope="module", params=STAGES)
def stage(request: pytest.FixtureRequest, synth: Callable[[str], Synthesized]) -> Synthesized:
    return synth(request.param)


def _aurora(stage: Synthesized) -> list[KnowledgeBaseView]:
    kbs = [kb for kb in knowledge_bases(stage) if kb.config.vector_store.type == "aurora-pgvector"]
    assert kbs, f"the {stage.plan.name} test stage should hold an Aurora knowledge base"
    return kbs


def _rotated(stage: Synthesized, kb: KnowledgeBaseView) -> bool:
    configured = kb.config.vector_store.rotate_secret
    return bool(stage.config.production if configured is None else configured)


def _schedules(kb: KnowledgeBaseView) -> list[dict[str, Any]]:
    return [
        r
        for r in kb.resources.values()
        if r["Type"] == "AWS::SecretsManager::RotationSchedule"
        and r["Properties"]["SecretId"] == {"Ref": f"{kb.key}UserSecret"}
    ]


def _role_statements(template: dict[str, Any], role: str) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    for res in template["Resources"].values():
        if res["Type"] == "AWS::IAM::Policy" and {"Ref": role} in res["Properties"]["Roles"]:
            found += res["Properties"]["PolicyDocument"]["Statement"]
    return found


def test_the_user_secret_rotates_exactly_where_the_master_secret_does(stage: Synthesized) -> None:
    rotation_functions = [
        lid
        for lid, r in stage.templates["Knowledge"]["Resources"].items()
        if r["Type"] == "AWS::Lambda::Function" and r["Properties"]["Handler"] == ROTATION_HANDLER
    ]
    expected = 0
    for kb in _aurora(stage):
        schedules = _schedules(kb)
        if not _rotated(stage, kb):
            # Given rotation off (a non-production default): no schedule for the user's secret
            assert schedules == []
            continue
        expected += 1
        # Given rotation on: one schedule, every ROTATION_DAYS days, by a kit function
        (schedule,) = schedules
        props = schedule["Properties"]
        assert props["RotationRules"] == {"AutomaticallyAfterDays": ROTATION_DAYS}
        (function,) = as_list(props["RotationLambdaARN"]["Fn::GetAtt"][0])
        assert function in rotation_functions
        # And it is created after the role exists (the schema resource) and may be invoked
        depends = set(as_list(schedule.get("DependsOn", [])))
        assert any(kb.resources[d]["Type"] == "Custom::PgvectorSchema" for d in depends)
        assert any(kb.resources[d]["Type"] == "AWS::Lambda::Permission" for d in depends)
    assert len(rotation_functions) == expected


def test_only_secrets_manager_for_this_account_and_secret_may_invoke_the_function(
    stage: Synthesized,
) -> None:
    for kb in _aurora(stage):
        for schedule in _schedules(kb):
            function = schedule["Properties"]["RotationLambdaARN"]["Fn::GetAtt"][0]
            permissions = [
                r["Properties"]
                for r in kb.resources.values()
                if r["Type"] == "AWS::Lambda::Permission"
                and r["Properties"]["FunctionName"] == {"Fn::GetAtt": [function, "Arn"]}
            ]
            assert permissions == [
                {
                    "Action": "lambda:InvokeFunction",
                    "FunctionName": {"Fn::GetAtt": [function, "Arn"]},
                    "Principal": "secretsmanager.amazonaws.com",
                    # The stage's own account: pinned in its config, else the deploying one
                    "SourceAccount": stage.plan.account or {"Ref": "AWS::AccountId"},
                    "SourceArn": {"Ref": f"{kb.key}UserSecret"},
                }
            ]


def test_the_rotation_function_reaches_its_one_secret_and_cluster_only(
    stage: Synthesized,
) -> None:
    template = stage.templates["Knowledge"]
    for kb in _aurora(stage):
        for schedule in _schedules(kb):
            function = schedule["Properties"]["RotationLambdaARN"]["Fn::GetAtt"][0]
            role = template["Resources"][function]["Properties"]["Role"]["Fn::GetAtt"][0]
            grants: dict[str, set[str]] = {}
            for st in _role_statements(template, role):
                assert st["Effect"] == "Allow"
                for action in as_list(st["Action"]):
                    if action.startswith(("secretsmanager:", "rds-data:", "kms:")):
                        grants.setdefault(action, set()).update(
                            render(r) for r in as_list(st["Resource"])
                        )
            user = render({"Ref": f"{kb.key}UserSecret"})
            admin = render({"Fn::GetAtt": [f"{kb.key}Cluster", "MasterUserSecret.SecretArn"]})
            cluster = {
                render(r) for r in as_list(kb.statement("rds-data:ExecuteStatement")["Resource"])
            }
            # The rotation steps on the user's secret; the admin secret read for the Data API
            for action in SECRET_ACTIONS - {"secretsmanager:GetSecretValue"}:
                assert grants.pop(action) == {user}, action
            assert grants.pop("secretsmanager:GetSecretValue") == {user, admin}
            # The Data API on the one cluster; GetRandomPassword (no resource type) alone on *
            assert grants.pop("rds-data:ExecuteStatement") == cluster
            assert grants.pop("secretsmanager:GetRandomPassword") == {"*"}
            assert not [a for a, arns in grants.items() if "*" in arns], grants
