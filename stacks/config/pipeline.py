"""The pipeline bootstrap's config (``context.pipeline``): which GitHub repository may deploy.

``load_pipeline`` is what the pipeline app (``app_pipeline.py``, ``make pipeline-bootstrap``)
calls; the stage app never reads this key. It resolves which stages get roles in the account
being bootstrapped: a stage's account and region come from the stage config
(``stages.<name>.account``, else ``CDK_DEFAULT_ACCOUNT``; ``stages.<name>.region``).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from pydantic import Field, ValidationError

from stacks.config.base import ConfigError, Strict, describe, show
from stacks.config.project import load_kit_config
from stacks.config.stage import check_context_keys

# GitHub's naming rules as the kit enforces them (unverified against GitHub's docs, checked
# 2026-11-30: not in the search corpora): an owner is letters, digits and single inner hyphens,
# at most 39 characters; a repository name is letters, digits, `.`, `_`, `-`, at most 100.
REPOSITORY = r"^[A-Za-z0-9]+(-[A-Za-z0-9]+)*/[A-Za-z0-9._-]+$"
MAX_OWNER, MAX_NAME = 39, 100
# The kit's restriction for environment names: they go verbatim into the OIDC `sub` claim the
# trust policy compares with StringEquals, so characters IAM treats specially are refused.
ENVIRONMENT = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$"
OIDC_PROVIDER_ARN = (
    r"^arn:aws(-[a-z]+)*:iam::\d{12}:oidc-provider/token\.actions\.githubusercontent\.com$"
)
_ACCOUNT = re.compile(r"^\d{12}$")


class PipelineConfig(Strict):
    """``context.pipeline``: the repository trusted to deploy and the GitHub environments."""

    repository: str = Field(pattern=REPOSITORY)
    oidc_provider_arn: str | None = Field(default=None, pattern=OIDC_PROVIDER_ARN)
    environments: dict[str, str] = {}


@dataclass(frozen=True)
class PipelineStage:
    """One stage that gets a deploy role and a diff role."""

    name: str
    account: str
    region: str
    environment: str


@dataclass(frozen=True)
class PipelinePlan:
    """What ``PipelineBootstrapStack`` builds in one account."""

    repository: str
    account: str
    region: str
    oidc_provider_arn: str | None
    stages: tuple[PipelineStage, ...]
    skipped: tuple[str, ...]
    kit_name: str = "kit"
    """The kit's name (``kit.name``): the bootstrap stack and its roles carry it."""


def load_pipeline(context: Mapping[str, Any], env: Mapping[str, str]) -> PipelinePlan:
    """Validate ``context.pipeline`` and pick the stages of the account being bootstrapped.

    Parameters
    ----------
    context:
        The CDK context: ``pipeline``, ``stages`` and CDK feature flags.
    env:
        Environment variables; only ``CDK_DEFAULT_ACCOUNT`` is read: the account of the
        credentials the CLI runs with, i.e. the account being bootstrapped. Without it (synth
        without credentials) every stage must name the same ``account``.

    Raises
    ------
    ConfigError
        Naming every problem: key path, value and what is allowed.
    """
    check_context_keys(context)
    raw = context.get("pipeline")
    if not isinstance(raw, Mapping):
        raise ConfigError(
            [
                "pipeline: missing from cdk.json context (or not an object); add "
                '"pipeline": {"repository": "<owner>/<name>"} (README, CI/CD)'
            ]
        )
    try:
        config = PipelineConfig.model_validate_json(json.dumps(dict(raw)))
    except ValidationError as exc:
        raise ConfigError([describe("pipeline", PipelineConfig, e) for e in exc.errors()]) from None
    stages = context.get("stages")
    if not isinstance(stages, Mapping) or not stages:
        raise ConfigError(
            ["stages: missing from cdk.json context; expected an object of stage name -> config"]
        )
    problems = _repository_problems(config.repository) + _environment_problems(config, stages)
    resolved: list[PipelineStage] = []
    default_account = env.get("CDK_DEFAULT_ACCOUNT") or None
    for name, stage in stages.items():
        stage = stage if isinstance(stage, Mapping) else {}
        account = stage.get("account") or default_account
        region = stage.get("region")
        found = []
        if account is not None and not (isinstance(account, str) and _ACCOUNT.match(account)):
            found.append(f"stages.{name}.account: {show(account)} is not allowed: 12 digits")
        if not isinstance(region, str) or not region:
            found.append(f"stages.{name}.region: required key is missing")
        problems += found
        if found:
            continue
        resolved.append(
            PipelineStage(
                str(name), account or "", str(region), config.environments.get(name, str(name))
            )
        )
    if problems:
        raise ConfigError(problems)
    account = default_account or _only_account(resolved)
    chosen = tuple(s for s in resolved if s.account == account)
    skipped = tuple(
        f"stage {s.name!r} deploys to account {s.account}, not {account}: run "
        f"`make pipeline-bootstrap` with credentials for {s.account} to create its roles"
        for s in resolved
        if s.account != account
    )
    if not chosen:
        raise ConfigError([f"stages: no stage deploys to account {account}; {'; '.join(skipped)}"])
    arn = config.oidc_provider_arn
    if arn is not None and arn.split(":")[4] != account:
        raise ConfigError(
            [
                f"pipeline.oidc_provider_arn: {show(arn)} is in account {arn.split(':')[4]}, "
                f"but this bootstrap deploys to account {account}; name that account's "
                "provider or remove the key to create one"
            ]
        )
    kit_name = load_kit_config(context).name
    return PipelinePlan(
        config.repository, account, chosen[0].region, arn, chosen, skipped, kit_name
    )


def _repository_problems(repository: str) -> list[str]:
    owner, name = repository.split("/")
    problems = []
    if len(owner) > MAX_OWNER:
        problems.append(f"at most {MAX_OWNER} characters before '/'")
    if len(name) > MAX_NAME:
        problems.append(f"at most {MAX_NAME} characters after '/'")
    if name in (".", ".."):
        problems.append("a repository name other than '.' or '..'")
    return [
        f"pipeline.repository: {show(repository)} is not allowed: must be {p}" for p in problems
    ]


def _environment_problems(config: PipelineConfig, stages: Mapping[str, Any]) -> list[str]:
    problems = [
        f"pipeline.environments.{name}: {show(name)} is not a stage; allowed: "
        f"{', '.join(sorted(stages))}"
        for name in config.environments
        if name not in stages
    ]
    problems += [
        f"pipeline.environments.{name}: {show(value)} is not allowed: must match {ENVIRONMENT}"
        for name, value in config.environments.items()
        if not re.match(ENVIRONMENT, value)
    ]
    return problems


def _only_account(stages: list[PipelineStage]) -> str:
    accounts = {s.account for s in stages}
    if len(accounts) == 1 and "" not in accounts:
        return accounts.pop()
    raise ConfigError(
        [
            "pipeline: cannot tell which account to bootstrap: the CDK CLI could not resolve "
            "the account of your credentials (CDK_DEFAULT_ACCOUNT is unset: credentials "
            "missing or expired, or AWS unreachable) and the stages do not all name one "
            "account; run `make pipeline-bootstrap` with working credentials for the account, "
            "or set stages.<name>.account"
        ]
    )


__all__ = [
    "PipelineConfig",
    "PipelinePlan",
    "PipelineStage",
    "load_pipeline",
]
