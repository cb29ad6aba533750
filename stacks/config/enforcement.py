"""Account-level guardrail enforcement (``guardrail_enforcement``, optional per stage).

The stage's own guardrail ``guardrail`` (pinned version) becomes the guardrail Bedrock applies
to every model invocation of the account in the stage's Region, through
``AWS::Bedrock::EnforcedGuardrailConfiguration``. Shapes, enums and patterns are the service's
own: ``aws_cdk.aws_bedrock.CfnEnforcedGuardrailConfiguration`` (aws-cdk-lib 2.275.0) and
botocore's ``bedrock`` 2023-04-20 ``PutEnforcedGuardrailConfiguration`` input shapes
(``SelectiveGuardingMode``, ``IncludedModelId``, ``ExcludedModelId``; botocore 1.44.5), both
checked 2026-12-01. ``ListEnforcedGuardrailsConfiguration`` returns at most one configuration
(``AccountEnforcedGuardrailsOutputConfiguration`` max 1), so there is one per account and
Region: :func:`enforcement_conflicts` refuses two stages that would both own it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Annotated, Any, Literal

from pydantic import Field

from stacks.config.base import Strict, show

KEY = "guardrail_enforcement"

GuardingMode = Literal["SELECTIVE", "COMPREHENSIVE"]  # SelectiveGuardingMode
# IncludedModelId / ExcludedModelId (botocore bedrock 2023-04-20, checked 2026-12-01).
_MODEL = r"([a-z0-9-]{1,63}[.]{1}[a-z0-9-]{1,63})([:][a-z0-9-]{1,63}){0,2}(/[a-z0-9]{12}){0,1}"
IncludedModel = Annotated[str, Field(pattern=rf"^(ALL|{_MODEL})$")]
ExcludedModel = Annotated[str, Field(pattern=rf"^{_MODEL}$")]


class GuardrailEnforcement(Strict):
    """One of the stage's guardrails, enforced on every Bedrock invocation of the account and
    Region (not only the kit's), in addition to any guardrail a request names."""

    guardrail: str = Field(min_length=1)
    """The name of one of the stage's ``guardrails``; its pinned version is enforced."""
    system_prompts: GuardingMode | None = None
    """``SelectiveContentGuarding.system``: SELECTIVE or COMPREHENSIVE (service default when
    unset)."""
    messages: GuardingMode | None = None
    """``SelectiveContentGuarding.messages``: SELECTIVE or COMPREHENSIVE (service default when
    unset)."""
    include_models: tuple[IncludedModel, ...] = ()
    """``ModelEnforcement.includedModels`` (``ALL`` or model ids); empty: ``ALL``."""
    exclude_models: tuple[ExcludedModel, ...] = ()
    """``ModelEnforcement.excludedModels``: a model in both lists is excluded. With both lists
    empty no ``ModelEnforcement`` is sent and the service enforces on every model."""

    def model_enforcement(self) -> tuple[tuple[str, ...], tuple[str, ...]] | None:
        """(included, excluded) as the service wants them (both required, included not
        empty), or None when the config narrows nothing."""
        if not self.include_models and not self.exclude_models:
            return None
        return (self.include_models or ("ALL",), self.exclude_models)


def enforcement_problems(
    prefix: str, enforcement: GuardrailEnforcement | None, guardrail_names: list[str]
) -> list[str]:
    """The enforced guardrail must be one of the stage's own."""
    if enforcement is None or enforcement.guardrail in guardrail_names:
        return []
    return [
        f"{prefix}.{KEY}.guardrail: {show(enforcement.guardrail)} is not one of the stage's "
        f"guardrails; allowed: {', '.join(guardrail_names)}"
    ]


_REGION = re.compile(r"^[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-\d{1,2}$")


def enforcement_conflicts(chosen: str, stages: Mapping[str, Any]) -> list[str]:
    """Stages of cdk.json that would own the same account-and-Region enforcement as ``chosen``.

    Each stage's enforcement points at that stage's own guardrail, so two stages setting it in
    one account and Region always differ (even with identical config) and the second deploy
    would overwrite the first, whose stack still believes it owns it. Only one stage per
    account and Region may set ``guardrail_enforcement``; the others' calls are guarded by it
    too. Accounts are read as written (never from the credentials, so the answer does not
    depend on who synthesizes): a stage without ``account`` may collide with any other
    account-less stage of its Region; an account-less stage and one with an account are not
    compared (set ``account`` on a stage that enforces).
    """
    raw = stages.get(chosen)
    if not isinstance(raw, Mapping) or raw.get(KEY) is None:
        return []
    home = _place(raw)
    if home is None:
        return []
    problems = []
    for name, other in stages.items():
        if name == chosen or not isinstance(other, Mapping) or other.get(KEY) is None:
            continue
        if _place(other) == home:
            account, region = home
            where = f"account {account}" if account else "the credentials' account (no account)"
            problems.append(
                f"stages.{chosen}.{KEY}: stages {chosen!r} and {name!r} both set {KEY} in "
                f"{where}, Region {region}; Bedrock keeps one enforced guardrail per account "
                f"and Region, each stage would point it at its own guardrail and the later "
                f"deploy would take it over; allowed: {KEY} on at most one stage per account "
                f"and Region (remove it from one of them, or give them different accounts)"
            )
    return problems


def _place(stage: Mapping[str, Any]) -> tuple[str | None, str] | None:
    region, account = stage.get("region"), stage.get("account")
    if not isinstance(region, str) or not _REGION.match(region):
        return None  # the stage's own synth reports its region
    return (account if isinstance(account, str) else None, region)
