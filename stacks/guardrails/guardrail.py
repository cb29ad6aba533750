"""The stage's guardrail and its pinned version."""

from __future__ import annotations

import hashlib
import json
import re

from aws_cdk import CfnDeletionPolicy, Fn, Stack
from aws_cdk import aws_bedrock as bedrock
from aws_cdk import aws_kms as kms
from constructs import Construct

from stacks.config.guardrails import GuardrailConfig
from stacks.core.naming import digest, resource_name
from stacks.core.references import GuardrailHandle
from stacks.core.settings import GUARDRAIL_ARN_MAX, GUARDRAIL_VERSION_MAX, bounded

# Guardrail Name: [0-9a-zA-Z-_]{1,50} (AWS::Bedrock::Guardrail; checked 2026-11-30).
NAME_MAX = 50

_FILTER_TYPES = {
    "hate": "HATE",
    "insults": "INSULTS",
    "sexual": "SEXUAL",
    "violence": "VIOLENCE",
    "misconduct": "MISCONDUCT",
}


class StageGuardrail(Construct):
    """A guardrail built from config and one immutable version the runtime and IAM pin.

    The version's description carries a digest of the guardrail's rendered properties, so any
    change to them replaces the version resource and CloudFormation publishes a new numbered
    version; the IAM condition and the runtime follow it in the same deployment. Superseded
    versions are retained (never deleted by CloudFormation); the README says how to delete
    them.

    ``key`` (the stack's customer-managed key, ``encryption``) encrypts the guardrail; every
    principal that invokes through it then needs ``kms:Decrypt`` on that key (``key_arn``).

    Attributes
    ----------
    revision:
        A digest of everything that decides the guardrail's ARN and version; consumers in
        other stacks carry it so they are updated whenever one of them changes.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        kit: str,
        stage: str,
        config: GuardrailConfig,
        key: kms.IKey | None = None,
        default: bool = True,
    ) -> None:
        super().__init__(scope, construct_id)
        grounding = config.contextual_grounding
        # /rag marks passages and question for the check only when a filter is on.
        self.contextual_grounding = any(
            f is not None and f.enabled is not False
            for f in (grounding.grounding, grounding.relevance)
        )
        # The default guardrail keeps the name and logical id the single guardrail had, so a
        # deployed stage keeps its guardrail; the others are named and pinned by config name.
        parts = (stage,) if default else (stage, config.name)
        self.key_arn = key.key_arn if key is not None else None
        self.guardrail = bedrock.CfnGuardrail(
            self,
            "Guardrail",
            name=resource_name(kit, *parts, max_length=NAME_MAX),
            description=f"bedrock-cdk-kit guardrail for stage {stage}"
            + ("" if default else f" ({config.name})"),
            blocked_input_messaging=config.blocked_input_message,
            blocked_outputs_messaging=config.blocked_output_message,
            content_policy_config=_content_policy(config),
            sensitive_information_policy_config=_pii_policy(config),
            topic_policy_config=_topic_policy(config),
            word_policy_config=_word_policy(config),
            contextual_grounding_policy_config=_grounding_policy(config),
            cross_region_config=_cross_region(self, config),
            # The stack's customer-managed key (``encryption``), else an AWS-owned key.
            kms_key_arn=self.key_arn,
        )
        # The digest covers the guardrail as deployed (its rendered properties), not the config:
        # a change in how the kit renders a config must publish a new version too.
        rendered = Stack.of(self).resolve(self.guardrail._cfn_properties)
        config_digest = hashlib.sha256(
            json.dumps(rendered, sort_keys=True, default=str).encode()
        ).hexdigest()[:16]
        if not default:
            self.guardrail.override_logical_id(f"{pinned_key(config.name)}Guardrail")
        self.version = bedrock.CfnGuardrailVersion(
            self,
            "Version",
            guardrail_identifier=self.guardrail.attr_guardrail_id,
            description=f"config {config_digest}",
        )
        # A new config replaces the version resource; the old version stays published.
        self.version.cfn_options.deletion_policy = CfnDeletionPolicy.RETAIN
        self.version.cfn_options.update_replace_policy = CfnDeletionPolicy.RETAIN
        self.revision = digest(self.guardrail.name, config_digest)
        self.guardrail_arn: str = bounded(self.guardrail.attr_guardrail_arn, GUARDRAIL_ARN_MAX)
        self.guardrail_id: str = self.guardrail.attr_guardrail_id
        self.version_number: str = bounded(self.version.attr_version, GUARDRAIL_VERSION_MAX)
        self.version_arn: str = Fn.join(":", [self.guardrail_arn, self.version_number])

    @property
    def handle(self) -> GuardrailHandle:
        """What other capabilities need of the guardrail."""
        return GuardrailHandle(
            arn=self.guardrail_arn,
            version=self.version_number,
            version_arn=self.version_arn,
            revision=self.revision,
            key_arn=self.key_arn,
            contextual_grounding=self.contextual_grounding,
        )


def pinned_key(name: str) -> str:
    """The logical-id stem of a named guardrail (``strict-hr`` -> ``StrictHr``)."""
    return "".join(p[:1].upper() + p[1:] for p in re.split(r"[^0-9a-zA-Z]+", name) if p)


def _set(**values: object) -> dict[str, object]:
    """Only the keys that are set: unset optional fields render nothing (and keep the digest
    of a guardrail written before they existed)."""
    return {k: (list(v) if isinstance(v, tuple) else v) for k, v in values.items() if v is not None}


def _directions(item: object) -> dict[str, object]:
    return _set(
        input_action=getattr(item, "input_action", None),
        output_action=getattr(item, "output_action", None),
        input_enabled=getattr(item, "input_enabled", None),
        output_enabled=getattr(item, "output_enabled", None),
    )


def _content_policy(config: GuardrailConfig) -> bedrock.CfnGuardrail.ContentPolicyConfigProperty:
    filters = config.content_filters
    items = []
    for key, cfn_type in _FILTER_TYPES.items():
        f = getattr(filters, key)
        items.append(
            bedrock.CfnGuardrail.ContentFilterConfigProperty(
                type=cfn_type,
                input_strength=f.input,
                output_strength=f.output,
                **_directions(f),  # type: ignore[arg-type]
                **_set(  # type: ignore[arg-type]
                    input_modalities=f.input_modalities, output_modalities=f.output_modalities
                ),
            )
        )
    attack = filters.prompt_attack
    items.append(
        bedrock.CfnGuardrail.ContentFilterConfigProperty(
            type="PROMPT_ATTACK",
            input_strength=attack.input,
            output_strength="NONE",  # Bedrock evaluates prompt attacks on input only
            **_set(  # type: ignore[arg-type]
                input_action=attack.input_action,
                input_enabled=attack.input_enabled,
                input_modalities=attack.input_modalities,
            ),
        )
    )
    tier = (
        bedrock.CfnGuardrail.ContentFiltersTierConfigProperty(tier_name=filters.tier)
        if filters.tier is not None
        else None
    )
    return bedrock.CfnGuardrail.ContentPolicyConfigProperty(
        filters_config=items, content_filters_tier_config=tier
    )


def _pii_policy(
    config: GuardrailConfig,
) -> bedrock.CfnGuardrail.SensitiveInformationPolicyConfigProperty | None:
    if not config.pii_entities and not config.regexes:
        return None
    entities = [
        bedrock.CfnGuardrail.PiiEntityConfigProperty(
            type=e.type,
            action=e.action,
            **_directions(e),  # type: ignore[arg-type]
        )
        for e in config.pii_entities
    ]
    regexes = [
        bedrock.CfnGuardrail.RegexConfigProperty(
            name=r.name,
            pattern=r.pattern,
            action=r.action,
            **_set(description=r.description),  # type: ignore[arg-type]
            **_directions(r),  # type: ignore[arg-type]
        )
        for r in config.regexes
    ]
    return bedrock.CfnGuardrail.SensitiveInformationPolicyConfigProperty(
        pii_entities_config=entities or None, regexes_config=regexes or None
    )


def _topic_policy(config: GuardrailConfig) -> bedrock.CfnGuardrail.TopicPolicyConfigProperty | None:
    denied = config.denied_topics
    if not denied.topics:
        return None
    tier = (
        bedrock.CfnGuardrail.TopicsTierConfigProperty(tier_name=denied.tier)
        if denied.tier is not None
        else None
    )
    return bedrock.CfnGuardrail.TopicPolicyConfigProperty(
        topics_config=[
            bedrock.CfnGuardrail.TopicConfigProperty(
                name=t.name,
                definition=t.definition,
                type="DENY",
                **_set(examples=t.examples or None),  # type: ignore[arg-type]
                **_directions(t),  # type: ignore[arg-type]
            )
            for t in denied.topics
        ],
        topics_tier_config=tier,
    )


def _word_policy(config: GuardrailConfig) -> bedrock.CfnGuardrail.WordPolicyConfigProperty | None:
    words = config.word_filters
    if not words.words and not words.profanity:
        return None
    managed = (
        [
            bedrock.CfnGuardrail.ManagedWordsConfigProperty(
                type="PROFANITY",
                **_directions(words.profanity_actions),  # type: ignore[arg-type]
            )
        ]
        if words.profanity
        else None
    )
    return bedrock.CfnGuardrail.WordPolicyConfigProperty(
        words_config=[
            bedrock.CfnGuardrail.WordConfigProperty(text=w.text, **_directions(w))  # type: ignore[arg-type]
            for w in words.words
        ]
        or None,
        managed_word_lists_config=managed,
    )


def _grounding_policy(
    config: GuardrailConfig,
) -> bedrock.CfnGuardrail.ContextualGroundingPolicyConfigProperty | None:
    grounding = config.contextual_grounding
    filters = [
        bedrock.CfnGuardrail.ContextualGroundingFilterConfigProperty(
            type=cfn_type,
            threshold=f.threshold,
            **_set(action=f.action, enabled=f.enabled),  # type: ignore[arg-type]
        )
        for cfn_type, f in (("GROUNDING", grounding.grounding), ("RELEVANCE", grounding.relevance))
        if f is not None
    ]
    if not filters:
        return None
    return bedrock.CfnGuardrail.ContextualGroundingPolicyConfigProperty(filters_config=filters)


def _cross_region(
    scope: Construct, config: GuardrailConfig
) -> bedrock.CfnGuardrail.GuardrailCrossRegionConfigProperty | None:
    profile = config.cross_region_profile
    if profile is None:
        return None
    # CloudFormation takes only the ARN (GuardrailProfileArn, whose schema pattern refuses a
    # bare id); the API also takes the id (GuardrailCrossRegionGuardrailProfileIdentifier,
    # botocore bedrock, checked 2026-12-01): an id becomes the ARN in the stack's own Region.
    if not profile.startswith("arn:"):
        stack = Stack.of(scope)
        profile = (
            f"arn:{stack.partition}:bedrock:{stack.region}:{stack.account}:"
            f"guardrail-profile/{profile}"
        )
    return bedrock.CfnGuardrail.GuardrailCrossRegionConfigProperty(guardrail_profile_arn=profile)
