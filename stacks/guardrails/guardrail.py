"""The stage's guardrail and its pinned version."""

from __future__ import annotations

import hashlib
import json

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
    ) -> None:
        super().__init__(scope, construct_id)
        self.key_arn = key.key_arn if key is not None else None
        self.guardrail = bedrock.CfnGuardrail(
            self,
            "Guardrail",
            name=resource_name(kit, stage, max_length=NAME_MAX),
            description=f"bedrock-cdk-kit guardrail for stage {stage}",
            blocked_input_messaging=config.blocked_input_message,
            blocked_outputs_messaging=config.blocked_output_message,
            content_policy_config=self._content_policy(config),
            sensitive_information_policy_config=self._pii_policy(config),
            # The stack's customer-managed key (``encryption``), else an AWS-owned key.
            kms_key_arn=self.key_arn,
        )
        # The digest covers the guardrail as deployed (its rendered properties), not the config:
        # a change in how the kit renders a config must publish a new version too.
        rendered = Stack.of(self).resolve(self.guardrail._cfn_properties)
        config_digest = hashlib.sha256(
            json.dumps(rendered, sort_keys=True, default=str).encode()
        ).hexdigest()[:16]
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
        )

    @staticmethod
    def _content_policy(
        config: GuardrailConfig,
    ) -> bedrock.CfnGuardrail.ContentPolicyConfigProperty:
        filters = config.content_filters
        items = [
            bedrock.CfnGuardrail.ContentFilterConfigProperty(
                type=cfn_type,
                input_strength=getattr(filters, key).input,
                output_strength=getattr(filters, key).output,
            )
            for key, cfn_type in _FILTER_TYPES.items()
        ]
        items.append(
            bedrock.CfnGuardrail.ContentFilterConfigProperty(
                type="PROMPT_ATTACK",
                input_strength=filters.prompt_attack.input,
                output_strength="NONE",  # Bedrock evaluates prompt attacks on input only
            )
        )
        return bedrock.CfnGuardrail.ContentPolicyConfigProperty(filters_config=items)

    @staticmethod
    def _pii_policy(
        config: GuardrailConfig,
    ) -> bedrock.CfnGuardrail.SensitiveInformationPolicyConfigProperty | None:
        if not config.pii_entities:
            return None
        return bedrock.CfnGuardrail.SensitiveInformationPolicyConfigProperty(
            pii_entities_config=[
                bedrock.CfnGuardrail.PiiEntityConfigProperty(type=e.type, action=e.action)
                for e in config.pii_entities
            ]
        )
