"""A door node's state that survives a restart, read and written with failures counted, never raised.

Each door's commanded mode (a lockdown survives a crash and a reboot), the seat counts and anti-passback state
(a restart at noon does not give an account its seats back) and the command replay guard (a restart does not make
a command replayable). The file formats are in `edge.door.store`; the member snapshot and its floor are the
snapshot keeper's (`edge.door.snapshots`).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from edge.access.commands import ReplayGuard
from edge.access.tracking import PassbackState, SeatState
from edge.contract import DoorMode
from edge.door import store
from edge.metrics import Counters

log = logging.getLogger(__name__)


class StateFiles:
    """The door node's state folder: modes, tracking and the replay guard."""

    def __init__(self, folder: Path, counters: Counters) -> None:
        self.folder = folder
        self.counters = counters
        folder.mkdir(parents=True, exist_ok=True)

    def mode(self, door: str, configured: DoorMode) -> DoorMode:
        """The door's stored mode, or the configured one when none was stored or the file is unreadable."""
        try:
            stored = store.load_mode(self.folder / store.mode_file(door))
        except ValueError as exc:
            log.error("door %s: stored mode unreadable (%s); starting in the configured mode", door, exc)
            return configured
        return configured if stored is None else stored

    def save_mode(self, door: str, mode: DoorMode) -> None:
        """Store a door's commanded mode; a failure is counted and logged (the command still acts)."""
        try:
            store.save_mode(self.folder / store.mode_file(door), mode)
        except Exception:
            self.counters.inc("store_errors")
            log.exception("could not persist the mode of door %s", door)

    def load_tracking(self, seats: SeatState, passback: Mapping[str, PassbackState | None]) -> None:
        """Restore the seat counts and anti-passback state saved before a restart (empty when none is usable)."""
        store.load_tracking(self.folder / store.TRACKING_FILE, seats, passback)

    def save_tracking(self, state: Mapping[str, Any]) -> None:
        """Write a `store.tracking_state` copy; a failure is counted and logged, decisions go on."""
        try:
            store.write_tracking(self.folder / store.TRACKING_FILE, state)
        except Exception as exc:
            self.counters.inc("store_errors")
            log.error("could not save the seat and passback state (%s); decisions go on", exc)

    def replay_guard(self, *, now: float) -> ReplayGuard:
        """The persisted command replay guard (a fresh one refusing commands issued before `now` if none)."""
        return store.load_replay_guard(self.folder / store.REPLAY_FILE, now=now)

    def save_replay_guard(self, guard: ReplayGuard) -> None:
        """Persist the replay guard; raises StoreError (the command must then not act)."""
        store.save_replay_guard(self.folder / store.REPLAY_FILE, guard)
