"""Per-request guardrail selection: a request names one of the stage's guardrails, or gets the
default. Checked before any Bedrock call, so an unknown name costs nothing."""

from __future__ import annotations

from dataclasses import dataclass

from kit_runtime import errors
from kit_runtime.contracts.chat import GuardrailChoices, GuardrailRef


@dataclass(frozen=True)
class ChosenGuardrail:
    """The guardrail a request goes through."""

    name: str | None
    """Its config name (``None`` when the stage's settings name none)."""
    ref: GuardrailRef
    default: bool
    """It is the stage's default guardrail."""


def allowed_names(choices: GuardrailChoices) -> list[str]:
    """Every guardrail name a request may give, sorted."""
    names = set(choices.guardrails)
    if choices.guardrail_name is not None:
        names.add(choices.guardrail_name)
    return sorted(names)


def choose_guardrail(choices: GuardrailChoices, name: str | None, *, stage: str) -> ChosenGuardrail:
    """The guardrail named ``name`` (``None``: the default).

    Raises
    ------
    errors.UnknownGuardrail
        ``name`` is none of the stage's guardrails (the body lists the allowed names).
    """
    if name is None or name == choices.guardrail_name:
        return ChosenGuardrail(choices.guardrail_name, choices.guardrail, default=True)
    ref = choices.guardrails.get(name)
    if ref is None:
        raise errors.UnknownGuardrail(
            f"guardrail {errors.clip(name)!r} does not exist in stage {stage!r}",
            allowed_guardrails=allowed_names(choices),
        )
    return ChosenGuardrail(name, ref, default=False)
