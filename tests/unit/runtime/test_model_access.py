"""The deploy-time model access check, offline: botocore Stubber on a real bedrock client."""

from __future__ import annotations

import json
from typing import Any

import boto3
import pytest
from botocore.stub import ANY, Stubber

from handlers import model_access as handler_module
from kit_runtime.contracts.model_access import (
    AccessCheckProperties,
    ModelAccessNeed,
    UseCaseFormFields,
)
from kit_runtime.model_access import (
    ModelAccessError,
    ModelRequest,
    check_model_access,
)
from tests.support.lambda_context import LambdaContext

REGION = "us-east-1"
CLAUDE = "anthropic.claude-sonnet-4-5-20250929-v1:0"
NOVA = "amazon.nova-lite-v1:0"
COHERE = "cohere.command-r-plus-v1:0"

FORM = UseCaseFormFields(
    companyName="Acme Corp",
    companyWebsite="https://acme.example",
    intendedUsers="0",
    industryOption="Technology",
    useCases="Internal assistant for support engineers",
)
FORM_JSON = {
    "companyName": "Acme Corp",
    "companyWebsite": "https://acme.example",
    "intendedUsers": "0",
    "industryOption": "Technology",
    "otherIndustryOption": "",
    "useCases": "Internal assistant for support engineers",
}


@pytest.fixture(autouse=True)
def _fake_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_SESSION_TOKEN", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    monkeypatch.delenv("AWS_PROFILE", raising=False)


@pytest.fixture(scope="module")
def bedrock_client():
    # Building a client parses the service model: once per module, a fresh Stubber per test.
    return boto3.client(
        "bedrock", region_name=REGION, aws_access_key_id="testing", aws_secret_access_key="testing"
    )


@pytest.fixture
def bedrock(bedrock_client):
    client = bedrock_client
    with Stubber(client) as stub:
        yield client, stub
        stub.assert_no_pending_responses()


def availability(
    model_id: str,
    *,
    agreement: str = "AVAILABLE",
    authorization: str = "AUTHORIZED",
    entitlement: str = "AVAILABLE",
    region: str = "AVAILABLE",
) -> dict:
    return {
        "modelId": model_id,
        "agreementAvailability": {"status": agreement},
        "authorizationStatus": authorization,
        "entitlementAvailability": entitlement,
        "regionAvailability": region,
    }


def expect_availability(stub: Stubber, model_id: str, **statuses: str) -> None:
    stub.add_response(
        "get_foundation_model_availability",
        availability(model_id, **statuses),
        {"modelId": model_id},
    )


def offers(model_id: str, token: str = "offer-token-123") -> dict:
    return {
        "modelId": model_id,
        "offers": [
            {
                "offerId": "offer-1",
                "offerToken": token,
                "termDetails": {
                    "usageBasedPricingTerm": {"rateCard": []},
                    "legalTerm": {},
                    "supportTerm": {},
                },
            }
        ],
    }


def no_sleep(_seconds: float) -> None:
    return None


# --------------------------------------------------------------------------- check logic


def test_available_models_make_no_write_calls(bedrock):
    # Given: two models Bedrock already reports as fully available
    client, stub = bedrock
    expect_availability(stub, CLAUDE)
    expect_availability(stub, NOVA)

    # When: the check runs with a form and agreements allowed
    result = check_model_access(
        [ModelRequest(CLAUDE, use_case_form=True, marketplace_agreement=True), ModelRequest(NOVA)],
        region=REGION,
        stage="dev",
        use_case_form=FORM,
        client=client,
        sleep=no_sleep,
    )

    # Then: only the two reads happened (the Stubber fails on any other call)
    assert not result.form_submitted
    assert result.agreements_created == []
    assert set(result.availability) == {CLAUDE, NOVA}


