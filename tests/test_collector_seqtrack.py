"""Per-node seq tracking: gaps are detected, counted as completeness figures, and fill when late events arrive."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given
from hypothesis import strategies as st

from edge.collector.schema import Completeness
from edge.collector.seqtrack import NodeSeqs


@pytest.mark.parametrize(
    ("seqs", "announced", "expected", "ranges"),
    [
        ([], 0, Completeness(0, 0, 0), []),
        ([1, 2, 3], 0, Completeness(3, 3, 0), [(1, 3)]),
        ([1, 2, 5], 0, Completeness(5, 3, 1), [(1, 2), (5, 5)]),
        ([5, 1, 2], 0, Completeness(5, 3, 1), [(1, 2), (5, 5)]),
        ([1, 3, 5, 7], 0, Completeness(7, 4, 3), [(1, 1), (3, 3), (5, 5), (7, 7)]),
        ([1, 3, 2], 0, Completeness(3, 3, 0), [(1, 3)]),
        ([10, 11], 0, Completeness(2, 2, 0), [(10, 11)]),  # first seen at 10: earlier ones were before our time
        ([1, 2], 5, Completeness(5, 2, 1), [(1, 2)]),  # the node's status says 5 exist: 3, 4, 5 are missing
        ([1, 2, 3, 4, 5], 5, Completeness(5, 5, 0), [(1, 5)]),
    ],
)
def test_completeness_figures(
    seqs: list[int], announced: int, expected: Completeness, ranges: list[tuple[int, int]]
) -> None:
    node = NodeSeqs()
    for seq in seqs:
        assert node.add(seq)
    node.announce(announced)
    assert node.completeness() == expected
    assert list(node.ranges()) == ranges


def test_a_reused_seq_is_reported_and_not_counted_twice() -> None:
    node = NodeSeqs([(1, 3)])
    assert not node.add(2)
    assert node.completeness().received == 3


def test_missing_events_fill_in_when_the_backlog_arrives() -> None:
    node = NodeSeqs()
    for seq in (1, 2, 9, 10):
        node.add(seq)
    assert node.completeness().missing == 6
    for seq in range(3, 9):
        node.add(seq)
    assert node.completeness() == Completeness(expected=10, received=10, gaps=0)
    assert list(node.ranges()) == [(1, 10)]


def test_announcements_never_go_backwards() -> None:
    node = NodeSeqs([(1, 1)])
    node.announce(9)
    node.announce(4)
    assert node.announced == 9


@given(st.lists(st.integers(min_value=1, max_value=300), max_size=200))
def test_ranges_always_describe_exactly_the_seqs_received(seqs: list[int]) -> None:
    node = NodeSeqs()
    for seq in seqs:
        node.add(seq)
    covered = [s for lo, hi in node.ranges() for s in range(lo, hi + 1)]
    assert covered == sorted(set(seqs))
    pairs = list(node.ranges())
    assert all(hi + 1 < next_lo for (_, hi), (next_lo, _) in itertools.pairwise(pairs))
    figures = node.completeness()
    if seqs:
        assert figures.expected == max(seqs) - min(seqs) + 1
        assert figures.received == len(set(seqs))
        assert figures.gaps == len(pairs) - 1
