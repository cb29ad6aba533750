"""Which URL ``make call`` / ``make smoke`` send to: the stack's output, its alias, or API_URL."""

from __future__ import annotations

import pytest

from stacks.tools.client import (
    ALIAS,
    ALIAS_URL_OUTPUT,
    API_URL_OUTPUT,
    ClientProblem,
    api_url,
    choose_url,
    explicit_url,
)

PRIVATE_DNS = "https://a1b2c3d4e5.execute-api.eu-west-1.amazonaws.com/prod/"
ALIAS_URL = "https://a1b2c3d4e5-vpce-0123456789abcdef0.execute-api.eu-west-1.amazonaws.com/prod/"
PRIVATE_OUTPUTS = {API_URL_OUTPUT: PRIVATE_DNS, ALIAS_URL_OUTPUT: ALIAS_URL}


def choose(outputs: dict[str, str], want: str | None) -> str:
    return choose_url(outputs, want=want, stack="kit-prod-Api", region="eu-west-1")


def test_given_no_override_when_choosing_then_the_stage_url_output_is_used() -> None:
    # Given a private stage's outputs, When no API_URL, Then the ApiUrl (private DNS) output
    assert choose(PRIVATE_OUTPUTS, None) == PRIVATE_DNS


def test_given_alias_when_choosing_then_the_endpoint_alias_output_is_used() -> None:
    # Given a private stage's outputs, When API_URL=alias, Then the Route 53 alias output
    assert choose(PRIVATE_OUTPUTS, ALIAS) == ALIAS_URL


def test_given_alias_on_a_regional_stage_then_the_problem_says_the_api_is_not_private() -> None:
    # Given a regional stage (no alias output), When API_URL=alias, Then a fix, not a KeyError
    with pytest.raises(ClientProblem, match="not private.*drop API_URL"):
        choose({API_URL_OUTPUT: PRIVATE_DNS}, ALIAS)


def test_given_an_output_without_slash_then_the_base_url_ends_with_one() -> None:
    assert choose({API_URL_OUTPUT: PRIVATE_DNS.rstrip("/")}, None) == PRIVATE_DNS


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        (ALIAS_URL.rstrip("/"), ALIAS_URL),
        (f"  {PRIVATE_DNS}  ", PRIVATE_DNS),
        ("http://127.0.0.1:8000", "http://127.0.0.1:8000/"),
    ],
)
def test_given_an_explicit_url_then_it_is_used_as_the_base(given: str, expected: str) -> None:
    assert explicit_url(given) == expected


@pytest.mark.parametrize(
    "given",
    [
        "http://a1b2c3d4e5.execute-api.eu-west-1.amazonaws.com/prod/",  # plain http off-host
        "a1b2c3d4e5.execute-api.eu-west-1.amazonaws.com/prod",  # no scheme
        f"{PRIVATE_DNS}?x=1",  # a query would be signed into every request
        "https:///prod/",  # no host
    ],
)
def test_given_a_url_that_is_not_a_base_url_then_the_problem_names_api_url(given: str) -> None:
    with pytest.raises(ClientProblem, match=r"API_URL=.*allowed: an https:// URL"):
        explicit_url(given)


class NoAws:
    """A botocore session stand-in that fails the test if anything asks it for a client."""

    def create_client(self, *args: object, **kwargs: object) -> None:
        raise AssertionError("an explicit API_URL must not call CloudFormation")


def test_given_an_explicit_url_when_resolving_then_no_aws_call_is_made() -> None:
    # Given API_URL=<url>, When the client resolves the API, Then CloudFormation is never asked
    url = api_url(NoAws(), "eu-west-1", "kit-prod-Api", stage="prod", override=ALIAS_URL)
    assert url == ALIAS_URL


@pytest.mark.parametrize(
    "given",
    [
        "https://a1b2c3d4e5.execute-api.us-east-1.amazonaws.com/prod/",
        "https://a1b2c3d4e5-vpce-0123456789abcdef0.execute-api.us-west-2.amazonaws.com/prod/",
        "https://s3.eu-west-1.amazonaws.com/prod/",
    ],
)
def test_given_an_aws_url_of_another_region_or_service_then_the_problem_names_the_region(
    given: str,
) -> None:
    # Given a stage in eu-west-1 (requests are signed for it), When API_URL is another host
    with pytest.raises(ClientProblem) as problem:
        explicit_url(given, "eu-west-1")
    # Then the problem names the stage's region and the host form it needs
    assert "eu-west-1" in str(problem.value) and ".execute-api.eu-west-1." in str(problem.value)


@pytest.mark.parametrize("given", [PRIVATE_DNS, ALIAS_URL, "https://api.example.com/chat/"])
def test_given_the_stage_region_or_a_custom_domain_then_the_url_is_taken(given: str) -> None:
    assert explicit_url(given, "eu-west-1") == given
