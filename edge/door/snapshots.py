"""The snapshot keeper: which member snapshot the door decides with, and the floor below which it takes none.

At start it loads the stored snapshot (verified again, as if it had just arrived) and the floor
(edge.door.floor), says loudly when the floor file was lost or corrupt, and writes the floor in force back.
Snapshots from the broker arrive on the network thread and are verified on the keeper's own thread (100,000
members take a second; only the latest pending one counts). A genuine snapshot the floor admits is stored, raises
the floor, and is handed to the door loop, which decides with it from its next input. A refused snapshot is
counted (`snapshot_refused.<reason>`) and logged, and changes nothing.
"""

from __future__ import annotations

import hashlib
import logging
import threading
from datetime import UTC, datetime
from pathlib import Path

from edge.access.index import SnapshotIndex
from edge.access.signed import TrustedKeys
from edge.access.snapshot import apply_snapshot
from edge.bus import Message
from edge.clock import Clock
from edge.door.floor import FloorState, VersionFloor, load_floor, save_floor, starting_floor
from edge.door.inbox import Reply, SnapshotApplied
from edge.door.loop import DoorLoop
from edge.door.store import FLOOR_FILE, SNAPSHOT_FILE, load_snapshot
from edge.door.unit import MembersInfo
from edge.errors import PayloadError, StoreError
from edge.files import write_atomic
from edge.metrics import Counters

log = logging.getLogger(__name__)

HAND_OVER_S = 5.0
"""How long `apply` waits for the loop to put a snapshot in force before it reports it applied anyway."""


