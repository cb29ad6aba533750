"""The stage's guardrails: named, one default, every policy type of AWS::Bedrock::Guardrail.

Shapes, enums and limits are the service's own: CloudFormation's property classes of
``aws_cdk.aws_bedrock.CfnGuardrail`` (aws-cdk-lib 2.275.0) and botocore's ``bedrock``
2023-04-20 ``CreateGuardrail`` input shapes (botocore 1.44.5), both checked 2026-12-01. The
automated reasoning policy (``AutomatedReasoningPolicyConfig``) is not offered yet.

Optional per-direction fields (``input_action``, ``input_enabled``, modalities) are rendered
only when set, so a guardrail written before they existed renders (and versions) as before.
"""

from __future__ import annotations

import re
from typing import Annotated, Literal

from pydantic import Field

from stacks.config.base import Strict, show

Threshold = Literal["NONE", "LOW", "MEDIUM", "HIGH"]  # GuardrailFilterStrength
FilterAction = Literal[
    "BLOCK", "NONE"
]  # GuardrailContentFilterAction, ...TopicAction, ...WordAction
PiiAction = Literal["BLOCK", "ANONYMIZE", "NONE"]  # GuardrailSensitiveInformationAction
Modality = Literal["TEXT", "IMAGE"]  # GuardrailModality
Tier = Literal["CLASSIC", "STANDARD"]  # GuardrailContentFiltersTierName, ...TopicsTierName
# GuardrailPiiEntityType (botocore bedrock 2023-04-20, checked 2026-12-01).
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

# The guardrail's config name goes into its physical name (``<kit>-<stage>-<name>``, at most 50
# characters: GuardrailName ``[0-9a-zA-Z-_]{1,50}``) and its logical id; the knowledge bases'
# rule (lowercase, no doubled or trailing hyphen, 20 characters) keeps both readable.
GUARDRAIL_NAME = r"^[a-z](-?[a-z0-9])*$"
GUARDRAIL_NAME_MAX = 20
MAX_GUARDRAILS = 10  # the kit's cap per stage (each is one more resource and version)
# Service limits (botocore bedrock 2023-04-20 shapes, checked 2026-12-01).
MAX_TOPICS = 30  # GuardrailTopicsConfig max
MAX_TOPIC_EXAMPLES = 5  # GuardrailTopicExamples max
MAX_WORDS = 10_000  # GuardrailWordsConfig max
MAX_REGEXES = 30  # GuardrailRegexesConfig max
TOPIC_NAME = r"^[0-9a-zA-Z-_ !?.]+$"  # GuardrailTopicName pattern, 1-100 characters
# GuardrailCrossRegionGuardrailProfileIdentifier: a profile id or ARN, 15-2048 characters.
PROFILE_ID = r"[a-z0-9-]+[.]{1}guardrail[.]{1}v[0-9:]+"
PROFILE = (
    rf"^({PROFILE_ID}|arn:aws(-[^:]+)?:bedrock:[a-z0-9-]{{1,20}}:[0-9]{{12}}:"
    rf"guardrail-profile/{PROFILE_ID})$"
)
# Contextual grounding thresholds: botocore says only ``min: 0``; 0.99 is the highest value the
# Bedrock user guide and the CDK's Guardrail construct document ("0 blocks nothing, 0.99 blocks
# almost everything": docs.aws.amazon.com/cdk/api/v2/docs/@aws-cdk_aws-bedrock-alpha.
# ContextualGroundingFilter.html, checked 2026-12-01).
THRESHOLD_MAX = 0.99
# A custom regex is matched by Bedrock on every call: one that backtracks catastrophically is a
# latency (and cost) trap. The check times a match against adversarial input (regex_problems).
REGEX_PROBE_LENGTH = 10_000
REGEX_BUDGET_SECONDS = 0.5

_DEFAULT_BLOCKED_INPUT = "Sorry, this request was blocked by the content policy."
_DEFAULT_BLOCKED_OUTPUT = "Sorry, the answer was blocked by the content policy."


class Directional(Strict):
    """Per-direction action and switch (``inputAction``/``inputEnabled``...): unset renders
    nothing, which the service reads as BLOCK (or the entity's action) and enabled."""

    input_action: FilterAction | None = None
    output_action: FilterAction | None = None
    input_enabled: bool | None = None
    output_enabled: bool | None = None


class FilterStrength(Directional):
    input: Threshold = "HIGH"
    output: Threshold = "HIGH"
    # GuardrailModalities: 1-2 of TEXT, IMAGE; unset: TEXT only.
    input_modalities: tuple[Modality, ...] | None = Field(default=None, min_length=1, max_length=2)
    output_modalities: tuple[Modality, ...] | None = Field(default=None, min_length=1, max_length=2)


