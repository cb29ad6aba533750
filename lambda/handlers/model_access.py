"""Custom resource (CDK Provider framework, ``onEvent``): the deploy-time model access check.

Create and Update run :func:`kit_runtime.model_access.check_model_access` with the resource
properties (:class:`kit_runtime.contracts.model_access.AccessCheckProperties`, rendered by
the stack); Delete does nothing (access is an account setting, never revoked here). An
exception fails the deployment and the Provider framework shows its message.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from kit_runtime import custom_resource
from kit_runtime.contracts.model_access import AccessCheckProperties
from kit_runtime.model_access import ModelRequest, check_model_access
from kit_runtime.observability import logger, tracer


def parse_properties(value: Any) -> AccessCheckProperties:
    """The event's ``ResourceProperties`` as the contract, or one clear error.

    Raises
    ------
    ValueError
        Names every property that does not match the contract.
    """
    return custom_resource.parse_properties(value, AccessCheckProperties, "model access check")


def model_requests(props: AccessCheckProperties) -> list[ModelRequest]:
    """The models to check, with what the catalog says access to each needs."""
    return [
        ModelRequest(
            model_id=m.ModelId,
            use_case_form=m.UseCaseForm == "true",
            marketplace_agreement=m.MarketplaceAgreement == "true",
        )
        for m in props.Models
    ]


# The function is a KitFunction (X-Ray active where the stage traces): the handler segment and
# botocore's subsegments show which Bedrock control-plane call slowed or failed a deployment.
@logger.inject_lambda_context
@tracer.capture_lambda_handler(capture_response=False)
def handler(
    event: dict[str, Any], context: LambdaContext, *, client: Any | None = None
) -> dict[str, Any]:
    """Handle one CloudFormation custom resource event.

    Parameters
    ----------
    event:
        The Provider framework's ``onEvent`` payload.
    context:
        The Lambda context.
    client:
        A ``bedrock`` client (tests); default: built for the region on first use.

    Returns
    -------
    dict
        ``PhysicalResourceId`` (stable across updates) and a short ``Data`` summary.
    """
    request_type = custom_resource.request_type(event)
    if request_type == "Delete":
        return custom_resource.keep_on_delete(event, "delete: nothing to do")
    props = parse_properties(event.get("ResourceProperties"))
    physical_id = event.get("PhysicalResourceId") or f"bedrock-model-access-{props.Stage}"
    models = model_requests(props)
    form = props.UseCaseForm
    accept = props.AcceptMarketplaceAgreements == "true"
    logger.info(
        "checking model access",
        extra={
            "request_type": request_type,
            "region": props.Region,
            "models": [m.model_id for m in models],
            "use_case_form": form is not None,
            "accept_marketplace_agreements": accept,
        },
    )
    result = check_model_access(
        models,
        region=props.Region,
        stage=props.Stage,
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
