"""The scan debouncer: a held card scans once; removed and presented again, it scans again after the re-arm time."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from edge.hardware.readers import ScanDebouncer

A, B = "04A1B2C3", "DEADBEEF"


@pytest.mark.parametrize(
    ("reads", "expected"),
    [
        pytest.param([(A, 0.0)], [True], id="first read scans"),
        pytest.param([(A, 0.0), (A, 0.1), (A, 0.2), (A, 0.3)], [True, False, False, False], id="held card once"),
        pytest.param([(A, 0.0), (A, 0.5), (A, 1.4), (A, 2.3)], [True, False, False, False], id="held long"),
        pytest.param([(A, 0.0), (A, 1.0)], [True, True], id="re-presented after rearm"),
        pytest.param([(A, 0.0), (A, 0.99)], [True, False], id="gap just under rearm"),
        pytest.param([(A, 0.0), (B, 0.1)], [True, True], id="other card scans at once"),
        pytest.param([(A, 0.0), (B, 0.1), (A, 0.2)], [True, True, True], id="card swapped back"),
        pytest.param([(A, 0.0), (A, 0.2), (A, 1.1)], [True, False, False], id="every other poll stays held"),
    ],
)
def test_debouncer_decides_new_presentations(reads, expected):
    debouncer = ScanDebouncer(rearm_s=1.0)
    assert [debouncer.offer(uid, at) for uid, at in reads] == expected


def test_reset_lets_the_held_card_scan_again():
    debouncer = ScanDebouncer(rearm_s=1.0)
    debouncer.offer(A, 0.0)
    debouncer.reset()
    assert debouncer.offer(A, 0.1)


@pytest.mark.parametrize("rearm", [0.0, -1.0])
def test_rearm_must_be_positive(rearm):
    with pytest.raises(ValueError):
        ScanDebouncer(rearm)


@given(st.lists(st.floats(min_value=0.0, max_value=0.99), min_size=1, max_size=50))
def test_a_card_read_at_intervals_below_rearm_scans_exactly_once(gaps):
    debouncer = ScanDebouncer(rearm_s=1.0)
    at, results = 0.0, [debouncer.offer(A, 0.0)]
    for gap in gaps:
        at += gap
        results.append(debouncer.offer(A, at))
    assert results.count(True) == 1
