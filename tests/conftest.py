"""Session fixtures: every stage config is synthesized at most once per test run.

Test-owned stages (``tests/stages``) carry the assertions; the shipped stages in ``cdk.json``
are only checked generically, so a fork can rename, move or delete them freely.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from stacks.catalog import CatalogError
from tests.stages import test_stages
from tests.support.synth import CDK_CONTEXT, Synthesized, clean_work_dir, synthesize

try:
    TEST_STAGES: dict[str, dict[str, Any]] = test_stages()
except CatalogError as error:  # the catalog is the fork's own data: say what is wrong in it
    pytest.exit(f"model catalog: {error}", returncode=2)
SHIPPED_STAGES: dict[str, Any] = CDK_CONTEXT["stages"]
UNIT_DIR = Path(__file__).parent / "unit"

_CACHE: dict[tuple[str, str], Synthesized] = {}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Tests under tests/unit/ are the fast, pure ones (``make test-unit``; no sockets)."""
    for item in items:
        if UNIT_DIR in Path(str(item.fspath)).parents:
            item.add_marker(pytest.mark.unit)


def pytest_runtest_setup(item: pytest.Item) -> None:
    if item.get_closest_marker("unit") is not None:
        import pytest_socket

        pytest_socket.disable_socket(allow_unix_socket=False)


def pytest_runtest_teardown(item: pytest.Item) -> None:
    if item.get_closest_marker("unit") is not None:
        import pytest_socket

        pytest_socket.enable_socket()


@pytest.fixture(scope="session", autouse=True)
def _remove_assemblies() -> Iterator[None]:
    yield
    clean_work_dir()


def synthesized(kind: str, name: str) -> Synthesized:
    """The stage ``name`` of ``kind`` (``test`` or ``shipped``), synthesized once per run."""
    key = (kind, name)
    if key not in _CACHE:
        if kind == "test":
            _CACHE[key] = synthesize(name, TEST_STAGES)
        else:  # the fork's own name too (kit.name), as `make synth` would use it
            _CACHE[key] = synthesize(name, SHIPPED_STAGES, kit=CDK_CONTEXT.get("kit"))
    return _CACHE[key]


@pytest.fixture(scope="session")
def synth() -> Callable[[str], Synthesized]:
    """``synth(name)`` -> a test-owned stage, synthesized once per run."""
    return lambda name: synthesized("test", name)


@pytest.fixture(scope="session", params=["basic", "full"])
def stage(request: pytest.FixtureRequest) -> Synthesized:
    """The test-owned stages that fine-grained assertions run on."""
    return synthesized("test", request.param)


@pytest.fixture(scope="session", params=sorted(SHIPPED_STAGES))
def shipped_stage(request: pytest.FixtureRequest) -> Synthesized:
    """Each stage shipped in cdk.json (checked only generically)."""
    return synthesized("shipped", request.param)


GATED = [("test", n) for n in TEST_STAGES] + [("shipped", n) for n in sorted(SHIPPED_STAGES)]


@pytest.fixture(scope="session", params=GATED, ids=[f"{k}:{n}" for k, n in GATED])
def any_stage(request: pytest.FixtureRequest) -> Synthesized:
    """Every stage, test-owned and shipped: what every gate runs on."""
    kind, name = request.param
    return synthesized(kind, name)


@pytest.fixture(scope="session")
def postgres() -> Iterator[Any]:
    """A real PostgreSQL with pgvector (``tests.support.postgres``), started on first use and
    stopped when the run ends."""
    from tests.support.postgres import running_postgres

    with running_postgres() as server:
        yield server
