"""Clocks: RFC 3339 formatting and parsing, the manual clock, and simulated clocks that agree across processes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from edge.clock import ManualClock, ScaledClock, parse_rfc3339, real_seconds, rfc3339_ms

START = datetime(2026, 11, 26, 7, 30, tzinfo=UTC)


def test_rfc3339_has_milliseconds_and_z() -> None:
    assert rfc3339_ms(datetime(2026, 1, 2, 3, 4, 5, 678901, tzinfo=UTC)) == "2026-01-02T03:04:05.678Z"


@pytest.mark.parametrize("text", ["2026-01-02T03:04:05.678Z", "2026-01-02T04:04:05.678+01:00"])
def test_rfc3339_parses_offsets_to_utc(text: str) -> None:
    assert parse_rfc3339(text) == datetime(2026, 1, 2, 3, 4, 5, 678000, tzinfo=UTC)


@pytest.mark.parametrize("text", ["2026-01-02T03:04:05", "yesterday", "", "2026-01-02T03:04:05Z" + "0" * 40])
def test_rfc3339_refuses_naive_or_garbage(text: str) -> None:
    with pytest.raises(ValueError):
        parse_rfc3339(text)


def test_manual_clock_moves_only_when_told() -> None:
    clock = ManualClock(START)
    before = clock.monotonic()
    clock.advance(5)
    assert clock.now() == START + timedelta(seconds=5)
    assert clock.monotonic() == before + 5
    with pytest.raises(ValueError):
        clock.advance(-1)


def test_scaled_clocks_with_the_same_spec_agree() -> None:
    first = ScaledClock(START, 600)
    second = ScaledClock.parse(first.spec())
    assert (second.anchor, second.speed, second.spec()) == (first.anchor, first.speed, first.spec())
    assert first.now() >= START


def test_real_seconds_divides_by_the_speed() -> None:
    assert real_seconds(ScaledClock(START, 600), 60) == pytest.approx(0.1)
    assert real_seconds(ManualClock(START), 60) == 60


@pytest.mark.parametrize("spec", ["2026-11-26T07:30:00@600", "nope", "2026-11-26T07:30:00+01:00@x", "a@b@c@d"])
def test_bad_scaled_clock_specs_are_refused(spec: str) -> None:
    with pytest.raises(ValueError):
        ScaledClock.parse(spec)