class SnapshotKeeper:
    """The applied member snapshot, its floor, and the thread that verifies new ones."""

    def __init__(
        self,
        folder: Path,
        keys: TrustedKeys,
        *,
        site: str,
        min_version: int,
        clock: Clock,
        counters: Counters,
        loop: DoorLoop,
    ) -> None:
        self.folder = folder
        self.keys = keys
        self.site = site
        self.clock = clock
        self.counters = counters
        self.loop = loop
        self.index: SnapshotIndex | None = None
        self.members = MembersInfo()
        self.floor: VersionFloor | None = None  # the oldest snapshot this door may still apply
        self._applied_digest: bytes | None = None
        self._pending: bytes | None = None
        self._ready = threading.Condition()
        self._stopping = False
        self._thread = threading.Thread(target=self._run, name="snapshots", daemon=True)
        self._load(min_version)

    # -- start ---------------------------------------------------------------------------------------------

    def _load(self, min_version: int) -> None:
        """The stored snapshot, if it verifies and its floor admits it; the floor from its file, that snapshot and
        the configured minimum."""
        saved, state = load_floor(self.folder / FLOOR_FILE)
        floor = starting_floor(saved, min_version)
        path = self.folder / SNAPSHOT_FILE
        try:
            index = load_snapshot(path, self.keys, site=self.site)
            digest = hashlib.sha256(path.read_bytes()).digest() if index is not None else b""
            if index is not None and floor is not None:
                floor.check(index.version, digest.hex())  # an older genuine snapshot put back on the card
        except (PayloadError, StoreError, OSError) as exc:
            reason = exc.reason if isinstance(exc, PayloadError) else "unreadable"
            self.counters.inc(f"snapshot_refused.{reason}")
            log.error("stored member snapshot refused (%s): deciding with no members until a new one arrives", exc)
            index = None
        if index is not None:
            self.index = index
            self._applied_digest = digest
            floor = VersionFloor(index.version, digest.hex()).raised_to(floor)
            applied = datetime.fromtimestamp(path.stat().st_mtime, UTC)  # written when it was applied
            self.members = MembersInfo(index.version, applied)
            log.info("member snapshot v%s (%d members) loaded from disk", index.version, index.member_count)
        else:
            log.warning("no member snapshot: every badge is unknown until one is pushed")
        self.floor = floor
        self._check_floor_file(state, saved)

    def _check_floor_file(self, state: FloorState, saved: VersionFloor | None) -> None:
        """Say loudly when the floor file was lost or corrupt, and write the floor in force back to it."""
        path = self.folder / FLOOR_FILE
        if state is not FloorState.OK:
            self.counters.inc(f"snapshot_floor.{state}")
            if self.floor is not None:
                source = "the stored snapshot" if self.index is not None else "access.min_snapshot_version"
                rebuilt = f"rebuilt at version {self.floor.version} from {source}"
                log.error("member snapshot floor %s is %s: %s", path, state, rebuilt)
            elif state is FloorState.MISSING:
                log.warning(
                    "no member snapshot and no snapshot floor yet (a new door, or its state was lost): the first "
                    "genuine snapshot is applied whatever its version; access.min_snapshot_version sets a minimum"
                )
            else:
                log.error(
                    "member snapshot floor %s is corrupt and there is no stored snapshot nor "
                    "access.min_snapshot_version: the first genuine snapshot will be applied whatever its version",
                    path,
                )
        if self.floor is not None and self.floor != saved:
            self._save_floor(self.floor)

    def _save_floor(self, floor: VersionFloor) -> None:
        try:
            save_floor(self.folder / FLOOR_FILE, floor)
        except Exception as exc:
            self.counters.inc("store_errors")
            log.error(
                "could not persist the member snapshot floor (%s): if the snapshot file is lost too, an older "
                "snapshot could be applied after a restart",
                exc,
            )

    # -- new snapshots -------------------------------------------------------------------------------------

    def on_message(self, message: Message) -> None:
        """A snapshot from the broker (network thread): verified later on the keeper's thread, only the latest."""
        with self._ready:
            self._pending = message.payload
            self._ready.notify_all()

    def apply(self, raw: bytes) -> bool:
        """Verify a snapshot, store it, raise the floor and hand it to the loop; True if applied."""
        digest = hashlib.sha256(raw).digest()
        if digest == self._applied_digest:
            return False  # the retained copy of the applied snapshot, seen again after a reconnect
        current = self.index.version if self.index is not None else None
        try:
            index = apply_snapshot(raw, self.keys, site=self.site, applied_version=current)
            if self.floor is not None:
                self.floor.check(index.version, digest.hex())  # also when the stored snapshot was lost
        except PayloadError as exc:
            # `not_newer` here is a genuine but older (or different, same-version) snapshot: a rollback attempt.
            self.counters.inc(f"snapshot_refused.{exc.reason}")
            log.warning("member snapshot refused: %s", exc)
            return False
        try:
            write_atomic(self.folder / SNAPSHOT_FILE, raw)
        except Exception as exc:
            self.counters.inc("store_errors")
            log.error("could not persist the member snapshot (%s); applying it anyway", exc)
        # After the snapshot (a crash in between finds the new floor in the stored snapshot), before it is in force.
        # A floor that cannot be written is counted; the snapshot still applies: a revocation must not wait for disk.
        self.floor = VersionFloor(index.version, digest.hex())
        self._save_floor(self.floor)
        members = MembersInfo(index.version, self.clock.now())
        in_force = Reply()
        if not self.loop.post(SnapshotApplied(index, members), in_force):
            self.counters.inc("snapshot_errors")
            log.error("member snapshot v%s not applied: the door loop is full; it is taken when resent", index.version)
            return False
        self.index, self.members, self._applied_digest = index, members, digest
        in_force.wait(HAND_OVER_S)
        self.counters.inc("snapshots_applied")
        log.info("member snapshot v%s applied (%d members)", index.version, index.member_count)
        return True

    # -- the thread ----------------------------------------------------------------------------------------

    def start(self) -> None:
        """Start verifying snapshots from the broker."""
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        """Stop the thread (a snapshot being verified is finished first, within `timeout`)."""
        with self._ready:
            self._stopping = True
            self._ready.notify_all()
        if self._thread.is_alive() and self._thread is not threading.current_thread():
            self._thread.join(timeout)

    def alive(self) -> bool:
        """The keeper's thread runs."""
        return self._thread.is_alive()

    def _run(self) -> None:
        while True:
            with self._ready:
                self._ready.wait_for(lambda: self._pending is not None or self._stopping)
                if self._stopping:
                    return
                raw, self._pending = self._pending, None
            if raw is not None:
                try:
                    self.apply(raw)
                except Exception:
                    self.counters.inc("snapshot_errors")
                    log.exception("applying a member snapshot failed; keeping the applied one")
