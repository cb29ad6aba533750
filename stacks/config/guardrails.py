"""The stage's guardrail (base policies; the guardrails issue adds the rest)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from stacks.config.base import Strict

Threshold = Literal["NONE", "LOW", "MEDIUM", "HIGH"]
PiiAction = Literal["BLOCK", "ANONYMIZE"]
# Entity types CloudFormation accepts in AWS::Bedrock::Guardrail PiiEntityConfig.Type.
PiiType = Literal[
    "ADDRESS",
    "AGE",
    "AWS_ACCESS_KEY",
    "AWS_SECRET_KEY",
    "CA_HEALTH_NUMBER",
    "CA_SOCIAL_INSURANCE_NUMBER",
    "CREDIT_DEBIT_CARD_CVV",
    "CREDIT_DEBIT_CARD_EXPIRY",
    "CREDIT_DEBIT_CARD_NUMBER",
    "DRIVER_ID",
    "EMAIL",
    "INTERNATIONAL_BANK_ACCOUNT_NUMBER",
    "IP_ADDRESS",
    "LICENSE_PLATE",
    "MAC_ADDRESS",
    "NAME",
    "PASSWORD",
    "PHONE",
    "PIN",
    "SWIFT_CODE",
    "UK_NATIONAL_HEALTH_SERVICE_NUMBER",
    "UK_NATIONAL_INSURANCE_NUMBER",
    "UK_UNIQUE_TAXPAYER_REFERENCE_NUMBER",
    "URL",
    "USERNAME",
    "US_BANK_ACCOUNT_NUMBER",
    "US_BANK_ROUTING_NUMBER",
    "US_INDIVIDUAL_TAX_IDENTIFICATION_NUMBER",
    "US_PASSPORT_NUMBER",
    "US_SOCIAL_SECURITY_NUMBER",
    "VEHICLE_IDENTIFICATION_NUMBER",
]


class FilterStrength(Strict):
    input: Threshold = "HIGH"
    output: Threshold = "HIGH"


class PromptAttackFilter(Strict):
    # Bedrock evaluates prompt attacks on input only; output must be NONE.
    input: Threshold = "HIGH"


class ContentFilters(Strict):
    hate: FilterStrength = FilterStrength()
    insults: FilterStrength = FilterStrength()
    sexual: FilterStrength = FilterStrength()
    violence: FilterStrength = FilterStrength()
    misconduct: FilterStrength = FilterStrength()
    prompt_attack: PromptAttackFilter = PromptAttackFilter()


class PiiEntity(Strict):
    type: PiiType
    action: PiiAction = "ANONYMIZE"


class GuardrailConfig(Strict):
    """The stage's guardrail."""

    content_filters: ContentFilters = ContentFilters()
    pii_entities: tuple[PiiEntity, ...] = (
        PiiEntity(type="EMAIL"),
        PiiEntity(type="PHONE"),
        PiiEntity(type="US_SOCIAL_SECURITY_NUMBER", action="BLOCK"),
        PiiEntity(type="CREDIT_DEBIT_CARD_NUMBER", action="BLOCK"),
    )
    # 1-500 characters: the limit of BlockedInputMessaging / BlockedOutputsMessaging.
    blocked_input_message: str = Field(
        default="Sorry, this request was blocked by the content policy.",
        min_length=1,
        max_length=500,
    )
    blocked_output_message: str = Field(
        default="Sorry, the answer was blocked by the content policy.", min_length=1, max_length=500
    )


def guardrail_problems(prefix: str, guardrail: GuardrailConfig) -> list[str]:
    """Checks pydantic cannot express on one field."""
    problems: list[str] = []
    types = [e.type for e in guardrail.pii_entities]
    for i, entity in enumerate(guardrail.pii_entities):
        if types.index(entity.type) != i:
            problems.append(
                f"{prefix}.guardrail.pii_entities[{i}].type: {entity.type!r} is listed twice"
            )
    return problems