def test_missing_authorization_submits_the_form_once_then_is_available(bedrock):
    # Given: Claude is not authorized yet and the stage carries the use-case form
    client, stub = bedrock
    expect_availability(stub, CLAUDE, authorization="NOT_AUTHORIZED")
    stub.add_response(
        "put_use_case_for_model_access",
        {},
        {"formData": json.dumps(FORM_JSON, separators=(",", ":")).encode()},
    )
    expect_availability(stub, CLAUDE)

    # When: the check runs
    result = check_model_access(
        [ModelRequest(CLAUDE, use_case_form=True)],
        region=REGION,
        stage="dev",
        use_case_form=FORM,
        client=client,
        sleep=no_sleep,
    )

    # Then: the form was submitted with Bedrock's field names and the model is usable
    assert result.form_submitted
    assert result.availability[CLAUDE].usable


def test_form_data_uses_bedrock_field_names():
    # Given: a form with every field
    form = UseCaseFormFields(
        companyName="A",
        companyWebsite="https://a.example",
        intendedUsers="2",
        industryOption="Other",
        otherIndustryOption="Space",
        useCases="x",
    )

    # When: it is serialized for PutUseCaseForModelAccess
    data = json.loads(form.form_data())

    # Then: the keys are the ones the API documents
    assert data == {
        "companyName": "A",
        "companyWebsite": "https://a.example",
        "intendedUsers": "2",
        "industryOption": "Other",
        "otherIndustryOption": "Space",
        "useCases": "x",
    }


def test_missing_form_names_model_region_and_cdk_json_key(bedrock):
    # Given: Claude is not authorized and the stage has no use-case form
    client, stub = bedrock
    expect_availability(stub, CLAUDE, authorization="NOT_AUTHORIZED")

    # When: the check runs
    with pytest.raises(ModelAccessError) as err:
        check_model_access(
            [ModelRequest(CLAUDE, use_case_form=True)],
            region=REGION,
            stage="prod",
            client=client,
            sleep=no_sleep,
        )

    # Then: the message names the model, the region, the status and the cdk.json key
    message = str(err.value)
    assert CLAUDE in message
    assert REGION in message
    assert "authorizationStatus NOT_AUTHORIZED" in message
    assert "stages.prod.model_access.use_case_form" in message
    assert "cdk.json" in message


def test_missing_agreement_lists_offers_and_creates_agreement(bedrock):
    # Given: a marketplace model without an agreement and agreements allowed
    client, stub = bedrock
    expect_availability(stub, COHERE, agreement="NOT_AVAILABLE")
    stub.add_response(
        "list_foundation_model_agreement_offers",
        offers(COHERE, "tok-42"),
        {"modelId": COHERE, "offerType": "PUBLIC"},
    )
    stub.add_response(
        "create_foundation_model_agreement",
        {"modelId": COHERE},
        {"modelId": COHERE, "offerToken": "tok-42"},
    )
    expect_availability(stub, COHERE, agreement="PENDING")
    expect_availability(stub, COHERE)

    # When: the check runs
    result = check_model_access(
        [ModelRequest(COHERE, marketplace_agreement=True)],
        region=REGION,
        stage="dev",
        client=client,
        sleep=no_sleep,
    )

    # Then: the agreement was created with the offer's token and the model became usable
    assert result.agreements_created == [COHERE]
    assert result.availability[COHERE].agreement == "AVAILABLE"


def test_accept_disabled_fails_with_clear_message(bedrock):
    # Given: a marketplace model without an agreement and accepting agreements turned off
    client, stub = bedrock
    expect_availability(stub, COHERE, agreement="NOT_AVAILABLE")

    # When: the check runs
    with pytest.raises(ModelAccessError) as err:
        check_model_access(
            [ModelRequest(COHERE, marketplace_agreement=True)],
            region=REGION,
            stage="dev",
            accept_marketplace_agreements=False,
            client=client,
            sleep=no_sleep,
        )

    # Then: no offer was listed (Stubber) and the message says how to fix it
    message = str(err.value)
    assert COHERE in message and REGION in message
    assert "agreementAvailability NOT_AVAILABLE" in message
    assert "aws-marketplace:Subscribe" in message
    assert "stages.dev.model_access.accept_marketplace_agreements" in message


