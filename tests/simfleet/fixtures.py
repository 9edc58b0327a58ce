"""The pytest plugin of the simulated fleet (`pytest_plugins = ["tests.simfleet.fixtures"]`): the fixtures
`fleet_pool` (the session's Fleet) and `fleet` (a FleetFactory per test), and the fleet's start/stop times in the
terminal summary. The API is documented in tests/simfleet/__init__.py."""
from __future__ import annotations

import pytest

from .fleet import Fleet, FleetFactory

_summaries: list[str] = []


@pytest.fixture(scope="session")
def fleet_pool():
    """The session's Fleet (hosts start on first use, stop at session end)."""
    pool = Fleet()
    try:
        yield pool
    finally:
        pool.close()
        _summaries.extend(pool.log)


def pytest_terminal_summary(terminalreporter):
    if _summaries:
        terminalreporter.write_sep("-", "gpubench test infrastructure")
        for line in _summaries:
            terminalreporter.write_line(line)


@pytest.fixture
def fleet(fleet_pool):
    """Factory: fleet(n) returns n reset hosts (see tests/simfleet/__init__.py)."""
    factory = FleetFactory(fleet_pool)
    yield factory
    factory.cleanup()
