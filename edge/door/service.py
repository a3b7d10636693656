"""`edge door`: readers -> rules -> relay, all in-process; the network is never on the decision path.

This module only wires the parts (see docs/architecture.md, "The path of one badge scan"):

- `edge.door.loop.DoorLoop`: one thread owns the doors (controllers, relays), the applied snapshot and the seat and
  passback state; readers and door inputs post to it; it decides (edge.access.rules) and drives the relays;
- `edge.door.writer.EventWriter`: stores the loop's events in the outbox and its tracking state on disk, in order;
- `edge.door.snapshots.SnapshotKeeper`: verifies, stores and hands over member snapshots (and keeps the floor);
- `edge.door.command_handler.CommandHandler`: verifies staff commands and hands over the obeyed ones;
- `edge.door.persistence.StateFiles`: modes, tracking and the replay guard across restarts.

Node status counters (`P/node/{node}/status`): `access.granted`, `access.denied.<reason>`,
`command_obeyed.<action>`, `command_refused.<reason>`, `snapshots_applied`, `snapshot_refused.<reason>`,
`snapshot_floor.<missing|corrupt>`, `reader.<name>.<health counter>` and `reader.<name>.down`,
`door.<name>.<controller counter>`, `members_version`, `members_floor`, `inputs_dropped`, `outputs_dropped`.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

from edge.access.ed25519 import self_test
from edge.access.rules import Direction
from edge.bus import Bus
from edge.clock import SystemClock
from edge.config.access import AccessConfig
from edge.config.doors import DoorConfig
from edge.contract import DoorMode, badge_token
from edge.daemons.launch import Launch
from edge.daemons.node_files import load_access_keys, load_node_badge_key
from edge.door.clock_trust import ClockTrust
from edge.door.command_handler import CommandHandler
from edge.door.hardware import DoorHardware
from edge.door.inbox import Badge, ReaderStatus, Refresh
from edge.door.loop import DoorLoop
from edge.door.persistence import StateFiles
from edge.door.snapshots import SnapshotKeeper
from edge.door.unit import DoorUnit
from edge.door.writer import EventWriter
from edge.errors import SelfTestError
from edge.hardware import BadgeReader, build_reader
from edge.metrics import Counters

log = logging.getLogger(__name__)

READERS_OPEN_S = 2.0
"""How long `start` gives serial readers to open their ports."""
READY_S = 5.0
"""How long `start` waits for the loop to have read the door inputs and judged the unlocked schedules."""


class DoorService:
    """Every door of the node, their readers, the member snapshot and the command channel."""

    def __init__(self, launch: Launch, *, clock_sync: Callable[[], bool | None] | None = None) -> None:
        try:
            self_test()  # the Ed25519 binding every snapshot and command check relies on
        except SelfTestError as exc:  # the config is fine: exit 1, and systemd's restarts keep the relay locked
            raise SelfTestError(
                f"the Ed25519 self-test of the OpenSSL libcrypto failed ({exc}); this door could not tell a genuine "
                "member snapshot or staff command from a forged one. Reinstall or upgrade OpenSSL (Debian: libssl3), "
                "then restart edge-door"
            ) from exc
        self.config = launch.config
        self.clock = launch.clock
        self.pin_factory = launch.pin_factory
        self.counters = Counters()
        access = self.config.access
        assert access is not None  # enforced by the config's cross-check
        self.access: AccessConfig = access
        self._key = load_node_badge_key(self.config)
        keys = load_access_keys(access)
        # Reader timings (Wiegand gaps, card re-arm) are physical: readers run on real time even under --sim-clock.
        self._reader_clock = SystemClock()
        self.clock_trust = ClockTrust(access.clock_trust, self.clock, clock_sync)
        self.files = StateFiles(self.config.state_dir, self.counters)
        self.bus = Bus(self.config, "door", clock=self.clock, counters=self.counters, status_extra=self._status)
        if access.home_assistant:
            self.bus.announce(self.discovery())
        self.writer = EventWriter(self.bus, self.files, self.counters)
        self.loop = DoorLoop(
            clock=self.clock,
            reader_clock=self._reader_clock,
            tz=self.config.tz,
            clock_trust=self.clock_trust,
            writer=self.writer,
            counters=self.counters,
        )
        self.snapshots = SnapshotKeeper(
            self.config.state_dir,
            keys.snapshot,
            site=self.config.site,
            min_version=access.min_snapshot_version,
            clock=self.clock,
            counters=self.counters,
            loop=self.loop,
        )
        self.loop.index, self.loop.members = self.snapshots.index, self.snapshots.members
        self.commands = CommandHandler(
            keys.command,
            site=self.config.site,
            max_skew_s=access.command_max_skew_s,
            clock=self.clock,
            clock_trust=self.clock_trust,
            files=self.files,
            counters=self.counters,
            loop=self.loop,
        )
        self.readers: list[BadgeReader] = []
        self._stopped = False
        self._bus_started = False

    def discovery(self) -> list[tuple[str, bytes]]:
        """Home Assistant discovery configs for the node and each of its doors."""
        from edge.contract.homeassistant import Discovery  # only for a door that announces itself

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
        """Lock every relay first, then start the loop, the bus, the snapshot keeper and the readers."""
        try:
            for door in self.config.doors:
                self._add_door(door)
            # Seat counts and who is inside survive a restart: a crash at noon does not give an account new seats.
            self.files.load_tracking(self.loop.seats, self.loop.passback)
            self.loop.start()
            self.bus.subscribe(self.bus.topics.members(), self.snapshots.on_message)
            for door in self.config.doors:
                # Retain-as-published (MQTT 5): a command published retained is refused even when it arrives live.
                topic = self.bus.topics.door_command(door.name)
                self.bus.subscribe(topic, self.commands.on_message(door.name), retain_as_published=True)
            self.bus.start()
            self._bus_started = True
            self.snapshots.start()
            for reader in self.readers:
                reader.start()
            self._wait_readers(READERS_OPEN_S)
            # Ready means every door is as it should be: its inputs read, its unlocked schedule judged.
            self.clock_trust.check()
            self.loop.ask(Refresh(), timeout=READY_S)
        except BaseException:
            self.stop()
            raise

    def _add_door(self, door: DoorConfig) -> None:
        hardware = DoorHardware.from_config(door, pin_factory=self.pin_factory)  # relay locked before anything else
        mode = self.files.mode(door.name, DoorMode(door.mode))
        self.loop.add(DoorUnit(door, hardware, clock=self.clock, counters=self.counters, mode=mode))
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

    def _wait_readers(self, timeout: float) -> None:
        """Give serial readers a moment to open their ports, so "ready" means cards are read (a reader that cannot
        open is reported as a fault and retried in the background; start goes on)."""
        deadline = time.monotonic() + timeout
        for reader in self.readers:
            reader.wait_ready(max(0.0, deadline - time.monotonic()))

    def stop(self) -> None:
        """Lock every door, stop readers and threads, store what is queued, flush the bus. Never raises; idempotent."""
        if self._stopped:
            return
        self._stopped = True
        self.loop.stop()  # doors first: whatever fails after, they are locked
        for reader in self.readers:
            try:
                reader.close()
            except Exception:
                log.exception("reader %s: closing failed", reader.name)
        self.snapshots.stop()
        self.writer.stop()  # the final door states included
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
            and self.loop.alive()
            and self.writer.alive()
            and self.snapshots.alive()
            and all(reader.running and not reader.hung for reader in self.readers)
        )

    def refresh(self) -> None:
        """Periodic work from the main loop: read the clock's trust, have the loop judge the unlocked schedules."""
        try:
            self.clock_trust.check()
            self.loop.post(Refresh())
        except Exception:
            self.counters.inc("refresh_errors")
            log.exception("periodic refresh failed")

    # -- readers -----------------------------------------------------------------------------------------

    def _scan_handler(self, door: str, reader: str, direction: Direction) -> Callable[[str, float], None]:
        def on_scan(uid: str, at: float) -> None:
            # The UID goes no further than this line: the loop, the events and the log see its token only.
            self.loop.post(Badge(door, reader, direction, badge_token(self._key, uid), at))

        return on_scan

    def _fault_handler(self, door: str, reader: str) -> Callable[[bool, str], None]:
        def on_fault(active: bool, detail: str) -> None:
            self.loop.post(ReaderStatus(door, reader, not active))

        return on_fault

    # -- status ------------------------------------------------------------------------------------------

    def _status(self) -> dict[str, Any]:
        view = self.loop.view
        counters: dict[str, int] = dict(view.counters)
        for reader in list(self.readers):
            for key, value in reader.health.snapshot().items():
                counters[f"reader.{reader.name}.{key}"] = value
            counters[f"reader.{reader.name}.down"] = int(reader.fault is not None)
        counters["members_version"] = view.members.version or 0
        floor = self.snapshots.floor
        counters["members_floor"] = floor.version if floor is not None else 0
        return {"clock_synced": self.clock_trust.trusted, "counters": counters}