class PromptAttackFilter(Strict):
    # Bedrock evaluates prompt attacks on input only; output must be NONE.
    input: Threshold = "HIGH"
    input_action: FilterAction | None = None
    input_enabled: bool | None = None
    input_modalities: tuple[Modality, ...] | None = Field(default=None, min_length=1, max_length=2)


class ContentFilters(Strict):
    hate: FilterStrength = FilterStrength()
    insults: FilterStrength = FilterStrength()
    sexual: FilterStrength = FilterStrength()
    violence: FilterStrength = FilterStrength()
    misconduct: FilterStrength = FilterStrength()
    prompt_attack: PromptAttackFilter = PromptAttackFilter()
    tier: Tier | None = None
    """CLASSIC or STANDARD (STANDARD needs ``cross_region_profile``); unset: CLASSIC."""


class DeniedTopic(Directional):
    name: str = Field(min_length=1, max_length=100, pattern=TOPIC_NAME)
    definition: str = Field(min_length=1, max_length=200)  # GuardrailTopicDefinition
    examples: tuple[Annotated[str, Field(min_length=1, max_length=100)], ...] = Field(
        default=(), max_length=MAX_TOPIC_EXAMPLES
    )


class DeniedTopics(Strict):
    topics: tuple[DeniedTopic, ...] = Field(default=(), max_length=MAX_TOPICS)
    tier: Tier | None = None
    """CLASSIC or STANDARD (STANDARD needs ``cross_region_profile``); unset: CLASSIC."""


class Word(Directional):
    text: str = Field(min_length=1, max_length=100)  # GuardrailWordConfigTextString


class WordFilters(Strict):
    words: tuple[Word, ...] = Field(default=(), max_length=MAX_WORDS)
    profanity: bool = False
    """The managed PROFANITY list."""
    profanity_actions: Directional = Directional()


class PiiEntity(Strict):
    type: PiiType
    action: PiiAction = "ANONYMIZE"
    input_action: PiiAction | None = None
    output_action: PiiAction | None = None
    input_enabled: bool | None = None
    output_enabled: bool | None = None


class RegexFilter(Strict):
    name: str = Field(min_length=1, max_length=100)  # GuardrailRegexConfigNameString
    pattern: str = Field(min_length=1, max_length=500)  # GuardrailRegexConfigPatternString
    description: str | None = Field(default=None, min_length=1, max_length=1000)
    action: PiiAction = "ANONYMIZE"
    input_action: PiiAction | None = None
    output_action: PiiAction | None = None
    input_enabled: bool | None = None
    output_enabled: bool | None = None


class GroundingFilter(Strict):
    threshold: float = Field(ge=0, le=THRESHOLD_MAX)
    action: FilterAction | None = None
    enabled: bool | None = None


class ContextualGrounding(Strict):
    grounding: GroundingFilter | None = None
    relevance: GroundingFilter | None = None


class GuardrailConfig(Strict):
    """One named guardrail of the stage."""

    name: str = Field(default="default", max_length=GUARDRAIL_NAME_MAX, pattern=GUARDRAIL_NAME)
    default: bool = False
    """The guardrail the stage's calls carry (exactly one, or the only one)."""
    content_filters: ContentFilters = ContentFilters()
    denied_topics: DeniedTopics = DeniedTopics()
    word_filters: WordFilters = WordFilters()
    pii_entities: tuple[PiiEntity, ...] = (
        PiiEntity(type="EMAIL"),
        PiiEntity(type="PHONE"),
        PiiEntity(type="US_SOCIAL_SECURITY_NUMBER", action="BLOCK"),
        PiiEntity(type="CREDIT_DEBIT_CARD_NUMBER", action="BLOCK"),
    )
    regexes: tuple[RegexFilter, ...] = Field(default=(), max_length=MAX_REGEXES)
    contextual_grounding: ContextualGrounding = ContextualGrounding()
    cross_region_profile: str | None = Field(default=None, max_length=2048, pattern=PROFILE)
    """A system-defined guardrail profile, id (``us.guardrail.v1:0``) or ARN."""
    # 1-500 characters: GuardrailBlockedMessaging.
    blocked_input_message: str = Field(default=_DEFAULT_BLOCKED_INPUT, min_length=1, max_length=500)
    blocked_output_message: str = Field(
        default=_DEFAULT_BLOCKED_OUTPUT, min_length=1, max_length=500
    )


Guardrails = Annotated[tuple[GuardrailConfig, ...], Field(min_length=1, max_length=MAX_GUARDRAILS)]
DEFAULT_GUARDRAILS: tuple[GuardrailConfig, ...] = (GuardrailConfig(default=True),)

