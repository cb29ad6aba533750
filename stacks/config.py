"""The kit's one configuration loader.

Reads the ``stages`` block of the ``cdk.json`` context, the ``-c stage=<name>`` choice and the
CDK CLI's ``CDK_DEFAULT_ACCOUNT`` / ``CDK_DEFAULT_REGION``. Nothing else in the kit reads
context or environment variables. Every problem is reported as a ``ConfigError`` naming the
key path, the value and what is allowed, all problems at once.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any, Literal, get_args, get_origin

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from stacks.catalog import PROFILE_PREFIXES, Catalog, ProfilePrefix, load_catalog

DEFAULT_STAGE = "dev"
STAGE_NAME = r"^[a-z][a-z0-9-]{0,19}$"
# CloudWatch Logs only accepts these retention periods.
LOG_RETENTION_DAYS = (
    1,
    3,
    5,
    7,
    14,
    30,
    60,
    90,
    120,
    150,
    180,
    365,
    400,
    545,
    731,
    1096,
    1827,
    2192,
    2557,
    2922,
    3288,
    3653,
)

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
TagValue = Annotated[str, Field(min_length=1, max_length=256, pattern=r"^[\w\s.:/=+\-@]*$")]


class ConfigError(Exception):
    """Raised for any invalid configuration; ``str()`` is the message shown to the user."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        lines = "\n".join(f"  - {p}" for p in problems)
        super().__init__(f"Invalid configuration ({len(problems)} problem(s)):\n{lines}")


class _Strict(BaseModel):
    # extra="forbid": a typo in cdk.json must fail synth, not be silently ignored.
    model_config = ConfigDict(extra="forbid", frozen=True)


class Tags(_Strict):
    """Cost-allocation tags put on every resource of the stage."""

    team: TagValue
    cost_center: TagValue
    extra: dict[str, TagValue] = {}


class ModelRef(_Strict):
    """One enabled model and how it is reached from the stage's region."""

    id: str
    profile: ProfilePrefix | None = None
    """Cross-region profile prefix; ``null`` invokes the model in the stage's region."""


class Tiers(_Strict):
    """Request tiers mapped to enabled chat models."""

    fast: str
    balanced: str
    deep: str


class UseCaseForm(_Strict):
    """Anthropic's one-time first-use form (PutUseCaseForModelAccess)."""

    company_name: str = Field(min_length=1, max_length=200)
    company_website: str = Field(pattern=r"^https://\S+$")
    intended_users: Literal["0", "1", "2"] = "0"
    """0: internal employees, 1: external users, 2: both (Bedrock's own codes)."""
    industry_option: str = Field(min_length=1, max_length=100)
    other_industry_option: str = ""
    use_cases: str = Field(min_length=1, max_length=2000)


class ModelAccess(_Strict):
    """The deploy-time model access check."""

    enabled: bool = True
    accept_marketplace_agreements: bool = True
    use_case_form: UseCaseForm | None = None


class FilterStrength(_Strict):
    input: Threshold = "HIGH"
    output: Threshold = "HIGH"


class PromptAttackFilter(_Strict):
    # Bedrock evaluates prompt attacks on input only; output must be NONE.
    input: Threshold = "HIGH"


class ContentFilters(_Strict):
    hate: FilterStrength = FilterStrength()
    insults: FilterStrength = FilterStrength()
    sexual: FilterStrength = FilterStrength()
    violence: FilterStrength = FilterStrength()
    misconduct: FilterStrength = FilterStrength()
    prompt_attack: PromptAttackFilter = PromptAttackFilter()


class PiiEntity(_Strict):
    type: PiiType
    action: PiiAction = "ANONYMIZE"


class GuardrailConfig(_Strict):
    """The stage's guardrail (base policies; later issues add the rest)."""

    content_filters: ContentFilters = ContentFilters()
    pii_entities: tuple[PiiEntity, ...] = (
        PiiEntity(type="EMAIL"),
        PiiEntity(type="PHONE"),
        PiiEntity(type="US_SOCIAL_SECURITY_NUMBER", action="BLOCK"),
        PiiEntity(type="CREDIT_DEBIT_CARD_NUMBER", action="BLOCK"),
    )
    blocked_input_message: str = Field(
        default="Sorry, this request was blocked by the content policy.",
        min_length=1,
        max_length=500,
    )
    blocked_output_message: str = Field(
        default="Sorry, the answer was blocked by the content policy.", min_length=1, max_length=500
    )


