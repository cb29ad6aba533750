"""Properties of the ``Custom::BedrockModelAccessCheck`` resource.

CloudFormation passes every scalar of a custom resource as a string, so flags are the strings
``"true"`` / ``"false"``; the stack renders this model with :meth:`AccessCheckProperties.render`
and the handler parses the event's ``ResourceProperties`` with ``model_validate``.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from kit_runtime.contracts.common import Contract

Flag = Literal["true", "false"]


def flag(value: bool) -> Flag:
    """A boolean as CloudFormation hands it to a custom resource."""
    return "true" if value else "false"


class ModelAccessNeed(Contract):
    """One enabled model and what the catalog says access to it needs."""

    ModelId: str = Field(min_length=1)
    UseCaseForm: Flag = "false"
    MarketplaceAgreement: Flag = "false"


class UseCaseFormFields(Contract):
    """Anthropic's first-use form with Bedrock's field names (``intendedUsers``: "0" internal,
    "1" external, "2" both)."""

    companyName: str
    companyWebsite: str
    intendedUsers: str
    industryOption: str
    otherIndustryOption: str = ""
    useCases: str

    def form_data(self) -> bytes:
        """The ``formData`` blob ``PutUseCaseForModelAccess`` takes: this form as compact JSON."""
        return self.model_dump_json().encode("utf-8")


class AccessCheckProperties(Contract):
    """The custom resource's properties (``ServiceToken`` is added by CloudFormation)."""

    Stage: str
    Region: str
    Models: tuple[ModelAccessNeed, ...] = Field(min_length=1)
    AcceptMarketplaceAgreements: Flag = "false"
    UseCaseForm: UseCaseFormFields | None = None

    def render(self) -> dict[str, Any]:
        """The properties as the stack writes them (absent form left out)."""
        return self.model_dump(mode="json", exclude_none=True)
