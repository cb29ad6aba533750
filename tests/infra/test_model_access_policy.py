"""The access check's role: write permissions appear only when the stage needs them."""

from __future__ import annotations

import copy
from typing import Any

from stacks.catalog import load_catalog
from stacks.config import load_stage_config
from stacks.constructs.model_access import access_check_statements
from tests.conftest import CDK_CONTEXT
from tests.infra.helpers import as_list

FORM = {
    "company_name": "Acme",
    "company_website": "https://acme.example",
    "industry_option": "Technology",
    "use_cases": "Internal assistant",
}


def actions_for(model_access: dict[str, Any]) -> set[str]:
    ctx = copy.deepcopy({"stages": CDK_CONTEXT["stages"], "stage": "dev"})
    ctx["stages"]["dev"]["model_access"] = model_access
    config = load_stage_config(ctx, {})
    found: set[str] = set()
    for statement in access_check_statements(config, load_catalog()):
        found.update(as_list(statement.to_statement_json()["Action"]))
    return found


def test_read_only_when_no_form_and_agreements_declined() -> None:
    assert actions_for({"accept_marketplace_agreements": False}) == {
        "bedrock:GetFoundationModelAvailability"
    }


def test_form_statement_only_with_a_form() -> None:
    assert "bedrock:PutUseCaseForModelAccess" not in actions_for({})
    assert "bedrock:PutUseCaseForModelAccess" in actions_for({"use_case_form": FORM})


def test_agreement_statements_when_accepted_for_marketplace_models() -> None:
    # dev enables Anthropic models, which the catalog marks as sold through AWS Marketplace
    got = actions_for({"accept_marketplace_agreements": True})
    assert {
        "bedrock:ListFoundationModelAgreementOffers",
        "bedrock:CreateFoundationModelAgreement",
        "aws-marketplace:Subscribe",
    } <= got
