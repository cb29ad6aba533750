"""Custom resource (CDK Provider framework, ``onEvent``): the deploy-time model access check.

Create and Update run :func:`kit_runtime.model_access.check_model_access` with the resource
properties; Delete does nothing (access is an account setting, never revoked here). An
exception fails the deployment and the Provider framework shows its message.

Properties (CloudFormation passes every scalar as a string):

- ``Stage``: the stage name; ``Region``: the region to check (default: the function's).
- ``Models``: list of ``{ModelId, UseCaseForm: "true"|"false", MarketplaceAgreement: ...}``.
- ``UseCaseForm``: ``{companyName, companyWebsite, intendedUsers, industryOption,
  otherIndustryOption, useCases}`` or absent.
- ``AcceptMarketplaceAgreements``: ``"true"`` or ``"false"``.
"""

from __future__ import annotations

import os
from typing import Any

from aws_lambda_powertools import Logger

from kit_runtime.model_access import (
    ModelRequest,
    UseCaseForm,
    check_model_access,
)

logger = Logger()

_TRUE = {"true", "1", "yes"}
_FALSE = {"false", "0", "no", ""}


def handler(event: dict[str, Any], context: Any, *, client: Any | None = None) -> dict[str, Any]:
    """Handle one CloudFormation custom resource event.

    Parameters
    ----------
    event:
        The Provider framework's ``onEvent`` payload.
    context:
        The Lambda context (unused).
    client:
        A ``bedrock`` client (tests); default: built for the region on first use.

    Returns
    -------
    dict
        ``PhysicalResourceId`` (stable across updates) and a short ``Data`` summary.
    """
    request_type = event.get("RequestType", "")
    props = event.get("ResourceProperties") or {}
    stage = str(props.get("Stage") or os.environ.get("KIT_STAGE", "unknown"))
    physical_id = event.get("PhysicalResourceId") or f"bedrock-model-access-{stage}"
    if request_type == "Delete":
        logger.info("delete: nothing to do", extra={"physical_id": physical_id})
        return {"PhysicalResourceId": physical_id}
    if request_type not in ("Create", "Update"):
        raise ValueError(f"unsupported RequestType {request_type!r}")

    region = str(props.get("Region") or os.environ.get("AWS_REGION", ""))
    models = parse_models(props.get("Models"))
    form = parse_use_case_form(props.get("UseCaseForm"))
    accept = parse_bool(
        props.get("AcceptMarketplaceAgreements", "true"), "AcceptMarketplaceAgreements"
    )
    logger.info(
        "checking model access",
        extra={
            "request_type": request_type,
            "region": region,
            "models": [m.model_id for m in models],
            "use_case_form": form is not None,
            "accept_marketplace_agreements": accept,
        },
    )
    result = check_model_access(
        models,
        region=region,
        stage=stage,
        use_case_form=form,
        accept_marketplace_agreements=accept,
        client=client,
    )
    logger.info(
        "model access ok",
        extra={
            "form_submitted": result.form_submitted,
            "agreements_created": result.agreements_created,
            "availability": {k: v.summary() for k, v in result.availability.items()},
        },
    )
    return {
        "PhysicalResourceId": physical_id,
        "Data": {"Models": ",".join(sorted(result.availability))},
    }


def parse_bool(value: Any, name: str) -> bool:
    """A boolean property: CloudFormation turns ``true`` into ``"true"``.

    Raises
    ------
    ValueError
        The value is neither a boolean nor a boolean string.
    """
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower() if value is not None else ""
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise ValueError(f"property {name}: {value!r} is not a boolean (expected 'true'/'false')")


def parse_models(value: Any) -> list[ModelRequest]:
    """The ``Models`` property as :class:`ModelRequest` objects."""
    if not isinstance(value, list):
        raise ValueError(
            "property Models: expected a list of {ModelId, UseCaseForm, MarketplaceAgreement}"
        )
    models = []
    for i, item in enumerate(value):
        if not isinstance(item, dict) or not item.get("ModelId"):
            raise ValueError(f"property Models[{i}]: ModelId is missing")
        models.append(
            ModelRequest(
                model_id=str(item["ModelId"]),
                use_case_form=parse_bool(
                    item.get("UseCaseForm", "false"), f"Models[{i}].UseCaseForm"
                ),
                marketplace_agreement=parse_bool(
                    item.get("MarketplaceAgreement", "false"), f"Models[{i}].MarketplaceAgreement"
                ),
            )
        )
    return models


def parse_use_case_form(value: Any) -> UseCaseForm | None:
    """The ``UseCaseForm`` property (Bedrock's field names) or ``None`` when absent."""
    if not value:
        return None
    if not isinstance(value, dict):
        raise ValueError("property UseCaseForm: expected an object")
    return UseCaseForm(
        company_name=str(value.get("companyName", "")),
        company_website=str(value.get("companyWebsite", "")),
        intended_users=str(value.get("intendedUsers", "0")),
        industry_option=str(value.get("industryOption", "")),
        other_industry_option=str(value.get("otherIndustryOption", "")),
        use_cases=str(value.get("useCases", "")),
    )
