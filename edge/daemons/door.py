"""`edge door`: readers -> rules -> relay, all in-process; the network is never on the decision path.

The service owns the node's doors. A badge read on a reader thread is hashed into a token, decided against the
applied member snapshot (an in-memory index), acted on at the relay, and only then logged as an `access` event in
the durable outbox. Member snapshots and staff commands arrive over MQTT, are verified (signature, site,
version or freshness and nonce) and applied; a refused message is counted and logged and changes nothing.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from edge.access.commands import Action, ReplayGuard, verify_command
from edge.access.door_schedule import scheduled_unlocked
from edge.access.files import write_atomic
from edge.access.index import SnapshotIndex
from edge.access.keys import load_trusted_keys
from edge.access.rules import AccessRequest, Direction, DoorContext, decide, record
from edge.access.snapshot import apply_snapshot
from edge.access.store import load_replay_guard, load_snapshot, save_replay_guard
from edge.access.tracking import PassbackState, SeatState
from edge.bus import Bus, Message
from edge.clock import ScaledClock, real_seconds
from edge.config import read_secret
from edge.config.access import AccessConfig
from edge.config.doors import DoorConfig
from edge.contract import DoorAccess, DoorMode, Reason, badge_token
from edge.daemons.door_unit import DoorUnit, MembersInfo, describe
from edge.daemons.launch import Launch
from edge.errors import ConfigError, PayloadError
from edge.hardware import BadgeReader, build_reader
from edge.hardware.door_io import DoorHardware
from edge.metrics import Counters
from edge.timesync import clock_synchronised

log = logging.getLogger(__name__)

SNAPSHOT_FILE = "members.snapshot"
REPLAY_FILE = "commands.json"
UNKNOWN_TOKEN = "0" * 32


class DoorService:
    """Every door of the node, their readers, the member snapshot and the command channel."""

    def __init__(self, launch: Launch) -> None:
        self.config = launch.config
        self.clock = launch.clock
        self.pin_factory = launch.pin_factory
        self.counters = Counters()
        self.state_dir = self.config.state_dir
        self.state_dir.mkdir(parents=True, exist_ok=True)
        access = self.config.access
        assert access is not None and self.config.badge_key_file is not None  # enforced by the config's cross-check
        self.access: AccessConfig = access
        self._key = read_secret(self.config.badge_key_file)
        try:
            self.trusted = load_trusted_keys(list(access.public_keys))
        except ConfigError as exc:
            raise ConfigError([f"access.public_keys: {issue}" for issue in exc.issues]) from None
        self.bus = Bus(self.config, "door", clock=self.clock, counters=self.counters, status_extra=self._status)
        self.members = MembersInfo()
        self.index: SnapshotIndex | None = None
        self._load_stored_snapshot()
        self.guard: ReplayGuard = load_replay_guard(self.state_dir / REPLAY_FILE, now=self.clock.now().timestamp())
        self.clock_trusted = self._clock_trusted()
        self.seats = SeatState()
        self.units: dict[str, DoorUnit] = {}
        self.contexts: dict[str, DoorContext] = {}
        self.readers: list[BadgeReader] = []
        self._pending_snapshot: bytes | None = None
        self._snapshot_ready = threading.Condition()
        self._stopping = threading.Event()
        self._snapshot_thread = threading.Thread(target=self._snapshot_loop, name="snapshots", daemon=True)

    # -- start and stop ----------------------------------------------------------------------------------

    def start(self) -> None:
        """Lock every relay first, then start readers, the bus and the background loops."""
        try:
            for door in self.config.doors:
                self._add_door(door)
        except BaseException:
            self.stop()
            raise
        self.bus.subscribe(self.bus.topics.members(), self._on_members)
        for door in self.config.doors:
            self.bus.subscribe(self.bus.topics.door_command(door.name), self._command_handler(door.name))
        self.bus.start()
        self._snapshot_thread.start()
        for reader in self.readers:
            reader.start()
        self.refresh()

    def _add_door(self, door: DoorConfig) -> None:
        hardware = DoorHardware.from_config(door, pin_factory=self.pin_factory)  # relay locked before anything else
        mode = self._stored_mode(door)
        unit = DoorUnit(
            door,
            hardware,
            clock=self.clock,
            bus=self.bus,
            counters=self.counters,
            members=lambda: self.members,
            mode=mode,
        )
        self.units[door.name] = unit
        self.contexts[door.name] = DoorContext(
            mode=mode,
            clock_trusted=self.clock_trusted,
            passback=PassbackState() if door.anti_passback else None,
            seats=self.seats,
        )
        unit.start()
        for bound in door.readers:
            direction = Direction(bound.direction)
            self.readers.append(
                build_reader(
                    bound.reader,
                    pin_factory=self.pin_factory,
                    on_scan=self._scan_handler(door.name, bound.reader.name, direction),
                    on_fault=self._fault_handler(door.name, bound.reader.name),
                    clock=self.clock,
                )
            )

    def stop(self) -> None:
        """Lock every door, stop readers and loops, flush the bus. Never raises."""
        self._stopping.set()
        with self._snapshot_ready:
            self._snapshot_ready.notify_all()
        for unit in self.units.values():
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
            self.bus.stop()
        except Exception:
            log.exception("bus: stopping failed")

    def alive(self) -> bool:
        """Every door, reader and bus thread runs."""
        return (
            self.bus.alive
            and all(unit.alive() for unit in self.units.values())
            and all(reader.running for reader in self.readers)
            and self._snapshot_thread.is_alive()
        )

    def refresh(self) -> None:
        """Periodic work from the main loop: clock trust and unlocked schedules."""
        trusted = self._clock_trusted()
        if trusted != self.clock_trusted:
            log.warning("clock is %s", "now trusted" if trusted else "no longer trusted")
            self.clock_trusted = trusted
            for name, context in self.contexts.items():
                self.contexts[name] = replace(context, clock_trusted=trusted)
        if not trusted:
            return  # a schedule judged on a wrong clock could unlock a door at night
        now = self.clock.now()
        for door in self.config.doors:
            if door.unlocked_schedule:
                active = scheduled_unlocked(door.unlocked_schedule, now, self.config.tz)
                self.units[door.name].set_scheduled_unlocked(active)

    def _clock_trusted(self) -> bool:
        if self.access.clock_trust == "rtc" or isinstance(self.clock, ScaledClock):
            return True
        return bool(clock_synchronised())

    # -- badges ------------------------------------------------------------------------------------------

    def _scan_handler(self, door: str, reader: str, direction: Direction) -> Any:
        def on_scan(uid: str, at: float) -> None:
            self.on_badge(door, reader, direction, badge_token(self._key, uid), at)

        return on_scan

    def on_badge(self, door: str, reader: str, direction: Direction, token: str, at: float) -> None:
        """Decide, act at the relay, then log the decision (durably) with its latency."""
        unit = self.units[door]
        context = self.contexts[door]
        request = AccessRequest(token, self.clock.now(), direction)
        index = self.index
        if index is None:
            decision_granted, reason, member = context.mode == DoorMode.UNLOCKED, Reason.UNKNOWN_BADGE, None
            if decision_granted:
                reason = Reason.GRANTED
            decision = None
        else:
            decision = decide(request, index, context)
            decision_granted, reason = decision.granted, decision.reason
            member = decision.member
        latency: list[float] = []

        def relay_done() -> None:
            latency.append(real_seconds(self.clock, self.clock.monotonic() - at) * 1000)

        unit.decide(decision_granted, relay_done)
        if decision is not None and index is not None:
            record(request, decision, index, context)
        self.counters.inc("access.granted" if decision_granted else f"access.denied.{reason}")
        try:
            self.bus.publish_event(
                DoorAccess(
                    door=door,
                    reader=reader,
                    token=token,
                    member=member.id if member is not None else None,
                    granted=decision_granted,
                    reason=reason,
                    latency_ms=round(latency[0] if latency else 0.0, 3),
                ),
                ts=request.at,
            )
        except Exception:
            self.counters.inc("publish_failures")
            log.exception("door %s: could not store the access event", door)
        log.info(
            "door %s: %s %s (%s)",
            door,
            "granted" if decision_granted else "denied",
            member.id if member is not None else f"token {token[:8]}",
            reason,
        )

    def _fault_handler(self, door: str, reader: str) -> Any:
        def on_fault(active: bool, detail: str) -> None:
            unit = self.units[door]
            unit.step(lambda now: unit.controller.reader_status(reader, not active, now))

        return on_fault

    # -- member snapshots --------------------------------------------------------------------------------

    def _load_stored_snapshot(self) -> None:
        path = self.state_dir / SNAPSHOT_FILE
        try:
            self.index = load_snapshot(path, self.trusted, site=self.config.site)
        except PayloadError as exc:
            self.counters.inc(f"snapshot_refused.{exc.reason}")
            log.error("stored member snapshot refused (%s): deciding with no members until a new one arrives", exc)
            return
        if self.index is not None:
            applied = datetime.fromtimestamp(path.stat().st_mtime, UTC)
            self.members = MembersInfo(self.index.version, applied)
            log.info("member snapshot v%s (%d members) loaded from disk", self.index.version, self.index.member_count)
        else:
            log.warning("no member snapshot yet: every badge is unknown until one is pushed")

    def _on_members(self, message: Message) -> None:
        with self._snapshot_ready:  # verifying 100,000 members takes a second: not on the network thread
            self._pending_snapshot = message.payload
            self._snapshot_ready.notify_all()

    def _snapshot_loop(self) -> None:
        while not self._stopping.is_set():
            with self._snapshot_ready:
                self._snapshot_ready.wait_for(lambda: self._pending_snapshot is not None or self._stopping.is_set())
                raw, self._pending_snapshot = self._pending_snapshot, None
            if raw is not None:
                self.apply_members(raw)

    def apply_members(self, raw: bytes) -> None:
        """Verify and apply a snapshot, persist it, report the new version in every door's state."""
        current = self.index.version if self.index is not None else None
        try:
            index = apply_snapshot(raw, self.trusted, site=self.config.site, applied_version=current)
        except PayloadError as exc:
            if exc.reason == "not_newer":
                return  # the retained copy, seen again after a reconnect
            self.counters.inc(f"snapshot_refused.{exc.reason}")
            log.warning("member snapshot refused: %s", exc)
            return
        try:
            write_atomic(self.state_dir / SNAPSHOT_FILE, raw)
        except Exception as exc:
            self.counters.inc("store_errors")
            log.error("could not persist the member snapshot (%s); applying it anyway", exc)
        self.index = index
        self.members = MembersInfo(index.version, self.clock.now())
        self.counters.inc("snapshots_applied")
        log.info("member snapshot v%s applied (%d members)", index.version, index.member_count)
        for unit in self.units.values():
            unit.publish_state()

    # -- commands ----------------------------------------------------------------------------------------

    def _command_handler(self, door: str) -> Any:
        def on_command(message: Message) -> None:
            self.on_command(door, message.payload, retained=message.retain)

        return on_command

    def on_command(self, door: str, raw: bytes, *, retained: bool) -> None:
        """Verify and obey a staff command; anything wrong is refused, counted and logged."""
        if not self.clock_trusted:
            self.counters.inc("command_refused.clock_untrusted")
            log.warning("door %s: command refused: the clock is not trusted, freshness cannot be checked", door)
            return
        try:
            command = verify_command(
                raw,
                retained=retained,
                trusted=self.trusted,
                site=self.config.site,
                door=door,
                now=self.clock.now(),
                guard=self.guard,
                max_skew_s=self.access.command_max_skew_s,
            )
        except PayloadError as exc:
            self.counters.inc(f"command_refused.{exc.reason}")
            log.warning("door %s: command refused (%s)", door, exc)
            return
        try:
            save_replay_guard(self.state_dir / REPLAY_FILE, self.guard)
        except Exception:
            self.counters.inc("store_errors")
            log.exception("could not persist the replay guard")
        unit = self.units[door]
        self.counters.inc(f"command_obeyed.{command.action}")
        log.info("door %s: obeying %s", door, command.action)
        if command.action == Action.UNLOCK_ONCE:
            unit.step(unit.controller.grant)
            return
        mode = DoorMode(str(command.action))
        unit.step(lambda now: unit.controller.set_mode(mode, now))
        self.contexts[door] = replace(self.contexts[door], mode=mode)
        self._store_mode(door, mode)

    def _stored_mode(self, door: DoorConfig) -> DoorMode:
        try:
            data = json.loads((self.state_dir / f"door-{door.name}.json").read_text())
            return DoorMode(data["mode"])
        except (OSError, ValueError, KeyError, TypeError):
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
        for unit in self.units.values():
            counters.update(describe(unit))
        for reader in self.readers:
            for key, value in reader.health.snapshot().items():
                counters[f"reader.{reader.name}.{key}"] = value
        counters["members_version"] = self.members.version or 0
        return {"clock_synced": self.clock_trusted, "counters": counters}


def wait_path(path: Path, timeout: float) -> bool:
    """Wait for a file to appear (used by tests and the demo)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if path.exists():
            return True
        time.sleep(0.01)
    return False
