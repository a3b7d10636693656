"""What a door keeps on disk: its last snapshot (re-verified at start) and its replay guard."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from edge.access.commands import Action, ReplayGuard, verify_command
from edge.access.signed import TrustedKeys
from edge.access.store import load_replay_guard, load_snapshot, save_replay_guard
from edge.errors import PayloadError, StoreError
from edge.files import write_atomic
from edge.staff.command import make_command, sign_command
from edge.staff.memberfile import parse_member_file
from edge.staff.signing import public_key_of
from edge.staff.snapshot import build_snapshot, sign_snapshot
from tests.access_support import BADGE_KEY, CREATED, SITE_YAML, token

KEY = Ed25519PrivateKey.generate()
TRUSTED = TrustedKeys([public_key_of(KEY)])
NOW = dt.datetime(2026, 11, 26, 9, 0, tzinfo=dt.UTC)


def snapshot_bytes(version: int = 3) -> bytes:
    """A signed snapshot of the test site."""
    payload = build_snapshot(parse_member_file(SITE_YAML), version=version, badge_key=BADGE_KEY, created_at=CREATED)
    return sign_snapshot(payload, KEY)


def test_a_stored_snapshot_is_verified_again_at_start(tmp_path: Path) -> None:
    path = tmp_path / "members.snapshot"
    write_atomic(path, snapshot_bytes())
    index = load_snapshot(path, TRUSTED, site="lyon")
    assert index is not None and index.version == 3 and token("A1") in index.by_token
    assert oct(path.stat().st_mode & 0o777) == "0o600"


def test_no_stored_snapshot_yet_is_none(tmp_path: Path) -> None:
    assert load_snapshot(tmp_path / "members.snapshot", TRUSTED, site="lyon") is None


def test_a_stored_snapshot_edited_on_the_card_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "members.snapshot"
    write_atomic(path, snapshot_bytes().replace(b'"suspended":true', b'"suspended":false'))
    with pytest.raises(PayloadError) as caught:
        load_snapshot(path, TRUSTED, site="lyon")
    assert caught.value.reason == "forged"


def test_atomic_write_leaves_no_temporary_file(tmp_path: Path) -> None:
    path = tmp_path / "state"
    write_atomic(path, b"one")
    write_atomic(path, b"two")
    assert path.read_bytes() == b"two"
    assert os.listdir(tmp_path) == ["state"]


def test_atomic_write_to_a_missing_folder_is_a_store_error(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="cannot write"):
        write_atomic(tmp_path / "missing" / "state", b"x")


def obey(raw: bytes, guard: ReplayGuard, now: dt.datetime = NOW) -> None:
    """Verify a command at the front door."""
    verify_command(raw, retained=False, trusted=TRUSTED, site="lyon", door="front", now=now, guard=guard, max_skew_s=30)


def test_the_replay_guard_survives_a_restart(tmp_path: Path) -> None:
    path = tmp_path / "replay.json"
    guard = load_replay_guard(path, now=NOW.timestamp() - 60)
    raw = sign_command(make_command("lyon", "front", Action.UNLOCK_ONCE, now=NOW), KEY)
    obey(raw, guard)
    save_replay_guard(path, guard)
    restarted = load_replay_guard(path, now=NOW.timestamp())
    with pytest.raises(PayloadError) as caught:
        obey(raw, restarted, NOW + dt.timedelta(seconds=2))
    assert caught.value.reason == "replayed"


@pytest.mark.parametrize("content", [None, b"{not json", b'{"seen": 5}'])
def test_a_missing_or_corrupt_guard_refuses_commands_from_before_the_start(
    tmp_path: Path, content: bytes | None
) -> None:
    path = tmp_path / "replay.json"
    if content is not None:
        path.write_bytes(content)
    earlier = sign_command(make_command("lyon", "front", Action.UNLOCK_ONCE, now=NOW), KEY)
    guard = load_replay_guard(path, now=(NOW + dt.timedelta(seconds=1)).timestamp())
    with pytest.raises(PayloadError) as caught:
        obey(earlier, guard, NOW + dt.timedelta(seconds=2))
    assert caught.value.reason == "replayed"
    later = sign_command(make_command("lyon", "front", Action.NORMAL, now=NOW + dt.timedelta(seconds=2)), KEY)
    obey(later, guard, NOW + dt.timedelta(seconds=2))
