"""The pgvector schema construct in a throwaway stack: least-privilege policy, no secret in
its properties, a retained generated user secret, and cdk-nag clean."""

from __future__ import annotations

import contextlib
import json
from pathlib import Path
from typing import Any

import pytest
from aws_cdk import App, Stack, Validations
from aws_cdk import aws_lambda as lambda_
from cdk_nag import AwsSolutionsChecks, ServerlessChecks

from kit_runtime.contracts.pgvector import USER_NAME, PgvectorSchemaProperties, PgvectorTable
from stacks.catalog import load_catalog
from stacks.config import load_plan
from stacks.knowledge.pgvector_schema import RESOURCE_TYPE, PgvectorSchema
from tests.stages import basic_stage
from tests.support.templates import as_list

CLUSTER_ARN = "arn:aws:rds:us-east-1:123456789012:cluster:kit-t-kb"
ADMIN_SECRET_ARN = "arn:aws:secretsmanager:us-east-1:123456789012:secret:rds!cluster-abc-AbCdEf"
TABLE = PgvectorTable(dimensions=1024)


@pytest.fixture(scope="module")
def synthesized(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, Any], list[Any]]:
    plan = load_plan({"stages": {"t": basic_stage(load_catalog())}, "stage": "t"}, {})
    out = tmp_path_factory.mktemp("pgvector-schema")
    app = App(outdir=str(out))
    stack = Stack(app, "Kb")
    PgvectorSchema(
        stack,
        "Schema",
        plan=plan,
        code=lambda_.Code.from_inline("def handler(e, c): return e"),
        cluster_arn=CLUSTER_ARN,
        secret_arn=ADMIN_SECRET_ARN,
        table=TABLE,
        user_secret_logical_id="KbUserSecret",
    )
    Validations.of(app).add_plugins(AwsSolutionsChecks(app), ServerlessChecks(app))
    template: dict[str, Any] = {"Resources": {}}
    # cdk-nag violations fail synth: the report below names them
    with contextlib.suppress(RuntimeError):
        template = app.synth().get_stack_by_name("Kb").template
    report = Path(out) / "validation-report.json"
    violations: list[Any] = []
    if report.exists():
        for plugin in json.loads(report.read_text()).get("pluginReports", []):
            violations += plugin.get("violations", [])
    return template, violations


def _of_type(template: dict[str, Any], type_: str) -> dict[str, dict[str, Any]]:
    return {k: r for k, r in template["Resources"].items() if r["Type"] == type_}


def _schema_policy(template: dict[str, Any]) -> list[dict[str, Any]]:
    policies = [
        p
        for p in _of_type(template, "AWS::IAM::Policy").values()
        if any(
            "rds-data:ExecuteStatement" in as_list(s["Action"])
            for s in p["Properties"]["PolicyDocument"]["Statement"]
        )
    ]
    assert len(policies) == 1
    statements: list[dict[str, Any]] = policies[0]["Properties"]["PolicyDocument"]["Statement"]
    return statements


def test_the_function_may_run_statements_on_the_one_cluster_only(
    synthesized: tuple[dict[str, Any], list[Any]],
) -> None:
    template, _ = synthesized
    statements = _schema_policy(template)
    data_api = [
        s for s in statements if any(a.startswith("rds-data:") for a in as_list(s["Action"]))
    ]
    assert len(data_api) == 1
    assert as_list(data_api[0]["Action"]) == ["rds-data:ExecuteStatement"]
    assert as_list(data_api[0]["Resource"]) == [CLUSTER_ARN]


def test_the_function_reads_only_the_two_database_secrets(
    synthesized: tuple[dict[str, Any], list[Any]],
) -> None:
    template, _ = synthesized
    statements = _schema_policy(template)
    reads = [s for s in statements if "secretsmanager:GetSecretValue" in as_list(s["Action"])]
    assert len(reads) == 1
    assert as_list(reads[0]["Action"]) == ["secretsmanager:GetSecretValue"]
    assert as_list(reads[0]["Resource"]) == [ADMIN_SECRET_ARN, {"Ref": "KbUserSecret"}]
    # And no statement of the policy names a wildcard resource
    assert not [s for s in statements if "*" in as_list(s["Resource"])]


def test_properties_name_the_cluster_secrets_and_table_but_no_secret_value(
    synthesized: tuple[dict[str, Any], list[Any]],
) -> None:
    template, _ = synthesized
    (resource,) = _of_type(template, RESOURCE_TYPE).values()
    props = {k: v for k, v in resource["Properties"].items() if k != "ServiceToken"}
    # The properties parse as the handler's contract
    parsed = PgvectorSchemaProperties.model_validate(
        {**props, "UserSecretArn": "arn:aws:secretsmanager:us-east-1:1:secret:u"}
    )
    assert parsed.ClusterArn == CLUSTER_ARN and parsed.SecretArn == ADMIN_SECRET_ARN
    assert parsed.Table == TABLE
    assert props["UserSecretArn"] == {"Ref": "KbUserSecret"}
    # And nothing in them resolves a secret's value
    assert "password" not in json.dumps(props).lower()
    assert "resolve:secretsmanager" not in json.dumps(template)


def test_the_bedrock_user_secret_is_generated_and_retained(
    synthesized: tuple[dict[str, Any], list[Any]],
) -> None:
    template, _ = synthesized
    secret = template["Resources"]["KbUserSecret"]
    assert secret["Type"] == "AWS::SecretsManager::Secret"
    assert secret["DeletionPolicy"] == "Retain" and secret["UpdateReplacePolicy"] == "Retain"
    generated = secret["Properties"]["GenerateSecretString"]
    assert json.loads(generated["SecretStringTemplate"]) == {"username": USER_NAME}
    assert generated["GenerateStringKey"] == "password"
    assert "SecretString" not in secret["Properties"]


def test_the_construct_is_cdk_nag_clean(synthesized: tuple[dict[str, Any], list[Any]]) -> None:
    _, violations = synthesized
    assert violations == []
