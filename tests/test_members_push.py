"""Snapshot versions only grow; the push record next to the member file; versions read from a retained snapshot."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import given
from hypothesis import strategies as st

from edge.errors import ConfigError
from edge.staff.memberfile import parse_member_file
from edge.staff.push import (
    PushRecord,
    next_version,
    read_record,
    record_path,
    snapshot_created_at,
    snapshot_version,
)
from edge.staff.snapshot import build_snapshot, sign_snapshot
from tests.access_support import BADGE_KEY, CREATED, SITE_YAML

NOW = dt.datetime(2026, 11, 26, 9, 23, 20, 123000, tzinfo=dt.UTC)
NOW_MS = 1_795_685_000_123


def test_the_version_is_the_time_in_milliseconds() -> None:
    assert int(NOW.timestamp() * 1000) == NOW_MS
    assert next_version(NOW) == NOW_MS
    assert next_version(NOW, None, None) == NOW_MS


@pytest.mark.parametrize(
    ("previous", "expected"),
    [
        ((NOW_MS - 1,), NOW_MS),
        ((NOW_MS,), NOW_MS + 1),  # two pushes in the same millisecond
        ((NOW_MS + 3_600_000,), NOW_MS + 3_600_001),  # this machine's clock went back an hour
        ((None, NOW_MS + 5), NOW_MS + 6),  # a newer snapshot retained on the broker, pushed from elsewhere
        ((NOW_MS + 9, NOW_MS + 5), NOW_MS + 10),
    ],
)
def test_the_version_exceeds_every_previous_one(previous: tuple[int | None, ...], expected: int) -> None:
    assert next_version(NOW, *previous) == expected


@given(
    st.datetimes(min_value=dt.datetime(2000, 1, 1), max_value=dt.datetime(2100, 1, 1), timezones=st.just(dt.UTC)),
    st.lists(st.none() | st.integers(min_value=0, max_value=2**62), max_size=3),
)
def test_a_version_is_always_greater_than_any_previous(now: dt.datetime, previous: list[int | None]) -> None:
    version = next_version(now, *previous)
    assert all(version > p for p in previous if p is not None)


def test_the_record_lives_next_to_the_member_file(tmp_path: Path) -> None:
    assert record_path(tmp_path / "members.yaml") == tmp_path / "members.yaml.pushed.json"


def test_a_record_reads_back(tmp_path: Path) -> None:
    record = PushRecord("lyon", NOW_MS, NOW, "edge/lyon/members", 3, 4, 1000, "ab" * 32)
    path = tmp_path / "members.yaml.pushed.json"
    path.write_bytes(record.to_json())
    assert read_record(path) == record
    assert json.loads(path.read_bytes())["pushed_at"] == "2026-11-26T09:23:20.123Z"


def test_no_record_means_nothing_pushed_yet(tmp_path: Path) -> None:
    assert read_record(tmp_path / "none.pushed.json") is None


@pytest.mark.parametrize("content", [b"", b"{}", b"[1]", b'{"version": "12"}', b"\xff"])
def test_a_corrupt_record_is_refused_rather_than_guessed(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "members.yaml.pushed.json"
    path.write_bytes(content)
    with pytest.raises(ConfigError, match="not a push record"):
        read_record(path)


def test_version_and_build_time_are_read_from_a_signed_snapshot() -> None:
    members = parse_member_file(SITE_YAML)
    raw = sign_snapshot(
        build_snapshot(members, version=42, badge_key=BADGE_KEY, created_at=CREATED), Ed25519PrivateKey.generate()
    )
    assert snapshot_version(raw) == 42
    assert snapshot_created_at(raw) == CREATED


@pytest.mark.parametrize("raw", [b"", b"null", b'{"payload": {"version": true}}', b'{"payload": {"version": -1}}'])
def test_an_unreadable_snapshot_has_no_version(raw: bytes) -> None:
    assert snapshot_version(raw) is None
    assert snapshot_created_at(raw) is None


def test_a_deeply_nested_snapshot_has_no_version() -> None:
    assert snapshot_version(b"[" * 100_000) is None
