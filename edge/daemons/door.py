"""`edge door`: readers -> rules -> relay, all in-process; the network is never on the decision path.

The service owns the node's doors. A badge read on a reader thread is hashed into a token, decided against the
applied member snapshot (an in-memory index), acted on at the relay, and only then logged as an `access` event in
the durable outbox. Member snapshots and staff commands arrive over MQTT, are verified (signature, site,
version or freshness and nonce) and applied; a refused message is counted and logged and changes nothing.

Node status counters (`P/node/{node}/status`): `access.granted`, `access.denied.<reason>`,
`command_obeyed.<action>`, `command_refused.<reason>`, `snapshots_applied`, `snapshot_refused.<reason>`,
`snapshot_floor.<missing|corrupt>`, `reader.<name>.<health counter>` and `reader.<name>.down`,
`door.<name>.<controller counter>`, `members_version`, `members_floor`.
"""

from __future__ import annotations

import hashlib
import json
import logging
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from edge.access.commands import Action, ReplayGuard, verify_command
from edge.access.floor import FloorState, VersionFloor, load_floor, save_floor, starting_floor
from edge.access.index import SnapshotIndex
from edge.access.rules import AccessRequest, Decision, Direction, DoorContext, decide, record
from edge.access.signed import TrustedKeys
from edge.access.snapshot import apply_snapshot
from edge.access.store import load_replay_guard, load_snapshot, load_tracking, save_replay_guard, save_tracking
from edge.access.tracking import PassbackState, SeatState
from edge.bus import Bus, Message
from edge.clock import ScaledClock, SystemClock
from edge.config.access import AccessConfig
from edge.config.doors import DoorConfig
from edge.contract import DoorAccess, DoorMode, Reason, badge_token
from edge.contract.homeassistant import Discovery
from edge.daemons.door_unit import DoorUnit, MembersInfo, Pending
from edge.daemons.launch import Launch
from edge.daemons.node_files import load_access_keys, load_node_badge_key
from edge.errors import PayloadError, StoreError
from edge.files import write_atomic
from edge.hardware import BadgeReader, build_reader
from edge.hardware.door_io import DoorHardware
from edge.metrics import Counters
from edge.timesync import clock_synchronised

log = logging.getLogger(__name__)

SNAPSHOT_FILE = "members.snapshot"
FLOOR_FILE = "members.floor"
REPLAY_FILE = "commands.json"
TRACKING_FILE = "tracking.json"
READERS_OPEN_S = 2.0