MIGRATION = (
    "the single `guardrail` key was replaced by the list `guardrails`; move it as "
    '`"guardrails": [{"name": "default", "default": true, ...}]` (same keys inside)'
)


def default_guardrail(guardrails: tuple[GuardrailConfig, ...]) -> GuardrailConfig:
    """The guardrail the stage's calls carry: the one marked default, else the only one."""
    marked = [g for g in guardrails if g.default]
    return marked[0] if marked else guardrails[0]


def guardrails_problems(
    prefix: str, guardrails: tuple[GuardrailConfig, ...], *, region: str
) -> list[str]:
    """Checks pydantic cannot express on one field."""
    problems: list[str] = []
    key = f"{prefix}.guardrails"
    marked = [g.name for g in guardrails if g.default]
    if len(guardrails) > 1 and len(marked) != 1:
        problems.append(
            f"{key}: {len(marked)} guardrails are marked default ({show(marked)}); allowed: "
            "exactly one `default: true` when the stage has several"
        )
    problems += _unique(key, [g.name for g in guardrails], "name", "in a stage")
    for i, guardrail in enumerate(guardrails):
        problems += guardrail_problems(f"{key}[{i}]", guardrail, region=region)
    return problems


def guardrail_problems(key: str, guardrail: GuardrailConfig, *, region: str) -> list[str]:
    problems: list[str] = []
    problems += _unique(
        f"{key}.pii_entities", [e.type for e in guardrail.pii_entities], "type", "in a guardrail"
    )
    topics = guardrail.denied_topics.topics
    problems += _unique(
        f"{key}.denied_topics.topics", [t.name.lower() for t in topics], "name", "in a guardrail"
    )
    problems += _unique(
        f"{key}.regexes", [r.name for r in guardrail.regexes], "name", "in a guardrail"
    )
    words = guardrail.word_filters.words
    problems += _unique(
        f"{key}.word_filters.words", [w.text.lower() for w in words], "text", "in a guardrail"
    )
    for i, regex in enumerate(guardrail.regexes):
        problems += regex_problems(f"{key}.regexes[{i}].pattern", regex.pattern)
    for j, topic in enumerate(topics):
        problems += _blank(f"{key}.denied_topics.topics[{j}].definition", topic.definition)
    for block in ("content_filters", "denied_topics"):
        tier = getattr(guardrail, block).tier
        if tier == "STANDARD" and guardrail.cross_region_profile is None:
            problems.append(
                f"{key}.{block}.tier: 'STANDARD' needs a cross-Region guardrail profile; set "
                f"{key}.cross_region_profile (e.g. 'us.guardrail.v1:0') or use 'CLASSIC'"
            )
    problems += _profile_problems(key, guardrail.cross_region_profile, region)
    problems += _modality_problems(key, guardrail)
    return problems


# Guardrail profiles by geography prefix and the source Regions that may call them, from
# docs.aws.amazon.com/bedrock/latest/userguide/guardrails-cross-region-support.html (checked
# 2026-12-01): us and us-gov read in full; eu's list was cut short in the copy read, and other
# geographies (apac, ...) were not read: their Regions are UNVERIFIED, so a profile of theirs
# is only checked against the Region's own prefix.
PROFILE_SOURCE_REGIONS: dict[str, frozenset[str]] = {
    "us": frozenset({"us-east-1", "us-east-2", "us-west-1", "us-west-2"}),
    "us-gov": frozenset({"us-gov-east-1", "us-gov-west-1"}),
}
# UNVERIFIED beyond the Regions listed above: a profile's geography must match the stage
# Region's (eu.* from eu-*, apac.* from ap-*).
_GEOGRAPHY_OF_REGION = {"eu": "eu", "ap": "apac", "ca": "ca", "sa": "sa", "me": "me", "af": "af"}


def profile_geography(region: str) -> str | None:
    """The guardrail-profile geography a Region calls (``us`` for us-east-1), if known."""
    for geography, regions in PROFILE_SOURCE_REGIONS.items():
        if region in regions:
            return geography
    return _GEOGRAPHY_OF_REGION.get(region.split("-", 1)[0])


def _profile_problems(key: str, profile: str | None, region: str) -> list[str]:
    if profile is None:
        return []
    identifier = profile.rsplit("/", 1)[-1]
    geography = identifier.split(".guardrail.", 1)[0]
    arn_region = profile.split(":")[3] if profile.startswith("arn:") else region
    if arn_region != region:
        return [
            f"{key}.cross_region_profile: {show(profile)} is in {arn_region}; allowed: the "
            f"stage's Region {region} (a guardrail calls a profile from its own Region)"
        ]
    known = PROFILE_SOURCE_REGIONS.get(geography)
    ok = region in known if known is not None else profile_geography(region) == geography
    if not ok:
        return [
            f"{key}.cross_region_profile: {show(profile)} cannot be called from {region}; "
            f"allowed: a profile whose source Regions include {region} (see the Bedrock user "
            "guide, guardrails-cross-region-support)"
        ]
    return []