class ApiConfig(_Strict):
    """The chat REST API."""

    auth: Literal["iam"] = "iam"
    endpoint: Literal["regional"] = "regional"
    throttle_rate_limit: float = Field(default=20, ge=1, le=10000)
    throttle_burst_limit: int = Field(default=40, ge=1, le=5000)
    default_max_tokens: int = Field(default=1024, ge=1, le=64000)
    max_tokens_limit: int = Field(default=4096, ge=1, le=64000)


class RuntimeConfig(_Strict):
    """The Lambda functions and their logs."""

    memory_mb: int = Field(default=512, ge=128, le=10240)
    timeout_seconds: int = Field(default=29, ge=3, le=900)
    log_retention_days: int = 30
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    log_prompts: bool = False
    """Opt-in: log prompts and completions (off by default; they may hold personal data)."""
    max_attempts: int = Field(default=4, ge=1, le=10)
    """Bedrock call attempts (adaptive retry with backoff) before answering 429."""
    reserved_concurrency: int | None = Field(default=None, ge=1, le=1000)


class StageConfig(_Strict):
    """Everything one deployment stage needs."""

    name: str = Field(pattern=STAGE_NAME)
    account: str | None = Field(default=None, pattern=r"^\d{12}$")
    region: str | None = Field(default=None, pattern=r"^[a-z]{2}(-gov)?-[a-z]+-\d$")
    tags: Tags
    models: tuple[ModelRef, ...] = Field(min_length=1)
    tiers: Tiers
    default_tier: Literal["fast", "balanced", "deep"] = "balanced"
    model_access: ModelAccess = ModelAccess()
    guardrail: GuardrailConfig = GuardrailConfig()
    api: ApiConfig = ApiConfig()
    runtime: RuntimeConfig = RuntimeConfig()

    @property
    def resolved_region(self) -> str:
        assert self.region is not None  # the loader fills it or fails
        return self.region

    def chat_models(self, catalog: Catalog) -> list[ModelRef]:
        return [m for m in self.models if catalog.models[m.id].kind == "chat"]


# --------------------------------------------------------------------------- loading


def load_stage_config(
    context: Mapping[str, Any],
    env: Mapping[str, str],
    catalog: Catalog | None = None,
) -> StageConfig:
    """Validate the chosen stage of ``context`` and resolve its account and region.

    Parameters
    ----------
    context:
        The CDK context: ``stages`` (name -> stage config) and ``stage`` (the chosen name).
    env:
        Environment variables; only ``CDK_DEFAULT_ACCOUNT`` and ``CDK_DEFAULT_REGION`` are read.
    catalog:
        The model catalog (default: the shipped one).
    """
    catalog = catalog or load_catalog()
    stages = context.get("stages")
    if not isinstance(stages, Mapping) or not stages:
        raise ConfigError(
            [
                "stages: missing from cdk.json context; expected an object of "
                "stage name -> stage config"
            ]
        )
    name = context.get("stage") or DEFAULT_STAGE
    if name not in stages:
        raise ConfigError([f"stage: {name!r} is not defined; allowed: {', '.join(sorted(stages))}"])
    raw = stages[name]
    if not isinstance(raw, Mapping):
        raise ConfigError([f"stages.{name}: expected an object, got {type(raw).__name__}"])
    data = dict(raw)
    if data.get("name", name) != name:
        raise ConfigError([f"stages.{name}.name: {data['name']!r} must equal the stage key"])
    data["name"] = name
    data.setdefault("account", env.get("CDK_DEFAULT_ACCOUNT") or None)
    data.setdefault("region", env.get("CDK_DEFAULT_REGION") or None)
    prefix = f"stages.{name}"
    try:
        stage = StageConfig.model_validate(data)
    except ValidationError as exc:
        raise ConfigError([_describe(prefix, StageConfig, e) for e in exc.errors()]) from None
    problems = _semantic_problems(prefix, stage, catalog)
    if problems:
        raise ConfigError(problems)
    return stage


