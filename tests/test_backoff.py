"""The one retry delay: doubling from the first delay up to the ceiling, back to the first after a success."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given
from hypothesis import strategies as st

from edge.backoff import Backoff


def test_each_failure_doubles_the_delay_up_to_the_ceiling() -> None:
    backoff = Backoff(0.5, 5.0)
    assert [backoff.failed() for _ in range(6)] == [0.5, 1.0, 2.0, 4.0, 5.0, 5.0]


def test_a_success_starts_again_from_the_first_delay() -> None:
    backoff = Backoff(1.0, 60.0)
    backoff.failed()
    backoff.failed()
    backoff.succeeded()
    assert backoff.failed() == 1.0


@pytest.mark.parametrize(("first", "ceiling"), [(0.0, 1.0), (-1.0, 1.0), (2.0, 1.0)])
def test_a_backoff_that_could_spin_or_shrink_is_refused(first: float, ceiling: float) -> None:
    with pytest.raises(ValueError, match="backoff"):
        Backoff(first, ceiling)


@given(
    first=st.floats(min_value=0.001, max_value=10.0),
    factor=st.floats(min_value=1.0, max_value=1000.0),
    failures=st.integers(min_value=1, max_value=60),
)
def test_delays_never_decrease_never_pass_the_ceiling_and_reach_it(first: float, factor: float, failures: int) -> None:
    backoff = Backoff(first, first * factor)
    delays = [backoff.failed() for _ in range(failures)]
    assert delays[0] == first
    assert all(a <= b <= backoff.max_s for a, b in itertools.pairwise(delays))
    if failures >= 60:
        assert delays[-1] == backoff.max_s