def test_agreement_access_denied_is_reported(bedrock):
    # Given: creating the agreement is denied (no aws-marketplace:Subscribe)
    client, stub = bedrock
    expect_availability(stub, COHERE, agreement="NOT_AVAILABLE")
    stub.add_response(
        "list_foundation_model_agreement_offers",
        offers(COHERE),
        {"modelId": COHERE, "offerType": "PUBLIC"},
    )
    stub.add_client_error(
        "create_foundation_model_agreement",
        "AccessDeniedException",
        "not authorized to perform aws-marketplace:Subscribe",
        expected_params={"modelId": COHERE, "offerToken": ANY},
    )

    # When: the check runs
    with pytest.raises(ModelAccessError) as err:
        check_model_access(
            [ModelRequest(COHERE, marketplace_agreement=True)],
            region=REGION,
            stage="dev",
            client=client,
            sleep=no_sleep,
        )

    # Then: the failure names the call, the error and the permission to grant
    message = str(err.value)
    assert "CreateFoundationModelAgreement failed (AccessDeniedException)" in message
    assert "aws-marketplace:Subscribe" in message


def test_region_unavailable_fails(bedrock):
    # Given: a model Bedrock does not offer in the region
    client, stub = bedrock
    expect_availability(stub, NOVA, region="NOT_AVAILABLE")

    # When: the check runs
    with pytest.raises(ModelAccessError) as err:
        check_model_access(
            [ModelRequest(NOVA)], region=REGION, stage="dev", client=client, sleep=no_sleep
        )

    # Then: the message says the model is not available in that region
    message = str(err.value)
    assert f"model not available in region {REGION}" in message
    assert "regionAvailability NOT_AVAILABLE" in message


def test_entitlement_unavailable_fails(bedrock):
    # Given: the account is not entitled to the model
    client, stub = bedrock
    expect_availability(stub, NOVA, entitlement="NOT_AVAILABLE")

    # When / Then: the check fails naming the entitlement status
    with pytest.raises(ModelAccessError, match="entitlementAvailability NOT_AVAILABLE"):
        check_model_access(
            [ModelRequest(NOVA)], region=REGION, stage="dev", client=client, sleep=no_sleep
        )


def test_several_failing_models_are_reported_in_one_message(bedrock):
    # Given: three models, two failing for different reasons, one fine
    client, stub = bedrock
    expect_availability(stub, CLAUDE, authorization="NOT_AUTHORIZED")
    expect_availability(stub, NOVA, region="NOT_AVAILABLE")
    expect_availability(stub, COHERE)

    # When: the check runs without a form
    with pytest.raises(ModelAccessError) as err:
        check_model_access(
            [
                ModelRequest(CLAUDE, use_case_form=True),
                ModelRequest(NOVA),
                ModelRequest(COHERE, marketplace_agreement=True),
            ],
            region=REGION,
            stage="dev",
            client=client,
            sleep=no_sleep,
        )

    # Then: one error lists both failing models and not the usable one
    error = err.value
    assert {p.model_id for p in error.problems} == {CLAUDE, NOVA}
    message = str(error)
    assert "for 2 model(s)" in message
    assert CLAUDE in message and NOVA in message and COHERE not in message


def test_unknown_model_id_is_reported(bedrock):
    # Given: Bedrock does not know the model id
    client, stub = bedrock
    stub.add_client_error(
        "get_foundation_model_availability",
        "ResourceNotFoundException",
        "not found",
        expected_params={"modelId": NOVA},
    )

    # When / Then: the message points at the catalog entry
    with pytest.raises(ModelAccessError, match="ResourceNotFoundException"):
        check_model_access(
            [ModelRequest(NOVA)], region=REGION, stage="dev", client=client, sleep=no_sleep
        )


# --------------------------------------------------------------------------- handler


