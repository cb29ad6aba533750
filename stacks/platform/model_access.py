"""The deploy-time Bedrock model access check (a CloudFormation custom resource).

The check runs on Create and on every Update of its properties (models, form, flags) and
fails the deployment with one message naming every model that is not usable and what to do.

IAM note (Service Authorization Reference, "Actions, resources, and condition keys for Amazon
Bedrock"): ``GetFoundationModelAvailability``, ``PutUseCaseForModelAccess``,
``ListFoundationModelAgreementOffers`` and ``CreateFoundationModelAgreement`` list **no**
resource type (and no condition key), so IAM only matches them with ``Resource: "*"``; a
foundation-model ARN in ``Resource`` would never match and the check would fail with
AccessDenied. Each such action therefore gets its own statement, narrowed by
``aws:RequestedRegion`` to the stage's region, with a specific cdk-nag acknowledgement.
``aws-marketplace:Subscribe`` / ``ViewSubscriptions`` likewise have no resource type
("Grant IAM permissions to request access to Amazon Bedrock foundation models with a product
ID"); ``Subscribe`` is narrowed with the ``aws-marketplace:ProductId`` condition to the product
ids the catalog records for the stage's models; ``ViewSubscriptions`` supports no condition.
"""

from __future__ import annotations

from aws_cdk import CustomResource, Duration
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from constructs import Construct

from kit_runtime.contracts.model_access import (
    AccessCheckProperties,
    ModelAccessNeed,
    UseCaseFormFields,
    flag,
)
from stacks.config import StagePlan
from stacks.core.custom_resource import OUTSIDE_VPC_REASON, handler_policy, kit_provider
from stacks.core.function import KitFunction
from stacks.core.nag import acknowledge

HANDLER = "handlers.model_access.handler"
RESOURCE_TYPE = "Custom::BedrockModelAccessCheck"


def access_check_properties(plan: StagePlan) -> AccessCheckProperties:
    """The custom resource's properties for the stage's enabled models."""
    access = plan.config.model_access
    form = access.use_case_form
    return AccessCheckProperties(
        Stage=plan.name,
        Region=plan.region,
        Models=tuple(
            ModelAccessNeed(
                ModelId=m.id,
                UseCaseForm=flag(m.spec.access.use_case_form),
                MarketplaceAgreement=flag(m.spec.access.marketplace_agreement),
            )
            for m in plan.models
        ),
        AcceptMarketplaceAgreements=flag(access.accept_marketplace_agreements),
        UseCaseForm=None
        if form is None
        else UseCaseFormFields(
            companyName=form.company_name,
            companyWebsite=form.company_website,
            intendedUsers=form.intended_users,
            industryOption=form.industry_option,
            otherIndustryOption=form.other_industry_option,
            useCases=form.use_cases,
        ),
    )


def access_check_statements(plan: StagePlan) -> list[iam.PolicyStatement]:
    """The least-privilege statements the check's role needs for this stage.

    Write statements appear only when the stage can use them: the use-case form only when
    the stage carries one and an enabled model needs it; the agreement and AWS Marketplace
    statements only when ``accept_marketplace_agreements`` is on (an explicit opt-in) and an
    enabled model is sold through AWS Marketplace.
    """
    access = plan.config.model_access
    specs = [m.spec for m in plan.models]
    in_region = {"StringEquals": {"aws:RequestedRegion": plan.region}}

    def account_level(sid: str, action: str) -> iam.PolicyStatement:
        # No resource type exists for these actions: "*", alone, pinned to the stage's region.
        return iam.PolicyStatement(sid=sid, actions=[action], resources=["*"], conditions=in_region)

    statements = [account_level("ReadModelAvailability", "bedrock:GetFoundationModelAvailability")]
    if access.use_case_form is not None and any(s.access.use_case_form for s in specs):
        statements.append(
            account_level("SubmitAnthropicUseCaseForm", "bedrock:PutUseCaseForModelAccess")
        )
    product_ids = sorted(
        {
            s.access.marketplace_product_id
            for s in specs
            if s.access.marketplace_agreement and s.access.marketplace_product_id
        }
    )
    if access.accept_marketplace_agreements and product_ids:
        statements += [
            account_level("ListModelAgreementOffers", "bedrock:ListFoundationModelAgreementOffers"),
            account_level("CreateModelAgreement", "bedrock:CreateFoundationModelAgreement"),
            # Subscribe only to the offers of the stage's models (the config loader has made
            # sure every one of them has its product id in the catalog).
            iam.PolicyStatement(
                sid="SubscribeToStageModelOffers",
                actions=["aws-marketplace:Subscribe"],
                resources=["*"],
                conditions={"ForAnyValue:StringEquals": {"aws-marketplace:ProductId": product_ids}},
            ),
            iam.PolicyStatement(
                sid="ViewModelSubscriptions",
                actions=["aws-marketplace:ViewSubscriptions"],
                resources=["*"],
            ),
        ]
    return statements


class ModelAccessCheck(Construct):
    """Checks at deploy time that every enabled model is usable, fixing what the stage allows.

    Parameters
    ----------
    scope, construct_id:
        Where the construct goes.
    plan:
        The stage plan.
    code:
        The shared Lambda asset (``runtime_code()``).

    Attributes
    ----------
    resource:
        The ``CustomResource``; make other resources depend on it so they wait for the check.
    function:
        The ``KitFunction`` running the check.
    provider:
        The Provider framework.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        plan: StagePlan,
        code: lambda_.Code,
    ) -> None:
        super().__init__(scope, construct_id)
        self.function = KitFunction(
            self,
            "Function",
            plan=plan,
            code=code,
            handler=HANDLER,
            description="Deploy-time Bedrock model access check",
            service="model-access",
            invocation="sync",
            timeout=Duration.minutes(3),
            memory_mb=256,
        )
        # The check must not run before it may call Bedrock.
        self.policy = handler_policy(
            self, function=self.function, statements=access_check_statements(plan)
        )
        acknowledge(
            self.policy,
            "AwsSolutions-IAM5[Resource::*]",
            "GetFoundationModelAvailability, PutUseCaseForModelAccess, "
            "ListFoundationModelAgreementOffers, CreateFoundationModelAgreement and "
            "aws-marketplace:Subscribe/ViewSubscriptions support no resource-level permissions "
            "(Service Authorization Reference); each is in its own statement, the Bedrock ones "
            "limited to the stage's region by aws:RequestedRegion.",
        )

        acknowledge(
            self.function.function,
            "NIST.800.53.R5-LambdaInsideVPC",
            OUTSIDE_VPC_REASON.format(subject="the model access check"),
        )
        self.provider = kit_provider(
            self,
            plan=plan,
            function=self.function,
            subject="check",
            role_description=f"Model access check provider framework ({plan.name})",
        )

        self.resource = CustomResource(
            self,
            "Resource",
            service_token=self.provider.service_token,
            resource_type=RESOURCE_TYPE,
            properties=access_check_properties(plan).render(),
        )


__all__ = ["ModelAccessCheck", "access_check_properties", "access_check_statements"]