class DoorService:
    """Every door of the node, their readers, the member snapshot and the command channel."""

    def __init__(self, launch: Launch, *, clock_sync: Callable[[], bool | None] | None = None) -> None:
        self.config = launch.config
        self.clock = launch.clock
        self.pin_factory = launch.pin_factory
        self.counters = Counters()
        self.state_dir = self.config.state_dir
        self.state_dir.mkdir(parents=True, exist_ok=True)
        access = self.config.access
        assert access is not None  # enforced by the config's cross-check
        self.access: AccessConfig = access
        self._key = load_node_badge_key(self.config)
        # Reader timings (Wiegand gaps, card re-arm) are physical: readers run on real time even under --sim-clock.
        self._reader_clock = SystemClock()
        # Whether the kernel says NTP synchronised the clock (injectable: the clock is a test boundary).
        self._clock_sync = clock_sync
        keys = load_access_keys(access)
        self.snapshot_keys: TrustedKeys = keys.snapshot
        self.command_keys: TrustedKeys | None = keys.command
        self.bus = Bus(self.config, "door", clock=self.clock, counters=self.counters, status_extra=self._status)
        if access.home_assistant:
            self.bus.announce(self.discovery())
        self.members = MembersInfo()
        self.index: SnapshotIndex | None = None
        self._applied_digest: bytes | None = None
        self.floor: VersionFloor | None = None  # the oldest snapshot this door may still apply (edge.access.floor)
        self._load_stored_snapshot()
        self.guard: ReplayGuard = load_replay_guard(self.state_dir / REPLAY_FILE, now=self.clock.now().timestamp())
        self.clock_trusted = self._clock_trusted()
        self.seats = SeatState()  # seat limits count entries at every door of the node
        self.units: dict[str, DoorUnit] = {}
        self._passback: dict[str, PassbackState | None] = {}
        self.readers: list[BadgeReader] = []
        self._decide_lock = threading.Lock()  # passback and seat state are shared by every reader thread
        self._pending_snapshot: bytes | None = None
        self._snapshot_ready = threading.Condition()
        self._stopping = threading.Event()
        self._stopped = False
        self._bus_started = False
        self._snapshot_thread = threading.Thread(target=self._snapshot_loop, name="snapshots", daemon=True)

    def discovery(self) -> list[tuple[str, bytes]]:
        """Home Assistant discovery configs for the node and each of its doors."""
        discovery = Discovery(self.bus.topics, self.config.node, prefix=self.access.discovery_prefix)
        announcements = [discovery.node_entity()]
        for door in self.config.doors:
            announcements += discovery.door(
                door.name,
                contact=door.contact is not None,
                lock_sensor=door.lock_sensor is not None,
                readers=bool(door.readers),
            )
        return [(a.topic, a.payload) for a in announcements]

    # -- start and stop ----------------------------------------------------------------------------------

    def start(self) -> None:
        """Lock every relay first, then start the bus, the background loops and the readers."""
        try:
            for door in self.config.doors:
                self._add_door(door)
            # Seat counts and who is inside survive a restart: a crash at noon does not give an account new seats.
            load_tracking(self.state_dir / TRACKING_FILE, self.seats, self._passback)
            self.bus.subscribe(self.bus.topics.members(), self._on_members)
            for door in self.config.doors:
                # Retain-as-published (MQTT 5): a command published retained is refused even when it arrives live.
                self.bus.subscribe(
                    self.bus.topics.door_command(door.name), self._command_handler(door.name), retain_as_published=True
                )
            self.bus.start()
            self._bus_started = True
            self._snapshot_thread.start()
            for reader in self.readers:
                reader.start()
            self._wait_readers(READERS_OPEN_S)
            self.refresh()
        except BaseException:
            self.stop()
            raise

    def _wait_readers(self, timeout: float) -> None:
        """Give serial readers a moment to open their ports, so "ready" means cards are read (a reader that cannot
        open is reported as a fault and retried in the background; start goes on)."""
        deadline = time.monotonic() + timeout
        for reader in self.readers:
            wait = getattr(reader, "wait_connected", None)
            if callable(wait):
                wait(max(0.0, deadline - time.monotonic()))

    def _add_door(self, door: DoorConfig) -> None:
        hardware = DoorHardware.from_config(door, pin_factory=self.pin_factory)  # relay locked before anything else
        unit = DoorUnit(
            door,
            hardware,
            clock=self.clock,
            bus=self.bus,
            counters=self.counters,
            members=lambda: self.members,
            mode=self._stored_mode(door),
        )
        self.units[door.name] = unit
        self._passback[door.name] = PassbackState() if door.anti_passback else None
        unit.start()
        for bound in door.readers:
            self.readers.append(
                build_reader(
                    bound.reader,
                    pin_factory=self.pin_factory,
                    on_scan=self._scan_handler(door.name, bound.reader.name, Direction(bound.direction)),
                    on_fault=self._fault_handler(door.name, bound.reader.name),
                    clock=self._reader_clock,
                )
            )

    def stop(self) -> None:
        """Lock every door, stop readers and loops, flush the bus. Never raises; idempotent."""
        if self._stopped:
            return
        self._stopped = True
        self._stopping.set()
        with self._snapshot_ready:
            self._snapshot_ready.notify_all()
        for unit in self.units.values():  # doors first: whatever fails after, they are locked
            try:
                unit.stop()
            except Exception:
                log.exception("door %s: stopping failed", unit.name)
        for reader in self.readers:
            try:
                reader.close()
            except Exception:
                log.exception("reader %s: closing failed", reader.name)
        try:
            if self._bus_started:
                self.bus.stop()
            else:
                self.bus.outbox.close()
        except Exception:
            log.exception("bus: stopping failed")

    def alive(self) -> bool:
        """Every door, reader and bus thread runs."""
        return (
            self.bus.alive
            and all(unit.alive() for unit in self.units.values())
            and all(reader.running and not reader.hung for reader in self.readers)
            and self._snapshot_thread.is_alive()
        )

    def refresh(self) -> None:
        """Periodic work from the main loop: clock trust and unlocked schedules. Never raises."""
        try:
            self._refresh()
        except Exception:
            self.counters.inc("refresh_errors")
            log.exception("periodic refresh failed")

    def _refresh(self) -> None:
        trusted = self._clock_trusted()
        if trusted != self.clock_trusted:
            log.warning("clock is %s", "now trusted" if trusted else "no longer trusted")
            self.clock_trusted = trusted
        now = self.clock.now()
        index = self.index
        closed_days = frozenset(index.closures) if index is not None else frozenset()
        for door in self.config.doors:
            if door.unlocked_schedule.windows:
                # An untrusted clock ends the schedule: judged on a wrong clock it could unlock a door at night.
                active = trusted and door.unlocked_schedule.active_at(now, self.config.tz, closed_days)
                self.units[door.name].set_scheduled_unlocked(active)

    def _clock_trusted(self) -> bool:
        if self.access.clock_trust == "rtc":
            return True
        if self._clock_sync is not None:
            return bool(self._clock_sync())
        return isinstance(self.clock, ScaledClock) or bool(clock_synchronised())

    # -- badges ------------------------------------------------------------------------------------------

    def _scan_handler(self, door: str, reader: str, direction: Direction) -> Callable[[str, float], None]:
        def on_scan(uid: str, at: float) -> None:
            self.on_badge(door, reader, direction, badge_token(self._key, uid), at)

        return on_scan

    def on_badge(self, door: str, reader: str, direction: Direction, token: str, at: float) -> Decision:
        """Decide, act at the relay, then log the decision (durably) with its latency since `at`.

        `at` is when the reader had the complete frame, in the readers' (real) monotonic clock.
        """
        unit = self.units[door]
        request = AccessRequest(token, self.clock.now(), direction)
        latency: list[float] = []
        events: list[Pending] = []

        def relay_done() -> None:
            latency.append((self._reader_clock.monotonic() - at) * 1000)

        with self._decide_lock:
            index = self.index
            context = DoorContext(
                mode=unit.mode, clock_trusted=self.clock_trusted, passback=self._passback[door], seats=self.seats
            )
            if index is None:  # no snapshot yet: nobody is known (an unlocked door is open anyway)
                unlocked = context.mode == DoorMode.UNLOCKED
                decision = Decision(unlocked, Reason.GRANTED if unlocked else Reason.UNKNOWN_BADGE, None)
            else:
                decision = decide(request, index, context)
            step = unit.decide(decision.granted, relay_done, events)
            if step is None and unit.stopped:
                log.info("door %s: stopping; a badge read now is not acted on", door)
                return decision
            if decision.granted and (step is None or unit.relay_locked()):
                # The member did not get in: say so, and do not count a seat or an entry for passback.
                log.error("door %s: access granted but the door could not be unlocked (see relay_errors)", door)
                decision = Decision(False, Reason.DOOR_FAULT, decision.member)
            if index is not None and record(request, decision, index, context):
                self._save_tracking()
        member = decision.member
        self.counters.inc("access.granted" if decision.granted else f"access.denied.{decision.reason}")
        # A bogus frame time (a reader's clock) must not cost the event: latency is kept within the contract's range.
        latency_ms = min(max(latency[0] if latency else 0.0, 0.0), 3_600_000.0)
        try:
            access = DoorAccess(
                door=door,
                reader=reader,
                token=token,
                member=member.id if member is not None else None,
                granted=decision.granted,
                reason=decision.reason,
                latency_ms=round(latency_ms, 3),
            )
            self.bus.publish_event(access, ts=request.at)
        except Exception:
            self.counters.inc("publish_failures")
            log.exception("door %s: could not store the access event", door)
        unit.publish(events)
        # No member id or token in the log: the journal outlives the access records' 3 months (the event carries them).
        log.info(
            "door %s: %s at reader %s (%s)", door, "granted" if decision.granted else "denied", reader, decision.reason
        )
        return decision

    def _save_tracking(self) -> None:
        """Persist seat and passback state (called under the decision lock); a failure is counted, not raised."""
        try:
            save_tracking(self.state_dir / TRACKING_FILE, self.seats, self._passback)
        except Exception as exc:
            self.counters.inc("store_errors")
            log.error("could not save the seat and passback state (%s); decisions go on", exc)

    def _fault_handler(self, door: str, reader: str) -> Callable[[bool, str], None]:
        def on_fault(active: bool, detail: str) -> None:
            self.units[door].reader_status(reader, not active)

        return on_fault

    # -- member snapshots --------------------------------------------------------------------------------

    def _load_stored_snapshot(self) -> None:
        """The stored snapshot, if it verifies and its floor admits it; the floor from its file, that snapshot and
        the configured minimum."""
        saved, state = load_floor(self.state_dir / FLOOR_FILE)
        floor = starting_floor(saved, self.access.min_snapshot_version)
        path = self.state_dir / SNAPSHOT_FILE
        try:
            index = load_snapshot(path, self.snapshot_keys, site=self.config.site)
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
        path = self.state_dir / FLOOR_FILE
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
            save_floor(self.state_dir / FLOOR_FILE, floor)
        except Exception as exc:
            self.counters.inc("store_errors")
            log.error(
                "could not persist the member snapshot floor (%s): if the snapshot file is lost too, an older "
                "snapshot could be applied after a restart",
                exc,
            )

    def _on_members(self, message: Message) -> None:
        with self._snapshot_ready:  # verifying 100,000 members takes a second: not on the network thread
            self._pending_snapshot = message.payload  # only the latest counts
            self._snapshot_ready.notify_all()

    def _snapshot_loop(self) -> None:
        while not self._stopping.is_set():
            with self._snapshot_ready:
                self._snapshot_ready.wait_for(lambda: self._pending_snapshot is not None or self._stopping.is_set())
                raw, self._pending_snapshot = self._pending_snapshot, None
            if raw is not None:
                try:
                    self.apply_members(raw)
                except Exception:
                    self.counters.inc("snapshot_errors")
                    log.exception("applying a member snapshot failed; keeping the applied one")

    def apply_members(self, raw: bytes) -> bool:
        """Verify and apply a snapshot, persist it, report the new version in every door's state; True if applied."""
        digest = hashlib.sha256(raw).digest()
        if digest == self._applied_digest:
            return False  # the retained copy of the applied snapshot, seen again after a reconnect
        current = self.index.version if self.index is not None else None
        try:
            index = apply_snapshot(raw, self.snapshot_keys, site=self.config.site, applied_version=current)
            if self.floor is not None:
                self.floor.check(index.version, digest.hex())  # also when the stored snapshot was lost
        except PayloadError as exc:
            # `not_newer` here is a genuine but older (or different, same-version) snapshot: a rollback attempt.
            self.counters.inc(f"snapshot_refused.{exc.reason}")
            log.warning("member snapshot refused: %s", exc)
            return False
        try:
            write_atomic(self.state_dir / SNAPSHOT_FILE, raw)
        except Exception as exc:
            self.counters.inc("store_errors")
            log.error("could not persist the member snapshot (%s); applying it anyway", exc)
        # After the snapshot (a crash in between finds the new floor in the stored snapshot), before it is in force.
        # A floor that cannot be written is counted; the snapshot still applies: a revocation must not wait for disk.
        self.floor = VersionFloor(index.version, digest.hex())
        self._save_floor(self.floor)
        with self._decide_lock:
            self.index = index
            self._applied_digest = digest
            self.members = MembersInfo(index.version, self.clock.now())
        self.counters.inc("snapshots_applied")
        log.info("member snapshot v%s applied (%d members)", index.version, index.member_count)
        for unit in self.units.values():
            unit.publish_state()
        self.refresh()  # its closures may start or end an unlocked schedule
        return True

    # -- commands ----------------------------------------------------------------------------------------

    def _command_handler(self, door: str) -> Callable[[Message], None]:
        def on_command(message: Message) -> None:
            self.on_command(door, message.payload, retained=message.retain)

        return on_command

    def _refuse(self, door: str, reason: str, detail: str) -> None:
        self.counters.inc(f"command_refused.{reason}")
        log.warning("door %s: command refused (%s): %s", door, reason, detail)

    def on_command(self, door: str, raw: bytes, *, retained: bool) -> Action | None:
        """Verify and obey a staff command; anything wrong is refused, counted and logged. The action obeyed."""
        if self.command_keys is None:
            self._refuse(door, "disabled", "no access.command_keys configured: this door takes no remote command")
            return None
        if retained:
            self._refuse(door, "retained", "a retained command never acts")
            return None
        if not self.clock_trusted:
            self._refuse(door, "clock_untrusted", "the clock is not synchronised: freshness cannot be checked")
            return None
        try:
            command = verify_command(
                raw,
                retained=retained,
                trusted=self.command_keys,
                site=self.config.site,
                door=door,
                now=self.clock.now(),
                guard=self.guard,
                max_skew_s=self.access.command_max_skew_s,
            )
        except PayloadError as exc:
            self._refuse(door, exc.reason, str(exc))
            return None
        try:
            # The nonce is on disk before the command acts: a restart cannot make it replayable.
            save_replay_guard(self.state_dir / REPLAY_FILE, self.guard)
        except Exception as exc:
            self.counters.inc("store_errors")
            self._refuse(door, "store_failed", f"could not persist the replay guard: {exc}")
            return None
        unit = self.units[door]
        self.counters.inc(f"command_obeyed.{command.action}")
        log.info("door %s: obeying %s (nonce %s…)", door, command.action, command.nonce[:8])
        if command.action == Action.UNLOCK_ONCE:
            unit.step(unit.controller.grant)
        else:
            mode = DoorMode(str(command.action))
            self._store_mode(door, mode)  # before acting: a lockdown must survive a crash right after it
            unit.set_mode(mode)
        return command.action

    def _stored_mode(self, door: DoorConfig) -> DoorMode:
        path = self.state_dir / f"door-{door.name}.json"
        try:
            data = json.loads(path.read_text())
            return DoorMode(data["mode"])
        except FileNotFoundError:
            return DoorMode(door.mode)
        except (OSError, ValueError, KeyError, TypeError) as exc:
            log.error("door %s: stored mode unreadable (%s); starting in the configured mode", door.name, exc)
            return DoorMode(door.mode)

    def _store_mode(self, door: str, mode: DoorMode) -> None:
        try:
            write_atomic(self.state_dir / f"door-{door}.json", json.dumps({"mode": str(mode)}).encode())
        except Exception:
            self.counters.inc("store_errors")
            log.exception("could not persist the mode of door %s", door)

    # -- status ------------------------------------------------------------------------------------------

    def _status(self) -> dict[str, Any]:
        counters: dict[str, int] = {}
        for unit in list(self.units.values()):
            counters.update(unit.status_counters())
        for reader in list(self.readers):
            for key, value in reader.health.snapshot().items():
                counters[f"reader.{reader.name}.{key}"] = value
            counters[f"reader.{reader.name}.down"] = int(reader.fault is not None)
        counters["members_version"] = self.members.version or 0
        counters["members_floor"] = self.floor.version if self.floor is not None else 0
        return {"clock_synced": self.clock_trusted, "counters": counters}
