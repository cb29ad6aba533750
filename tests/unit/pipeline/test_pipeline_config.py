"""``context.pipeline`` is validated like every other config block: all problems, named."""

from __future__ import annotations

from typing import Any

import pytest

from stacks.config import ConfigError
from stacks.config.pipeline import load_pipeline
from tests.support.pipeline import ACCOUNT, OTHER_ACCOUNT, pipeline_context


def _problems(context: dict[str, Any], env: dict[str, str] | None = None) -> str:
    with pytest.raises(ConfigError) as raised:
        load_pipeline(context, {"CDK_DEFAULT_ACCOUNT": ACCOUNT} if env is None else env)
    return str(raised.value)


@pytest.mark.parametrize(
    "repository",
    [
        "no-slash",
        "owner/name/extra",
        "-owner/name",
        "owner-/name",
        "ow--ner/name",
        "owner/",
        "/name",
        "owner/na me",
        "owner/name*",
        "o" * 40 + "/name",
        "owner/" + "n" * 101,
        "owner/..",
    ],
)
def test_given_a_bad_repository_when_loaded_then_the_key_and_value_are_named(
    repository: str,
) -> None:
    # Given a repository that is not "<owner>/<name>" as GitHub spells one
    msg = _problems(pipeline_context(repository=repository))
    # Then the error names the key, the value and what is allowed
    assert f"pipeline.repository: {repository[:40]}"[:40] in msg.replace("'", "")
    assert "must" in msg


def test_given_a_good_repository_when_loaded_then_it_is_kept_verbatim() -> None:
    plan = load_pipeline(
        pipeline_context(repository="Org-1/repo.name_x"), {"CDK_DEFAULT_ACCOUNT": ACCOUNT}
    )
    assert plan.repository == "Org-1/repo.name_x"


def test_given_no_pipeline_key_when_loaded_then_the_error_says_what_to_add() -> None:
    context = pipeline_context()
    context.pop("pipeline")
    msg = _problems(context)
    assert "pipeline: missing" in msg and '"repository"' in msg


def test_given_an_unknown_key_when_loaded_then_the_allowed_keys_are_listed() -> None:
    msg = _problems(pipeline_context(repo="a/b"))
    assert "pipeline.repo: unknown key" in msg and "repository" in msg


def test_given_environments_for_an_unknown_stage_and_a_bad_name_then_both_are_reported() -> None:
    msg = _problems(pipeline_context(environments={"nope": "x", "alpha": "has space"}))
    assert "pipeline.environments.nope" in msg and "alpha, beta-1, gamma" in msg
    assert "pipeline.environments.alpha: 'has space'" in msg


def test_given_a_provider_arn_of_another_account_when_loaded_then_it_is_refused() -> None:
    arn = f"arn:aws:iam::{OTHER_ACCOUNT}:oidc-provider/token.actions.githubusercontent.com"
    msg = _problems(pipeline_context(oidc_provider_arn=arn))
    assert "pipeline.oidc_provider_arn" in msg and ACCOUNT in msg


def test_given_a_provider_arn_for_another_issuer_when_loaded_then_the_pattern_is_shown() -> None:
    arn = f"arn:aws:iam::{ACCOUNT}:oidc-provider/example.com"
    msg = _problems(pipeline_context(oidc_provider_arn=arn))
    assert "pipeline.oidc_provider_arn" in msg and "token" in msg


def test_given_credentials_when_loaded_then_only_that_accounts_stages_get_roles() -> None:
    # Given stages in two accounts, one of them without an account (the credentials' one)
    plan = load_pipeline(pipeline_context(), {"CDK_DEFAULT_ACCOUNT": ACCOUNT})
    # Then the stages of the credentials' account are chosen, in config order
    assert [s.name for s in plan.stages] == ["alpha", "beta-1"]
    assert plan.account == ACCOUNT and plan.region == plan.stages[0].region
    # And the other account's stage is named as skipped, with what to do
    assert (
        len(plan.skipped) == 1 and "gamma" in plan.skipped[0] and OTHER_ACCOUNT in plan.skipped[0]
    )
    # And each environment defaults to the stage name
    assert [s.environment for s in plan.stages] == ["alpha", "beta-1"]


def test_given_an_environment_override_when_loaded_then_it_replaces_the_stage_name() -> None:
    context = pipeline_context(environments={"beta-1": "production"})
    plan = load_pipeline(context, {"CDK_DEFAULT_ACCOUNT": ACCOUNT})
    assert {s.name: s.environment for s in plan.stages} == {
        "alpha": "alpha",
        "beta-1": "production",
    }


def test_given_no_credentials_and_mixed_accounts_when_loaded_then_the_fix_is_named() -> None:
    context = pipeline_context()
    context["stages"]["gamma"]["account"] = ACCOUNT
    context["stages"]["beta-1"]["account"] = OTHER_ACCOUNT
    msg = _problems(context, env={})
    assert "cannot tell which account" in msg and "make pipeline-bootstrap" in msg


def test_given_a_stage_without_region_when_loaded_then_it_is_named() -> None:
    context = pipeline_context()
    context["stages"]["alpha"].pop("region")
    assert "stages.alpha.region: required key is missing" in _problems(context)


def test_given_the_pipeline_key_when_the_stage_loader_checks_context_keys_then_it_is_allowed() -> (
    None
):
    from stacks.config.stage import check_context_keys

    check_context_keys(pipeline_context())
