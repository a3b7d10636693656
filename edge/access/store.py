"""What a door keeps on disk: the last applied signed snapshot, the replay guard, and the seat counts and
anti-passback state, written atomically.

A door that restarts offline re-verifies its stored snapshot with the same checks as a fresh one, so a file
edited on the SD card is refused like a forged message.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from pathlib import Path

from edge.access.commands import ReplayGuard
from edge.access.index import SnapshotIndex
from edge.access.signed import TrustedKeys
from edge.access.snapshot import apply_snapshot
from edge.access.tracking import PassbackState, SeatState
from edge.errors import StoreError
from edge.files import write_atomic

log = logging.getLogger(__name__)


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


def load_tracking(path: Path, seats: SeatState, passback: Mapping[str, PassbackState | None]) -> bool:
    """Restore the seat counts and each anti-passback door's state saved by `save_tracking`; False when there was
    nothing usable (missing or corrupt: the door then starts with empty counts, as before this file existed)."""
    try:
        data = json.loads(path.read_bytes())
        seats.restore(data["seats"])
        for door, state in passback.items():
            if state is not None and door in data["passback"]:
                state.restore(data["passback"][door])
    except FileNotFoundError:
        return False
    except (OSError, ValueError, KeyError, TypeError) as exc:
        log.error("%s is unreadable (%s): seat counts and anti-passback start empty", path, exc)
        return False
    return True


def save_tracking(path: Path, seats: SeatState, passback: Mapping[str, PassbackState | None]) -> None:
    """Persist the seat counts and anti-passback state (after each decision that changed them)."""
    doors = {door: state.to_dict() for door, state in passback.items() if state is not None}
    write_atomic(path, json.dumps({"seats": seats.to_dict(), "passback": doors}).encode("ascii"))
