"""The member snapshot floor a door keeps in its own file: what it admits, how it is saved, and that a damaged
file reads as corrupt, never as another floor."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from edge.door.floor import FloorState, VersionFloor, _check, load_floor, save_floor
from edge.errors import PayloadError, StoreError

A = hashlib.sha256(b"snapshot a").hexdigest()
B = hashlib.sha256(b"snapshot b").hexdigest()


@pytest.mark.parametrize(
    ("floor", "version", "digest", "admitted"),
    [
        (VersionFloor(5, A), 6, B, True),  # newer
        (VersionFloor(5, A), 4, B, False),  # older: a rollback
        (VersionFloor(5, A), 5, A, True),  # the very snapshot the floor was raised by (its file was lost)
        (VersionFloor(5, A), 5, B, False),  # another snapshot signed with the same version
        (VersionFloor(5), 5, B, True),  # an installer's minimum admits its own version
        (VersionFloor(5), 4, B, False),
        (VersionFloor(0), 0, A, True),
    ],
)
def test_what_a_floor_admits(floor: VersionFloor, version: int, digest: str, admitted: bool) -> None:
    assert floor.admits(version, digest) is admitted


def test_a_snapshot_the_floor_does_not_admit_is_not_newer() -> None:
    with pytest.raises(PayloadError) as caught:
        VersionFloor(5, A).check(4, B)
    assert caught.value.reason == "not_newer" and "floor 5" in str(caught.value)
    VersionFloor(5, A).check(5, A)


def test_the_higher_floor_wins_and_at_equal_versions_the_one_naming_its_snapshot() -> None:
    assert VersionFloor(5, A).raised_to(VersionFloor(7)) == VersionFloor(7)
    assert VersionFloor(7).raised_to(VersionFloor(5, A)) == VersionFloor(7)
    assert VersionFloor(5).raised_to(VersionFloor(5, A)) == VersionFloor(5, A)
    assert VersionFloor(5, A).raised_to(VersionFloor(5)) == VersionFloor(5, A)
    assert VersionFloor(5, A).raised_to(None) == VersionFloor(5, A)


def test_a_saved_floor_reads_back_the_same(tmp_path: Path) -> None:
    path = tmp_path / "members.floor"
    save_floor(path, VersionFloor(1764149000000, A))
    assert load_floor(path) == (VersionFloor(1764149000000, A), FloorState.OK)
    save_floor(path, VersionFloor(9))
    assert load_floor(path) == (VersionFloor(9), FloorState.OK)
    assert oct(path.stat().st_mode & 0o777) == "0o600"


def test_no_floor_file_is_missing(tmp_path: Path) -> None:
    assert load_floor(tmp_path / "members.floor") == (None, FloorState.MISSING)


SEVEN = VersionFloor(7, A)


def saved(tmp_path: Path, floor: VersionFloor = SEVEN) -> Path:
    path = tmp_path / "members.floor"
    save_floor(path, floor)
    return path


CORRUPTIONS = {
    "empty": lambda text: "",
    "truncated": lambda text: text[: len(text) // 2],
    "not JSON": lambda text: "\x00\x17garbage",
    "a lower version": lambda text: text.replace('"version": 7', '"version": 1'),
    "no check": lambda text: json.dumps({k: v for k, v in json.loads(text).items() if k != "check"}),
    "a list": lambda text: "[7]",
}


@pytest.mark.parametrize("corrupt", CORRUPTIONS, ids=list(CORRUPTIONS))
def test_a_damaged_floor_file_is_corrupt(tmp_path: Path, corrupt: str) -> None:
    path = saved(tmp_path)
    path.write_text(CORRUPTIONS[corrupt](path.read_text()))
    assert load_floor(path) == (None, FloorState.CORRUPT)


@pytest.mark.parametrize(
    "fields", [{"version": -1, "digest": None}, {"version": True, "digest": None}, {"version": 3, "digest": "zz"}]
)
def test_a_floor_with_impossible_fields_is_corrupt_even_with_a_matching_check(tmp_path: Path, fields: dict) -> None:
    path = tmp_path / "members.floor"
    path.write_text(json.dumps({**fields, "check": _check(fields["version"], fields["digest"])}))
    assert load_floor(path) == (None, FloorState.CORRUPT)


def test_an_unreadable_floor_file_is_corrupt(tmp_path: Path) -> None:
    (tmp_path / "members.floor").mkdir()
    assert load_floor(tmp_path / "members.floor") == (None, FloorState.CORRUPT)


def test_a_floor_that_cannot_be_written_is_a_store_error(tmp_path: Path) -> None:
    with pytest.raises(StoreError):
        save_floor(tmp_path / "missing-folder" / "members.floor", VersionFloor(1))


@settings(max_examples=300, deadline=None)
@given(
    version=st.integers(min_value=0, max_value=2**53),
    digest=st.none() | st.sampled_from([A, B]),
    position=st.integers(min_value=0),
    byte=st.integers(min_value=0, max_value=255),
)
def test_any_changed_byte_reads_as_corrupt_or_as_the_same_floor(
    tmp_path_factory: pytest.TempPathFactory, version: int, digest: str | None, position: int, byte: int
) -> None:
    path = saved(tmp_path_factory.mktemp("floor"), VersionFloor(version, digest))
    data = bytearray(path.read_bytes())
    data[position % len(data)] = byte
    path.write_bytes(bytes(data))
    floor, state = load_floor(path)
    assert (floor, state) in ((None, FloorState.CORRUPT), (VersionFloor(version, digest), FloorState.OK))
