"""The access check's role: write permissions appear only when the stage needs them."""

from __future__ import annotations

from typing import Any

import pytest

from stacks.catalog import load_catalog
from stacks.config import load_plan
from stacks.platform.model_access import access_check_statements
from tests.stages import basic_stage, pick_models
from tests.support.templates import as_list

CATALOG = load_catalog()

FORM = {
    "company_name": "Acme",
    "company_website": "https://acme.example",
    "industry_option": "Technology",
    "use_cases": "Internal assistant",
}


def marketplace_stage() -> dict[str, Any]:
    """A test stage whose first model the catalog marks as sold through AWS Marketplace."""
    stage = basic_stage(CATALOG)
    for model in pick_models(CATALOG, stage["region"], 50):
        spec = CATALOG.models[model["id"]]
        if spec.access.marketplace_agreement and spec.access.use_case_form:
            stage["models"] = [model]
            stage["tiers"] = {t: model["id"] for t in stage["tiers"]}
            return stage
    raise AssertionError("the catalog has no chat model needing both form and agreement")


def actions_for(model_access: dict[str, Any]) -> set[str]:
    stage = marketplace_stage()
    stage["model_access"] = model_access
    plan = load_plan({"stages": {"t": stage}, "stage": "t"}, {})
    found: set[str] = set()
    for statement in access_check_statements(plan):
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
    # Given a stage enabling a model sold through AWS Marketplace
    got = actions_for({"accept_marketplace_agreements": True})
    assert {
        "bedrock:ListFoundationModelAgreementOffers",
        "bedrock:CreateFoundationModelAgreement",
        "aws-marketplace:Subscribe",
    } <= got


def test_agreements_are_opt_in_so_the_default_check_only_reads() -> None:
    # Given a marketplace model and no model_access settings at all
    # Then the check may read availability and nothing that accepts or spends
    assert actions_for({}) == {"bedrock:GetFoundationModelAvailability"}


def test_subscribe_is_limited_to_the_stage_models_product_ids() -> None:
    # Given a stage that opts in to agreements for a marketplace model
    stage = marketplace_stage()
    stage["model_access"] = {"accept_marketplace_agreements": True}
    plan = load_plan({"stages": {"t": stage}, "stage": "t"}, {})
    subscribe = [
        s.to_statement_json()
        for s in access_check_statements(plan)
        if "aws-marketplace:Subscribe" in as_list(s.to_statement_json()["Action"])
    ]
    # Then Subscribe stands alone, conditioned on exactly the enabled models' product ids
    assert len(subscribe) == 1
    assert as_list(subscribe[0]["Action"]) == ["aws-marketplace:Subscribe"]
    ids = subscribe[0]["Condition"]["ForAnyValue:StringEquals"]["aws-marketplace:ProductId"]
    expected = {m.spec.access.marketplace_product_id for m in plan.models}
    assert set(as_list(ids)) == expected - {None}


def test_opting_in_without_a_known_product_id_fails_synth() -> None:
    # Given a catalog entry sold through AWS Marketplace whose product id is unknown
    from stacks.config import ConfigError

    stage = marketplace_stage()
    model_id = stage["models"][0]["id"]
    spec = CATALOG.models[model_id]
    unknown = spec.model_copy(
        update={"access": spec.access.model_copy(update={"marketplace_product_id": None})}
    )
    catalog = CATALOG.model_copy(update={"models": {**CATALOG.models, model_id: unknown}})
    stage["model_access"] = {"accept_marketplace_agreements": True}
    # When the stage opts in to agreements
    with pytest.raises(ConfigError) as info:
        load_plan({"stages": {"t": stage}, "stage": "t"}, {}, catalog)
    # Then synth fails naming the key, the model and where the id comes from
    assert "model_access.accept_marketplace_agreements: true needs the AWS Marketplace" in str(
        info.value
    )
    assert model_id in str(info.value) and "model-access-product-ids" in str(info.value)
