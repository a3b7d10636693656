"""`edge badge`: the node's standalone readers (e.g. a reception check-in point) publish badge scans."""

from __future__ import annotations

import logging
import time
from typing import Any

from edge.bus import Bus
from edge.clock import SystemClock
from edge.contract import BadgeScan, badge_token
from edge.daemons.launch import Launch
from edge.daemons.node_files import load_node_badge_key
from edge.hardware import BadgeReader, build_reader
from edge.metrics import Counters
from edge.timesync import clock_synchronised

log = logging.getLogger(__name__)

READY_S = 5.0
"""How long `start` waits for the readers' ports to open before the node connects and says it is online."""


class BadgeService:
    """Reads cards at standalone readers and publishes `P/badge/{reader}/scan` with badge tokens, never UIDs."""

    def __init__(self, launch: Launch) -> None:
        self.config = launch.config
        self.clock = launch.clock
        self.counters = Counters()
        self._key = load_node_badge_key(self.config)
        self.bus = Bus(self.config, "badge", clock=self.clock, counters=self.counters, status_extra=self._status)
        self.readers: list[BadgeReader] = [
            build_reader(
                reader,
                pin_factory=launch.pin_factory,
                on_scan=self._scan_handler(reader.name),
                on_fault=self._fault_handler(reader.name),
                clock=SystemClock(),  # readers run on real time even under --sim-clock: their timings are physical
            )
            for reader in self.config.readers
        ]

    def _scan_handler(self, name: str) -> Any:
        def on_scan(uid: str, _at: float) -> None:
            token = badge_token(self._key, uid)
            self.bus.publish_event(BadgeScan(reader=name, token=token))
            log.info("scan at %s", name)  # the token is in the event only: logs outlive the 3 months

        return on_scan

    def _fault_handler(self, name: str) -> Any:
        def on_fault(active: bool, detail: str) -> None:
            self.counters.inc(f"reader.{name}.faults" if active else f"reader.{name}.recoveries")
            if active:
                log.warning("reader %s fault: %s", name, detail)
            else:
                log.info("reader %s recovered", name)

        return on_fault

    def _status(self) -> dict[str, Any]:
        counters: dict[str, int] = {}
        for reader in self.readers:
            for key, value in reader.health.snapshot().items():
                counters[f"reader.{reader.name}.{key}"] = value
            counters[f"reader.{reader.name}.down"] = int(reader.fault is not None)
        return {"clock_synced": clock_synchronised(), "counters": counters}

    def start(self) -> None:
        """Start every reader, give their ports a moment to open, then connect (in the background).

        The node says `online` once its readers read: a card presented after that is not lost to a port still
        opening. A reader that does not open within READY_S (unplugged) does not hold the node back: it keeps
        retrying and reports a fault; scans before the broker connects wait in the outbox.
        """
        for reader in self.readers:
            reader.start()
        deadline = time.monotonic() + READY_S
        for reader in self.readers:
            if not reader.wait_ready(max(0.0, deadline - time.monotonic())):
                log.warning("reader %s is not open yet; starting without it", reader.name)
        self.bus.start()

    def alive(self) -> bool:
        """Every reader thread and the bus run."""
        return self.bus.alive and all(reader.running and not reader.hung for reader in self.readers)

    def stop(self) -> None:
        """Stop the readers, then flush and close the bus."""
        for reader in self.readers:
            try:
                reader.close()
            except Exception:
                log.exception("closing reader %s failed", reader.name)
        self.bus.stop()
