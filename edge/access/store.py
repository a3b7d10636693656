"""What a door keeps on disk: the last applied signed snapshot and the replay guard, written atomically.

A door that restarts offline re-verifies its stored snapshot with the same checks as a fresh one, so a file
edited on the SD card is refused like a forged message.
"""

from __future__ import annotations

import json
from pathlib import Path

from edge.access.commands import ReplayGuard
from edge.access.files import write_atomic
from edge.access.index import SnapshotIndex
from edge.access.signing import TrustedKeys
from edge.access.snapshot import apply_snapshot
from edge.errors import StoreError


def load_snapshot(path: Path, trusted: TrustedKeys, *, site: str) -> SnapshotIndex | None:
    """The stored snapshot, verified; None when there is none yet; PayloadError when it does not verify."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise StoreError(f"{path}: cannot read: {exc.strerror}") from None
    return apply_snapshot(raw, trusted, site=site, applied_version=None)


def load_replay_guard(path: Path, *, now: float, capacity: int = 4096) -> ReplayGuard:
    """The persisted replay guard; when missing or corrupt, a fresh one refusing commands issued before `now`."""
    try:
        return ReplayGuard.from_dict(json.loads(path.read_bytes()), capacity=capacity)
    except (OSError, ValueError):
        return ReplayGuard(capacity, floor=now)


def save_replay_guard(path: Path, guard: ReplayGuard) -> None:
    """Persist the replay guard (after every obeyed command)."""
    write_atomic(path, json.dumps(guard.to_dict()).encode("ascii"))
