"""Stage configs the tests own, built from the catalog so a fork's catalog changes keep them valid.

No test reads the shipped stages in ``cdk.json`` for facts: those belong to the team that forks
the kit. The shipped stages are only checked generically (they synthesize and pass every gate).
Each builder picks models by what they can do ("an active chat model reachable from the
region"), never by id.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from datetime import date
from typing import Any

from stacks.catalog import Catalog, ModelSpec, load_catalog

TODAY = date.today()
ACCOUNT = "111111111111"


def active(spec: ModelSpec, today: date = TODAY) -> bool:
    """Usable in a new stage: not legacy, not past end of life."""
    return spec.lifecycle_state(today) == "active"


def deployable(spec: ModelSpec, today: date = TODAY) -> bool:
    """Still accepted by synth (active or legacy; legacy only warns)."""
    return spec.lifecycle_state(today) != "end_of_life"


def chat_capable(spec: ModelSpec) -> bool:
    return spec.kind == "chat" and spec.converse


def options(spec: ModelSpec, region: str) -> list[str | None]:
    """How ``spec`` is reachable from ``region``: ``None`` in-region, else profile prefixes."""
    return [None if o == "in-region" else o for o in spec.invoke_options(region)]


def best_region(catalog: Catalog) -> str:
    """The region from which the most active chat models are reachable."""
    counts: Counter[str] = Counter()
    for spec in catalog.models.values():
        if active(spec) and chat_capable(spec):
            regions = set(spec.regions)
            for profile in spec.inference_profiles.values():
                regions.update(profile.sources)
            counts.update(regions)
    return sorted(counts, key=lambda r: (-counts[r], r))[0]


def _ref(spec: ModelSpec, profile: str | None) -> dict[str, Any]:
    return {"id": spec.id, "profile": profile}


def pick_models(
    catalog: Catalog,
    region: str,
    count: int,
    kind: str = "chat",
    where: Callable[[ModelSpec], bool] = lambda spec: True,
) -> list[dict[str, Any]]:
    """Up to ``count`` active models of ``kind`` reachable from ``region``, mixing in-region
    and profile access where the catalog offers both."""
    picked: list[dict[str, Any]] = []
    want_profile = False
    for spec in sorted(catalog.models.values(), key=lambda s: s.id):
        if len(picked) == count:
            break
        if not active(spec) or spec.kind != kind or not where(spec):
            continue
        if kind == "chat" and not (spec.converse and spec.guardrails):
            continue
        opts = options(spec, region)
        if not opts:
            continue
        preferred = [o for o in opts if (o is not None) == want_profile] or opts
        picked.append(_ref(spec, preferred[0]))
        want_profile = not want_profile
    return picked


def _tiers(chat: list[dict[str, Any]]) -> dict[str, str]:
    ids = [m["id"] for m in chat]
    return {"fast": ids[0], "balanced": ids[min(1, len(ids) - 1)], "deep": ids[-1]}


def basic_stage(catalog: Catalog) -> dict[str, Any]:
    """Defaults everywhere; no access check; up to three chat models."""
    region = best_region(catalog)
    chat = pick_models(catalog, region, 3)
    return {
        "region": region,
        "tags": {"team": "tests", "cost_center": "cc-1"},
        "models": chat,
        "tiers": _tiers(chat),
        "model_access": {"enabled": False},
        "runtime": {"tracing": False},
    }


def with_knowledge_bases(
    catalog: Catalog, config: dict[str, Any], names: Sequence[str]
) -> dict[str, Any]:
    """``config`` plus one knowledge base of defaults per name in ``names`` (and the embedding
    model they use enabled)."""
    embedding = pick_models(
        catalog,
        config["region"],
        1,
        kind="embedding",
        where=lambda s: not s.access.marketplace_agreement,
    )
    return {
        **config,
        "models": [*config["models"], *embedding],
        "knowledge_bases": [{"name": n, "embedding": {"model": embedding[0]["id"]}} for n in names],
    }


def full_stage(catalog: Catalog) -> dict[str, Any]:
    """Every optional branch on: account, extra tags, embeddings, form, agreements, custom
    guardrail, raised integration timeout, reserved concurrency, prompt logging."""
    region = best_region(catalog)
    # One model that needs Anthropic's form and an agreement with a known product id (so the
    # form and the scoped Subscribe statements are synthesized), then others that can join an
    # opted-in stage (a marketplace model must have its product id).
    agreeable = pick_models(catalog, region, 1, where=_form_and_agreement)
    chat = (
        agreeable
        + [
            m
            for m in pick_models(catalog, region, 4, where=_may_opt_in)
            if m["id"] not in {a["id"] for a in agreeable}
        ][:3]
    )
    embedding = pick_models(catalog, region, 1, kind="embedding")
    return {
        "account": ACCOUNT,
        "production": True,
        "region": region,
        "tags": {"team": "tests", "cost_center": "cc-2", "extra": {"owner": "qa"}},
        "models": chat + embedding,
        "tiers": _tiers(chat),
        "default_tier": "fast",
        "model_access": {
            "accept_marketplace_agreements": True,
            "use_case_form": {
                "company_name": "Example Corp",
                "company_website": "https://example.com",
                "industry_option": "Technology",
                "use_cases": "Internal assistant for engineers",
            },
        },
        "guardrails": [
            {
                "name": "default",
                "default": True,
                "content_filters": {"insults": {"input": "MEDIUM", "output": "LOW"}},
                "pii_entities": [
                    {"type": "EMAIL", "action": "BLOCK"},
                    {"type": "NAME", "action": "ANONYMIZE"},
                ],
                "blocked_input_message": "Blocked by the test policy.",
            }
        ],
        "api": {
            "throttle_rate_limit": 7,
            "throttle_burst_limit": 9,
            "default_max_tokens": 256,
            "max_tokens_limit": 512,
            "integration_timeout_seconds": 60,
            "integration_timeout_quota_raised": True,
            "limits": {"max_messages": 10, "max_images": 2},
        },
        "knowledge_bases": [
            {
                "name": "tenants",
                "embedding": {"model": embedding[0]["id"]},
                "vector_store": {"type": "aurora-pgvector"},
                "tenant_key": "tenant",
            },
            {
                "name": "search",
                "embedding": {"model": embedding[0]["id"]},
                "vector_store": {
                    "type": "opensearch-serverless",
                    "capacity": {"max_search_ocu": 4, "max_indexing_ocu": 2},
                },
            },
        ],
        "runtime": {
            "memory_mb": 768,
            "log_retention_days": 7,
            "log_prompts": True,
            "reserved_concurrency": 3,
            "max_attempts": 2,
        },
        "network": {"mode": "create"},
    }


def knowledge_stage(catalog: Catalog) -> dict[str, Any]:
    """A non-production stage with a knowledge base on every vector store, every chunking
    strategy, an existing bucket, a tenant key and a parser model."""
    region = best_region(catalog)
    readers = pick_models(catalog, region, 2, where=lambda s: "image" in s.input_modalities)
    embedding = pick_models(
        catalog, region, 1, kind="embedding", where=lambda s: not s.access.marketplace_agreement
    )
    model = embedding[0]["id"]
    dims = max(catalog.models[model].embedding_dimensions)
    return {
        "region": region,
        "tags": {"team": "tests", "cost_center": "cc-4"},
        "models": readers + embedding,
        "tiers": _tiers(readers),
        "model_access": {"enabled": False},
        "runtime": {"tracing": False},
        "knowledge_bases": [
            {
                "name": "vectors",
                "embedding": {"model": model},
                "tenant_key": "tenant",
                "retrieval": {"default_results": 3, "max_results": 10},
            },
            {
                "name": "search",
                "embedding": {"model": model, "dimensions": dims},
                "data_source": {"bucket_arn": "arn:aws:s3:::tests-existing-docs", "prefix": "kb/"},
                "chunking": {"strategy": "hierarchical"},
                "vector_store": {"type": "opensearch-serverless"},
            },
            {
                "name": "pg",
                "embedding": {"model": model},
                "chunking": {"strategy": "semantic", "breakpoint_percentile_threshold": 90},
                "parsing": {"model": readers[0]["id"]},
                "vector_store": {"type": "aurora-pgvector", "min_capacity": 0, "max_capacity": 2},
            },
            {
                "name": "whole",
                "embedding": {"model": model},
                "data_source": {"prefix": "whole-files/"},
                "chunking": {"strategy": "none"},
            },
        ],
    }


def existing_network_stage(catalog: Catalog) -> dict[str, Any]:
    """The basic stage in an existing VPC (two subnets in two zones), tracing off, with API
    clients in two other networks."""
    config = basic_stage(catalog)
    region = config["region"]
    return {
        **config,
        "tags": {"team": "tests", "cost_center": "cc-5"},
        "network": {
            "mode": "existing",
            "vpc_id": "vpc-0a1b2c3d4e5f60718",
            "cidr": "172.31.0.0/16",
            "subnet_ids": ["subnet-0a1b2c3d4e5f60718", "subnet-1a1b2c3d4e5f60718"],
            "availability_zones": [f"{region}a", f"{region}b"],
            "route_table_ids": ["rtb-0a1b2c3d4e5f60718", "rtb-1a1b2c3d4e5f60718"],
            "client_cidrs": ["192.168.16.0/20", "10.200.0.0/16"],
        },
    }


def nat_network_stage(catalog: Catalog) -> dict[str, Any]:
    """The basic stage with one knowledge base (S3 Vectors) in a created /20 VPC of two zones
    with one NAT gateway, flow logs asked for outside production, tracing on."""
    config = with_knowledge_bases(catalog, basic_stage(catalog), ["docs"])
    return {
        **config,
        "tags": {"team": "tests", "cost_center": "cc-6"},
        "runtime": {"tracing": True},
        "network": {
            "mode": "create",
            "cidr": "10.20.0.0/20",
            "nat_gateways": 1,
            "flow_logs": True,
            "bedrock_deny_scope": "stage-region",
        },
    }


def production_public_stage(catalog: Catalog) -> dict[str, Any]:
    """The basic stage made production, with its two allowed opt-outs: no VPC
    (``network.mode: none``) and no web ACL (``api.waf.enabled: false``)."""
    return {
        **basic_stage(catalog),
        "account": ACCOUNT,
        "production": True,
        "tags": {"team": "tests", "cost_center": "cc-7"},
        "api": {"waf": {"enabled": False}},
    }


def production_existing_stage(catalog: Catalog) -> dict[str, Any]:
    """The existing-VPC stage made production, without flow logs (the VPC's owner may log it)
    and without a web ACL (the way out when WAF refuses a private API stage)."""
    config = existing_network_stage(catalog)
    return {
        **config,
        "account": ACCOUNT,
        "production": True,
        "tags": {"team": "tests", "cost_center": "cc-8"},
        "api": {"waf": {"enabled": False}},
        "network": {**config["network"], "flow_logs": False},
    }


def _form_and_agreement(spec: ModelSpec) -> bool:
    access = spec.access
    return (
        access.use_case_form
        and access.marketplace_agreement
        and access.marketplace_product_id is not None
    )


def _may_opt_in(spec: ModelSpec) -> bool:
    return not spec.access.marketplace_agreement or spec.access.marketplace_product_id is not None


# A stage's chat settings grow by about 200 bytes per chat model; this many always fit the
# 4 KB environment (the guard in stacks/core/settings.py fails synth otherwise).
MAX_CHAT_MODELS_PER_STAGE = 8


def all_model_stages(catalog: Catalog) -> dict[str, dict[str, Any]]:
    """Stages that together enable every deployable catalog model (active or legacy) through
    every way it is offered (in-region where it has regions, each inference profile), as few
    stages as fit."""
    ways: list[tuple[ModelSpec, str | None, list[str]]] = []  # (model, profile, sources)
    for spec in sorted(catalog.models.values(), key=lambda s: s.id):
        if not deployable(spec):
            continue
        if spec.regions:
            ways.append((spec, None, sorted(spec.regions)))
        for name, profile in sorted(spec.inference_profiles.items()):
            ways.append((spec, name, sorted(profile.sources)))
    # Most constrained first, each new stage in the region most ways can use: fewer stages.
    popular = Counter(region for _, _, regions in ways for region in regions)
    stages: list[dict[str, Any]] = []
    for spec, way, regions in sorted(ways, key=lambda w: (len(w[2]), w[0].id, w[1] or "")):
        _place(stages, spec, way, regions, popular)
    out: dict[str, dict[str, Any]] = {}
    for i, stage in enumerate(stages):
        chat = [m for m in stage["models"] if chat_capable(catalog.models[m["id"]])]
        if not chat:
            chat = pick_models(catalog, stage["region"], 1)
            stage["models"] += chat
        out[f"all-models-{i}"] = {
            "region": stage["region"],
            "tags": {"team": "tests", "cost_center": "cc-3"},
            "models": stage["models"],
            "tiers": _tiers(chat),
        }
    return out


def _place(
    stages: list[dict[str, Any]],
    spec: ModelSpec,
    prefix: str | None,
    regions: list[str],
    popular: Counter[str],
) -> None:
    chat = chat_capable(spec)
    for stage in stages:
        if stage["region"] not in regions or any(m["id"] == spec.id for m in stage["models"]):
            continue
        if chat and stage["chat"] >= MAX_CHAT_MODELS_PER_STAGE:
            continue
        stage["models"].append(_ref(spec, prefix))
        stage["chat"] += int(chat)
        return
    region = max(regions, key=lambda r: (popular[r], r))
    stages.append({"region": region, "models": [_ref(spec, prefix)], "chat": int(chat)})


def guardrails_stage(catalog: Catalog) -> dict[str, Any]:
    """The basic stage with two named guardrails: the default enables every policy type
    (image filters, the standard tiers through the Region's cross-Region guardrail profile,
    denied topics, words and profanity, PII and regexes, grounding); a second one is small."""
    from stacks.config.guardrails import profile_geography

    config = basic_stage(catalog)
    geography = profile_geography(config["region"])
    both = ["TEXT", "IMAGE"]
    return {
        **config,
        "guardrails": [
            {
                "name": "strict",
                "default": True,
                "cross_region_profile": f"{geography}.guardrail.v1:0",
                "content_filters": {
                    "tier": "STANDARD",
                    "hate": {"input_modalities": both, "output_modalities": both},
                    "violence": {"input": "MEDIUM", "output_action": "NONE"},
                    "misconduct": {"output_enabled": False},
                    "prompt_attack": {"input": "HIGH", "input_modalities": both},
                },
                "denied_topics": {
                    "tier": "STANDARD",
                    "topics": [
                        {
                            "name": "Investment advice",
                            "definition": "Recommendations to buy or sell specific securities.",
                            "examples": ["Which stock should I buy today?"],
                            "output_action": "NONE",
                        }
                    ],
                },
                "word_filters": {
                    "words": [{"text": "project-x"}, {"text": "codename", "input_enabled": False}],
                    "profanity": True,
                },
                "pii_entities": [
                    {"type": "EMAIL", "action": "ANONYMIZE"},
                    {"type": "PHONE", "action": "BLOCK", "input_action": "NONE"},
                ],
                "regexes": [
                    {
                        "name": "my-number",
                        "pattern": r"\b\d{4}[- ]?\d{4}[- ]?\d{4}\b",
                        "description": "Japanese individual number (12 digits)",
                        "action": "BLOCK",
                    }
                ],
                "contextual_grounding": {
                    "grounding": {"threshold": 0.75},
                    "relevance": {"threshold": 0.5, "action": "NONE"},
                },
                "blocked_input_message": "Blocked by the strict test policy.",
                "blocked_output_message": "Answer withheld by the strict test policy.",
            },
            {"name": "lenient", "pii_entities": []},
        ],
    }


def enforcement_stage(catalog: Catalog) -> dict[str, Any]:
    """The basic stage with two small guardrails, the second enforced account-wide with every
    option the service offers (selective guarding, model lists)."""
    return {
        **basic_stage(catalog),
        "guardrails": [
            {"name": "app", "default": True},
            {"name": "account", "pii_entities": [], "word_filters": {"profanity": True}},
        ],
        "guardrail_enforcement": {
            "guardrail": "account",
            "system_prompts": "COMPREHENSIVE",
            "messages": "SELECTIVE",
            "exclude_models": ["amazon.titan-embed-text-v2:0"],
        },
    }


def test_stages(catalog: Catalog | None = None) -> dict[str, dict[str, Any]]:
    """Every stage config the tests synthesize, by name."""
    catalog = catalog or load_catalog()
    return {
        "basic": basic_stage(catalog),
        "full": full_stage(catalog),
        "guardrails": guardrails_stage(catalog),
        "enforcement": enforcement_stage(catalog),
        "knowledge": knowledge_stage(catalog),
        "existing": existing_network_stage(catalog),
        "nat": nat_network_stage(catalog),
        "production-public": production_public_stage(catalog),
        "production-existing": production_existing_stage(catalog),
        **all_model_stages(catalog),
    }


test_stages.__test__ = False  # type: ignore[attr-defined]  # not a pytest test