def event(request_type: str, **props) -> dict:
    """A Provider-framework event whose properties the stack rendered from the contract."""
    rendered = AccessCheckProperties(
        Stage="test",
        Region=REGION,
        Models=(ModelAccessNeed(ModelId=CLAUDE, UseCaseForm="true"),),
    ).render()
    evt = {
        "RequestType": request_type,
        "ResourceProperties": {"ServiceToken": "arn:aws:lambda:fn", **rendered, **props},
    }
    if request_type != "Create":
        evt["PhysicalResourceId"] = "bedrock-model-access-test"
    return evt


def test_handler_delete_makes_no_calls(bedrock):
    # Given: a Delete event (no stubbed responses at all)
    client, _stub = bedrock

    # When: the handler runs
    response = handler_module.handler(event("Delete"), _context(), client=client)

    # Then: nothing was called and the physical id is kept
    assert response["PhysicalResourceId"] == "bedrock-model-access-test"


def test_handler_create_and_update_keep_a_stable_physical_id(bedrock):
    # Given: a model that is available, on Create then on Update
    client, stub = bedrock
    expect_availability(stub, CLAUDE)
    expect_availability(stub, CLAUDE)

    # When: both events are handled
    created = handler_module.handler(event("Create"), _context(), client=client)
    updated = handler_module.handler(event("Update"), _context(), client=client)

    # Then: the physical id does not change (no replacement on update)
    assert created["PhysicalResourceId"] == updated["PhysicalResourceId"]


def test_handler_submits_the_rendered_form(bedrock):
    # Given: a model lacking authorization and a form in the properties
    client, stub = bedrock
    expect_availability(stub, CLAUDE, authorization="NOT_AUTHORIZED")
    stub.add_response(
        "put_use_case_for_model_access",
        {},
        {"formData": json.dumps(FORM_JSON, separators=(",", ":")).encode()},
    )
    expect_availability(stub, CLAUDE)

    # When: the handler runs a Create
    handler_module.handler(event("Create", UseCaseForm=FORM_JSON), _context(), client=client)

    # Then: the form was submitted with Bedrock's field names (the stub checked the blob)


def test_properties_map_flags_and_form_to_the_check():
    # Given: properties rendered from the contract with every flag set
    props = handler_module.parse_properties(
        event(
            "Create",
            Models=[
                {"ModelId": CLAUDE, "UseCaseForm": "true", "MarketplaceAgreement": "false"},
                {"ModelId": NOVA, "MarketplaceAgreement": "true"},
            ],
            UseCaseForm=FORM_JSON,
            AcceptMarketplaceAgreements="true",
        )["ResourceProperties"]
    )

    # When / Then: the check gets the same facts
    assert handler_module.model_requests(props) == [
        ModelRequest(CLAUDE, use_case_form=True, marketplace_agreement=False),
        ModelRequest(NOVA, use_case_form=False, marketplace_agreement=True),
    ]
    assert props.UseCaseForm == FORM
    assert props.AcceptMarketplaceAgreements == "true"


@pytest.mark.parametrize(
    "props,named",
    [
        ({"AcceptMarketplaceAgreements": "maybe"}, "AcceptMarketplaceAgreements"),
        ({"Models": []}, "Models"),
        ({"Models": [{"UseCaseForm": "true"}]}, "Models.0.ModelId"),
        ({"Surprise": "x"}, "Surprise"),
    ],
)
def test_properties_that_break_the_contract_fail_naming_the_property(props, named):
    # Given / When / Then: a property outside the contract fails the deploy with its path
    with pytest.raises(ValueError, match=named):
        handler_module.parse_properties(event("Create", **props)["ResourceProperties"])


def test_handler_failure_raises_the_clear_message(bedrock):
    # Given: the model lacks authorization and no form is configured
    client, stub = bedrock
    expect_availability(stub, CLAUDE, authorization="NOT_AUTHORIZED")

    # When / Then: the exception the Provider framework reports carries the fix
    with pytest.raises(ModelAccessError, match=r"stages\.test\.model_access\.use_case_form"):
        handler_module.handler(event("Create"), _context(), client=client)


def _context() -> Any:
    """The stand-in Lambda context, typed as what the handler accepts."""
    return LambdaContext()
