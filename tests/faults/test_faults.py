"""Faults and hostile input: every case of tests/simfleet/faults.py must end as expected, with no container left
running and no row lost or duplicated (bench/faults.py prints the same cases as a report)."""

from __future__ import annotations

import pytest

from tests.simfleet import CASES


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_fault_case(case, fleet, tmp_path):
    outcome = case.run(fleet, tmp_path)
    assert outcome.as_expected, f"{case.name}: expected {case.expected}; observed {outcome.observed}"
    assert outcome.containers_left == 0
    assert outcome.rows_lost == 0
