"""Deploy-time Bedrock model access check: pure logic, the ``bedrock`` client is injected.

For every model a stage enables, ask Bedrock whether the account may use it
(``GetFoundationModelAvailability``), fix what the stage allows us to fix (submit the
Anthropic use-case form, accept the AWS Marketplace offer), ask again and fail with one
message naming every model that is still not usable, the region, the failing status and
what to do about it.

Nothing is written for a model that is already usable, so running the check again is free.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from kit_runtime.contracts.model_access import UseCaseFormFields

AVAILABLE = "AVAILABLE"
AUTHORIZED = "AUTHORIZED"
PENDING = "PENDING"

# A freshly accepted agreement is PENDING for a short while; poll this long before judging.
DEFAULT_PENDING_WAIT_SECONDS = 60.0
DEFAULT_POLL_SECONDS = 10.0


@dataclass(frozen=True)
class ModelRequest:
    """One model the stage enables, with what the catalog says access to it needs.

    Attributes
    ----------
    model_id:
        The foundation model id, e.g. ``anthropic.claude-sonnet-4-5-20250929-v1:0``.
    use_case_form:
        The catalog says the model needs Anthropic's first-use form.
    marketplace_agreement:
        The catalog says the model is sold through AWS Marketplace (an agreement is needed).
    """

    model_id: str
    use_case_form: bool = False
    marketplace_agreement: bool = False


@dataclass(frozen=True)
class Availability:
    """What ``GetFoundationModelAvailability`` said about one model.

    Attributes
    ----------
    model_id:
        The model asked about.
    agreement:
        ``agreementAvailability.status``: AVAILABLE, PENDING, NOT_AVAILABLE or ERROR.
    authorization:
        ``authorizationStatus``: AUTHORIZED or NOT_AUTHORIZED.
    entitlement:
        ``entitlementAvailability``: AVAILABLE or NOT_AVAILABLE.
    region:
        ``regionAvailability``: AVAILABLE or NOT_AVAILABLE.
    agreement_error:
        ``agreementAvailability.errorMessage`` when Bedrock gives one.
    """

    model_id: str
    agreement: str
    authorization: str
    entitlement: str
    region: str
    agreement_error: str | None = None

    @classmethod
    def from_response(cls, model_id: str, response: dict[str, Any]) -> Availability:
        """Build from a ``GetFoundationModelAvailability`` response."""
        agreement = response.get("agreementAvailability") or {}
        return cls(
            model_id=model_id,
            agreement=str(agreement.get("status", "UNKNOWN")),
            authorization=str(response.get("authorizationStatus", "UNKNOWN")),
            entitlement=str(response.get("entitlementAvailability", "UNKNOWN")),
            region=str(response.get("regionAvailability", "UNKNOWN")),
            agreement_error=agreement.get("errorMessage"),
        )

    @property
    def usable(self) -> bool:
        """Every status allows invocation (a PENDING agreement completes on its own)."""
        return (
            self.authorization == AUTHORIZED
            and self.entitlement == AVAILABLE
            and self.region == AVAILABLE
            and self.agreement in (AVAILABLE, PENDING)
        )

    def summary(self) -> dict[str, str]:
        """The four statuses, short enough to log."""
        return {
            "agreement": self.agreement,
            "authorization": self.authorization,
            "entitlement": self.entitlement,
            "region": self.region,
        }


@dataclass(frozen=True)
class Problem:
    """Why one model is not usable and what to do about it."""

    model_id: str
    status: str
    remedy: str

    def __str__(self) -> str:
        return f"{self.model_id}: {self.status}; {self.remedy}"


class ModelAccessError(Exception):
    """One or more models are not usable; ``str()`` names each, the region and the fix.

    Attributes
    ----------
    region:
        The region checked.
    problems:
        One entry per model and failing status.
    """

    def __init__(self, region: str, problems: Sequence[Problem]) -> None:
        self.region = region
        self.problems = list(problems)
        models = sorted({p.model_id for p in self.problems})
        lines = "\n".join(f"  - {p}" for p in self.problems)
        super().__init__(
            f"Bedrock model access check failed in {region} for {len(models)} model(s) "
            f"({', '.join(models)}):\n{lines}"
        )


@dataclass
class CheckResult:
    """What the check found and did (for logging and tests).

    Attributes
    ----------
    availability:
        The final availability of every model, by model id.
    form_submitted:
        ``PutUseCaseForModelAccess`` was called.
    agreements_created:
        Models for which ``CreateFoundationModelAgreement`` was called.
    """

    availability: dict[str, Availability] = field(default_factory=dict)
    form_submitted: bool = False
    agreements_created: list[str] = field(default_factory=list)


def default_client(region: str, max_attempts: int = 5) -> Any:
    """The production ``bedrock`` control-plane client (from botocore; boto3 is not needed).

    Parameters
    ----------
    region:
        The region to check.
    max_attempts:
        Attempts per call with the adaptive retry mode (throttling is common here).
    """
    from botocore.config import Config
    from botocore.session import get_session

    return get_session().create_client(
        "bedrock",
        region_name=region,
        config=Config(retries={"mode": "adaptive", "max_attempts": max_attempts}),
    )


def check_model_access(
    models: Iterable[ModelRequest],
    *,
    region: str,
    stage: str,
    use_case_form: UseCaseFormFields | None = None,
    accept_marketplace_agreements: bool = True,
    client: Any | None = None,
    pending_wait_seconds: float = DEFAULT_PENDING_WAIT_SECONDS,
    poll_seconds: float = DEFAULT_POLL_SECONDS,
    sleep: Callable[[float], None] = time.sleep,
) -> CheckResult:
    """Make sure every model is usable in ``region``; fix what the stage allows, else fail.

    Parameters
    ----------
    models:
        The stage's enabled models with the catalog's access needs.
    region:
        The region the stage deploys to (named in the error message).
    stage:
        The stage name (the error message points at ``stages.<stage>...`` in cdk.json).
    use_case_form:
        Anthropic's first-use form from the stage config; submitted once if a model the
        catalog marks ``use_case_form`` lacks authorization. ``None``: never submitted.
    accept_marketplace_agreements:
        Accept the public AWS Marketplace offer of a model the catalog marks
        ``marketplace_agreement`` when it has no agreement yet.
    client:
        A boto3 ``bedrock`` client; default: :func:`default_client` for ``region``.
    pending_wait_seconds:
        How long to wait for an agreement still PENDING after it was created.
    poll_seconds:
        Pause between availability polls while waiting.
    sleep:
        The pause function (injected by tests).

    Returns
    -------
    CheckResult
        The final availability of every model and the writes made.

    Raises
    ------
    ModelAccessError
        Some model is still not usable; the message lists every one.
    """
    wanted = _dedupe(models)
    result = CheckResult()
    if not wanted:
        return result
    bedrock = client if client is not None else default_client(region)
    problems: dict[str, list[Problem]] = {m.model_id: [] for m in wanted}

    current = {m.model_id: _availability(bedrock, m.model_id, problems) for m in wanted}
    changed = False

    # The form is Anthropic's: it can only help models the catalog marks as needing it.
    missing_auth = [
        m
        for m in wanted
        if m.use_case_form
        and (a := current[m.model_id]) is not None
        and a.authorization != AUTHORIZED
    ]
    if missing_auth and use_case_form is not None:
        try:
            bedrock.put_use_case_for_model_access(formData=use_case_form.form_data())
            result.form_submitted = changed = True
        except Exception as exc:  # noqa: BLE001 - reported per model below
            for m in missing_auth:
                problems[m.model_id].append(
                    Problem(
                        m.model_id,
                        f"PutUseCaseForModelAccess failed ({_error_code(exc)})",
                        "grant the check's role bedrock:PutUseCaseForModelAccess or submit the "
                        "form once in the Bedrock console",
                    )
                )

    for m in wanted:
        a = current[m.model_id]
        if (
            a is None
            or a.agreement in (AVAILABLE, PENDING)
            or not m.marketplace_agreement
            or not accept_marketplace_agreements
        ):
            continue
        if _create_agreement(bedrock, m.model_id, problems):
            result.agreements_created.append(m.model_id)
            changed = True

    if changed:
        current = {
            mid: (_availability(bedrock, mid, problems) if a is not None else None)
            for mid, a in current.items()
        }
        current = _wait_for_pending(
            bedrock,
            current,
            result.agreements_created,
            problems,
            pending_wait_seconds,
            poll_seconds,
            sleep,
        )

    for m in wanted:
        a = current[m.model_id]
        if a is None:
            continue
        result.availability[m.model_id] = a
        problems[m.model_id].extend(
            _diagnose(
                m,
                a,
                region=region,
                stage=stage,
                has_form=use_case_form is not None,
                accept=accept_marketplace_agreements,
            )
        )
    flat = [p for m in wanted for p in dict.fromkeys(problems[m.model_id])]
    if flat:
        raise ModelAccessError(region, flat)
    return result


# --------------------------------------------------------------------------- steps


def _dedupe(models: Iterable[ModelRequest]) -> list[ModelRequest]:
    seen: dict[str, ModelRequest] = {}
    for m in models:
        seen.setdefault(m.model_id, m)
    return list(seen.values())


def _availability(
    bedrock: Any, model_id: str, problems: dict[str, list[Problem]]
) -> Availability | None:
    try:
        response = bedrock.get_foundation_model_availability(modelId=model_id)
    except Exception as exc:  # noqa: BLE001 - every failure becomes a clear problem
        code = _error_code(exc)
        remedy = (
            "the model id is unknown to Bedrock in this region: check the catalog entry "
            "(stacks/catalog/models.yaml)"
            if code in ("ResourceNotFoundException", "ValidationException")
            else "grant the check's role bedrock:GetFoundationModelAvailability"
            if code == "AccessDeniedException"
            else "retry the deployment"
        )
        problems[model_id].append(
            Problem(model_id, f"GetFoundationModelAvailability failed ({code})", remedy)
        )
        return None
    return Availability.from_response(model_id, response)


def _create_agreement(bedrock: Any, model_id: str, problems: dict[str, list[Problem]]) -> bool:
    remedy = (
        "accept the marketplace offer: grant aws-marketplace:Subscribe (and "
        "bedrock:ListFoundationModelAgreementOffers / CreateFoundationModelAgreement) "
        "to the check's role, or accept it once in the Bedrock console"
    )
    try:
        offers = (
            bedrock.list_foundation_model_agreement_offers(
                modelId=model_id, offerType="PUBLIC"
            ).get("offers")
            or []
        )
    except Exception as exc:  # noqa: BLE001
        problems[model_id].append(
            Problem(
                model_id, f"ListFoundationModelAgreementOffers failed ({_error_code(exc)})", remedy
            )
        )
        return False
    token = next((o.get("offerToken") for o in offers if o.get("offerToken")), None)
    if token is None:
        problems[model_id].append(
            Problem(
                model_id,
                "no public marketplace offer found",
                "accept the model's offer in the Bedrock console (it may need a private offer)",
            )
        )
        return False
    try:
        bedrock.create_foundation_model_agreement(modelId=model_id, offerToken=token)
    except Exception as exc:  # noqa: BLE001
        if _error_code(exc) == "ConflictException":  # an agreement is already being made
            return True
        problems[model_id].append(
            Problem(model_id, f"CreateFoundationModelAgreement failed ({_error_code(exc)})", remedy)
        )
        return False
    return True


def _wait_for_pending(
    bedrock: Any,
    current: dict[str, Availability | None],
    created: list[str],
    problems: dict[str, list[Problem]],
    wait_seconds: float,
    poll_seconds: float,
    sleep: Callable[[float], None],
) -> dict[str, Availability | None]:
    waited = 0.0
    while waited < wait_seconds and poll_seconds > 0:
        pending = [
            mid for mid in created if (a := current.get(mid)) is not None and a.agreement == PENDING
        ]
        if not pending:
            break
        sleep(poll_seconds)
        waited += poll_seconds
        for mid in pending:
            current[mid] = _availability(bedrock, mid, problems)
    return current


def _diagnose(
    m: ModelRequest, a: Availability, *, region: str, stage: str, has_form: bool, accept: bool
) -> list[Problem]:
    key = f"stages.{stage}.model_access"
    found: list[Problem] = []
    if a.region != AVAILABLE:
        found.append(
            Problem(
                m.model_id,
                f"regionAvailability {a.region}",
                f"model not available in region {region}: choose another region or a "
                f"cross-region profile in stages.{stage}.models, or fix the catalog entry",
            )
        )
    if a.entitlement != AVAILABLE:
        found.append(
            Problem(
                m.model_id,
                f"entitlementAvailability {a.entitlement}",
                "the account is not entitled to the model: check the AWS Marketplace "
                "subscription, the payment method and any private marketplace or SCP restriction",
            )
        )
    if a.authorization != AUTHORIZED:
        if has_form and m.use_case_form:
            remedy = (
                "the use-case form was submitted but authorization is still missing: "
                "wait a few minutes and redeploy, or check the form in the Bedrock console"
            )
        elif m.use_case_form:
            remedy = (
                f"submit the Anthropic use-case form: set {key}.use_case_form in cdk.json "
                "(or submit it once in the Bedrock console)"
            )
        else:
            remedy = (
                "request access to the model in the Bedrock console; if it is an "
                f"Anthropic model set {key}.use_case_form in cdk.json and mark it "
                "use_case_form in the catalog"
            )
        found.append(Problem(m.model_id, f"authorizationStatus {a.authorization}", remedy))
    if a.agreement not in (AVAILABLE, PENDING):
        detail = f" ({a.agreement_error})" if a.agreement_error else ""
        if not m.marketplace_agreement:
            remedy = (
                "accept the model's offer once in the Bedrock console, or mark the model "
                "marketplace_agreement in the catalog (stacks/catalog/models.yaml) so the "
                "check may accept it"
            )
        elif accept:
            remedy = (
                "accept the marketplace offer: grant aws-marketplace:Subscribe to the "
                "check's role or accept the offer once in the Bedrock console"
            )
        else:
            remedy = (
                "accept the marketplace offer: grant aws-marketplace:Subscribe and set "
                f"{key}.accept_marketplace_agreements to true in cdk.json, or accept "
                "it once in the Bedrock console"
            )
        found.append(Problem(m.model_id, f"agreementAvailability {a.agreement}{detail}", remedy))
    return found


def _error_code(exc: BaseException) -> str:
    response = getattr(exc, "response", None)
    if isinstance(response, dict):
        code = (response.get("Error") or {}).get("Code")
        if code:
            return str(code)
    return type(exc).__name__


__all__ = [
    "Availability",
    "CheckResult",
    "ModelAccessError",
    "ModelRequest",
    "Problem",
    "check_model_access",
    "default_client",
]