def _modality_problems(key: str, guardrail: GuardrailConfig) -> list[str]:
    problems: list[str] = []
    filters = guardrail.content_filters
    for name in ("hate", "insults", "sexual", "violence", "misconduct", "prompt_attack"):
        f = getattr(filters, name)
        for direction in ("input_modalities", "output_modalities"):
            values = getattr(f, direction, None)
            if values is not None and len(set(values)) != len(values):
                problems.append(
                    f"{key}.content_filters.{name}.{direction}: {show(list(values))} lists a "
                    "modality twice; allowed: TEXT, IMAGE, each at most once"
                )
    return problems


def regex_problems(key: str, pattern: str) -> list[str]:
    """A pattern must compile, and must not backtrack catastrophically on long input.

    Static detection of nested quantifiers misses overlapping alternations (``(a|a)*``) and
    flags harmless ones, so the check runs the pattern: a search against adversarial strings
    (each letter or digit the pattern names and a few separators, repeated to
    ``REGEX_PROBE_LENGTH`` characters and followed by characters that force a failed match) in
    a child interpreter, failing past ``REGEX_BUDGET_SECONDS``. Python's ``re`` is a
    backtracking engine like most; Bedrock's engine is not documented, so a pattern slow here
    is treated as slow there.
    """
    try:
        re.compile(pattern)
    except re.error as exc:
        return [
            f"{key}: {show(pattern)} does not compile ({exc}); allowed: a valid regular expression"
        ]
    if _slow(pattern):
        return [
            f"{key}: {show(pattern)} takes longer than {REGEX_BUDGET_SECONDS}s on a "
            f"{REGEX_PROBE_LENGTH}-character input (catastrophic backtracking, e.g. nested "
            "quantifiers like (a+)+); allowed: a pattern without nested or overlapping "
            "repetition"
        ]
    return []


def _probes(pattern: str) -> list[str]:
    seeds = set(re.findall(r"[0-9A-Za-z]", pattern)) | {"a", "0", " ", "-", "."}
    return [seed * REGEX_PROBE_LENGTH + "\x00!" for seed in sorted(seeds)]


# Runs in a fresh interpreter that imports only ``re`` (nothing of the app, so nothing of a
# synth is re-run): pattern and probes on stdin, exit 3 past the budget.
_TIMER = """
import json, re, sys, time
pattern, probes, budget = json.load(sys.stdin)
compiled = re.compile(pattern)
start = time.perf_counter()
for probe in probes:
    compiled.search(probe)
    if time.perf_counter() - start > budget:
        sys.exit(3)
"""


def _slow(pattern: str) -> bool:
    import json
    import subprocess
    import sys

    payload = json.dumps([pattern, _probes(pattern), REGEX_BUDGET_SECONDS])
    try:
        # The child times its own searches, so a slow interpreter start does not count; a
        # search that never returns is cut at the hard cap.
        done = subprocess.run(
            [sys.executable, "-I", "-c", _TIMER],
            input=payload,
            text=True,
            capture_output=True,
            timeout=REGEX_BUDGET_SECONDS + 3.0,
            check=False,
        )
    except subprocess.TimeoutExpired:
        return True
    if done.returncode not in (0, 3):
        raise RuntimeError(f"the regex timer failed: {done.stderr.strip()[-500:]}")
    return done.returncode == 3


def _unique(key: str, values: list[str], field: str, scope: str) -> list[str]:
    seen: set[str] = set()
    problems = []
    for i, value in enumerate(values):
        if value in seen:
            problems.append(
                f"{key}[{i}].{field}: {value!r} is listed twice; {field}s are unique {scope}"
            )
        seen.add(value)
    return problems


def _blank(key: str, text: str) -> list[str]:
    return (
        [f"{key}: {show(text)} is blank; allowed: 1-200 characters of text"]
        if not text.strip()
        else []
    )


def guardrail_output_suffix(name: str) -> str:
    """The Guardrails stack's output-key suffix of guardrail ``name`` (``pii-strict`` ->
    ``Piistrict``): ``GuardrailId<suffix>`` / ``GuardrailVersion<suffix>``."""
    cleaned = re.sub(r"[^A-Za-z0-9]", "", name)
    return cleaned[:1].upper() + cleaned[1:]
