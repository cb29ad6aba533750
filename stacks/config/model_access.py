"""The deploy-time model access check."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from stacks.catalog import ModelSpec
from stacks.config.base import Strict

PRODUCT_IDS_PAGE = "docs.aws.amazon.com/bedrock/latest/userguide/model-access-product-ids.html"


class UseCaseForm(Strict):
    """Anthropic's one-time first-use form (PutUseCaseForModelAccess)."""

    company_name: str = Field(min_length=1, max_length=200)
    company_website: str = Field(pattern=r"^https://\S+$", max_length=500)
    intended_users: Literal["0", "1", "2"] = "0"
    """0: internal employees, 1: external users, 2: both (Bedrock's own codes)."""
    industry_option: str = Field(min_length=1, max_length=100)
    other_industry_option: str = Field(default="", max_length=100)
    use_cases: str = Field(min_length=1, max_length=2000)


class ModelAccess(Strict):
    """The deploy-time model access check."""

    enabled: bool = True
    accept_marketplace_agreements: bool = False
    """Opt-in: accepting an AWS Marketplace offer is an agreement that can cost money."""
    use_case_form: UseCaseForm | None = None


def model_access_problems(prefix: str, access: ModelAccess, models: list[ModelSpec]) -> list[str]:
    """Accepting agreements is scoped to product ids, so every one must be known."""
    if not (access.enabled and access.accept_marketplace_agreements):
        return []
    return [
        f"{prefix}.model_access.accept_marketplace_agreements: true needs the AWS Marketplace "
        f"product id of {spec.id!r}, which the catalog lacks; add "
        f"access.marketplace_product_id from {PRODUCT_IDS_PAGE}, or accept the offer once "
        "in the Bedrock console and set this key to false"
        for spec in models
        if spec.access.marketplace_agreement and spec.access.marketplace_product_id is None
    ]
