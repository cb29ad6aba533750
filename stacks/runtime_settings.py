"""What the chat runtime needs to know about its stage, passed as one JSON variable.

The runtime validates the same document with ``kit_runtime.settings.Settings``; a test
checks the two agree on every shipped stage.
"""

from __future__ import annotations

from typing import Any

from stacks.catalog import Catalog
from stacks.config import StageConfig
from stacks.constructs.guardrail import StageGuardrail
from stacks.constructs.inference_profiles import ApplicationProfiles


def runtime_settings(
    *,
    config: StageConfig,
    catalog: Catalog,
    profiles: ApplicationProfiles,
    guardrail: StageGuardrail,
) -> dict[str, Any]:
    """The ``KIT_SETTINGS`` document (may hold CloudFormation tokens for ARNs)."""
    models: dict[str, Any] = {}
    for ref in config.chat_models(catalog):
        spec = catalog.models[ref.id]
        prices = spec.prices_for(ref.profile)
        models[ref.id] = {
            "invoke_arn": profiles.arn(ref.id),
            "input_per_mtok": prices.input_per_mtok,
            "output_per_mtok": prices.output_per_mtok,
            "max_output_tokens": spec.max_output_tokens,
            "streaming": spec.streaming,
        }
    return {
        "stage": config.name,
        "models": models,
        "tiers": config.tiers.model_dump(),
        "default_tier": config.default_tier,
        "default_max_tokens": config.api.default_max_tokens,
        "max_tokens_limit": config.api.max_tokens_limit,
        "guardrail_arn": guardrail.guardrail_arn,
        "guardrail_version": guardrail.version_number,
        "log_prompts": config.runtime.log_prompts,
        "max_attempts": config.runtime.max_attempts,
    }