def _semantic_problems(prefix: str, stage: StageConfig, catalog: Catalog) -> list[str]:
    """Checks that need the catalog: model ids, regions, profiles, tiers, limits."""
    problems: list[str] = []
    if stage.region is None:
        return [
            f"{prefix}.region: not set and CDK_DEFAULT_REGION is empty; set a region "
            "such as 'us-east-1'"
        ]
    region = stage.region
    seen: set[str] = set()
    for i, ref in enumerate(stage.models):
        key = f"{prefix}.models[{i}]"
        spec = catalog.get(ref.id)
        if spec is None:
            problems.append(
                f"{key}.id: {ref.id!r} is not in the model catalog; allowed: "
                f"{', '.join(catalog.ids())} (add an entry to "
                "stacks/catalog/models.yaml for a new model)"
            )
            continue
        if ref.id in seen:
            problems.append(f"{key}.id: {ref.id!r} is listed twice")
        seen.add(ref.id)
        options = spec.invoke_options(region)
        wanted = ref.profile or "in-region"
        if not options:
            problems.append(
                f"{key}.id: {ref.id!r} is not offered in region {region!r} "
                "(neither in-region nor through a cross-region profile)"
            )
        elif wanted not in options:
            what = (
                "is not offered on demand in-region"
                if ref.profile is None
                else f"profile {ref.profile!r} does not serve source region"
            )
            problems.append(
                f"{key}.profile: {ref.profile!r} for {ref.id!r}: {what} "
                f"{region!r}; allowed: {_options(options)}"
            )
    for tier in ("fast", "balanced", "deep"):
        model_id = getattr(stage.tiers, tier)
        spec = catalog.get(model_id)
        if model_id not in seen:
            problems.append(
                f"{prefix}.tiers.{tier}: {model_id!r} is not an enabled model; "
                f"allowed: {', '.join(sorted(seen)) or '(none enabled)'}"
            )
        elif spec is not None and (spec.kind != "chat" or not spec.converse):
            problems.append(
                f"{prefix}.tiers.{tier}: {model_id!r} is a {spec.kind} model "
                "without Converse support; tiers need chat models"
            )
    api = stage.api
    if api.default_max_tokens > api.max_tokens_limit:
        problems.append(
            f"{prefix}.api.default_max_tokens: {api.default_max_tokens} exceeds "
            f"api.max_tokens_limit ({api.max_tokens_limit}); allowed: <= "
            f"{api.max_tokens_limit}"
        )
    if api.throttle_burst_limit < api.throttle_rate_limit:
        problems.append(
            f"{prefix}.api.throttle_burst_limit: {api.throttle_burst_limit} is "
            f"below throttle_rate_limit ({api.throttle_rate_limit}); allowed: >= "
            "the rate limit"
        )
    if stage.runtime.log_retention_days not in LOG_RETENTION_DAYS:
        problems.append(
            f"{prefix}.runtime.log_retention_days: "
            f"{stage.runtime.log_retention_days} is not a CloudWatch retention; "
            f"allowed: {', '.join(map(str, LOG_RETENTION_DAYS))}"
        )
    return problems


def _options(options: list[str]) -> str:
    return ", ".join("null (in-region)" if o == "in-region" else repr(o) for o in options)


# --------------------------------------------------------------------------- messages


def _describe(prefix: str, root: type[BaseModel], err: Any) -> str:
    loc = err["loc"]
    path = prefix + "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in loc)
    value = err.get("input")
    if err["type"] == "extra_forbidden":
        allowed = _allowed_keys(root, loc[:-1])
        return f"{path}: unknown key; allowed keys here: {', '.join(allowed)}"
    if err["type"] == "missing":
        return f"{path}: required key is missing"
    msg = err["msg"]
    pattern = (err.get("ctx") or {}).get("pattern")
    if pattern:
        msg = f"must match {pattern}"
    return f"{path}: {value!r} is not allowed: {msg}"


def _allowed_keys(root: type[BaseModel], loc: tuple[Any, ...]) -> list[str]:
    model: Any = root
    for part in loc:
        if isinstance(part, int) or model is None:
            continue
        field = getattr(model, "model_fields", {}).get(part)
        model = _model_in(field.annotation) if field is not None else None
    fields = getattr(model, "model_fields", {})
    return sorted(fields) if fields else ["(none)"]


def _model_in(annotation: Any) -> Any:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in get_args(annotation) if get_origin(annotation) else ():
        found = _model_in(arg)
        if found is not None:
            return found
    return None


__all__ = ["DEFAULT_STAGE", "PROFILE_PREFIXES", "ConfigError", "StageConfig", "load_stage_config"]
