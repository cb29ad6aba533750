"""The deploy preflight finds the credentials the CDK CLI will use, without calling AWS."""

from __future__ import annotations

from pathlib import Path

import pytest

from stacks.tools.preflight import PreflightError, cli_profile, credential_source, forced, main


@pytest.fixture
def aws_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An AWS config with one named profile and nothing in the environment."""
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    credentials = tmp_path / "credentials"
    credentials.write_text("[ops]\naws_access_key_id = AKIDEXAMPLE\naws_secret_access_key = x\n")
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(credentials))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "config"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    for name in ("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "AWS_CONTAINER_CREDENTIALS_FULL_URI"):
        monkeypatch.delenv(name, raising=False)
    return tmp_path


@pytest.mark.parametrize(
    ("flags", "profile"),
    [("--profile ops --concurrency 2", "ops"), ("--profile=ops", "ops"), ("--force", None)],
)
def test_the_profile_in_cdk_flags_is_found(flags: str, profile: str | None) -> None:
    assert cli_profile(flags) == profile


def test_a_profile_given_to_the_cli_counts_as_credentials(aws_home: Path) -> None:
    # Given credentials only in the named profile "ops"
    # Then without the profile none are found, and with it they are
    with pytest.raises(PreflightError, match="no AWS credentials found"):
        credential_source()
    assert "profile ops" in credential_source("ops")


def test_make_deploy_with_cdk_flags_profile_passes(
    aws_home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["--stage", "dev", "--cdk-flags", "--profile ops"]) == 0
    assert "profile ops" in capsys.readouterr().out


def test_a_failed_destroy_says_how_to_confirm_in_a_script(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["--stage", "dev", "--command", "make destroy", "--cli-failed"]) == 1
    assert "CDK_FLAGS=--force" in capsys.readouterr().err


@pytest.mark.parametrize("flags", ["--force", "-f", "--profile ops --force", "--force=true"])
def test_given_a_forced_destroy_when_the_cli_fails_then_no_terminal_hint_is_printed(
    flags: str, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given CDK_FLAGS that confirm the destroy: the CLI asked nothing, so a TTY was not the cause
    # (as the Makefile passes them: --cdk-flags="$(CDK_FLAGS)")
    status = main(
        ["--stage", "s", "--command", "make destroy", f"--cdk-flags={flags}", "--cli-failed"]
    )

    err = capsys.readouterr().err
    assert status == 1
    assert "the CDK CLI failed" in err
    assert "TTY" not in err and "CDK_FLAGS=--force" not in err


@pytest.mark.parametrize(
    ("flags", "expected"),
    [("", False), ("--profile ops", False), ("--force=false", False), ("--force", True)],
)
def test_forced_reads_the_force_flag_only(flags: str, expected: bool) -> None:
    assert forced(flags) is expected
