"""`edge presence`: the node's desk sensors -> occupancy state machines -> retained desk and zone states on MQTT.

The presence loop (`edge.presence.PresenceLoop`) owns the tracker; its updates arrive here on the loop thread
and become events in the durable outbox: a desk change is stored with `ts` = `since` (the moment it became
true), a zone count change and a heartbeat with `ts` = now. Heartbeats only re-confirm a state the broker
already holds, so they are stored only while the broker is reachable: during an outage they would crowd the
outbox without adding anything, while every change is always stored.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from edge.bus import Bus
from edge.clock import real_seconds
from edge.config.desks import PresenceConfig
from edge.contract import DeskOccupancy, ZoneOccupancy
from edge.contract.homeassistant import Discovery
from edge.daemons.launch import Launch
from edge.metrics import Counters
from edge.occupancy import DeskUpdate, Occupancy, OccupancyTracker, SensorView, Update
from edge.presence import DeskSensors, PresenceLoop, desk_specs, zone_specs
from edge.timesync import clock_synchronised

log = logging.getLogger(__name__)

LOOP_STALL_S = 30.0  # real seconds one batch of the loop may take before the watchdog ping is withheld
MAX_DETAIL_COUNTERS = 64  # per-sensor counters in the node status; its payload must stay well under 16 KiB


def _sensor_views(tracker: OccupancyTracker) -> dict[str, tuple[SensorView, ...]]:
    return {name: desk.views() for name, desk in tracker.desks.items()}


class PresenceService:
    """Every desk of the node: sensors, the occupancy loop and the bus that publishes what they decide."""

    def __init__(self, launch: Launch) -> None:
        self.config = launch.config
        assert self.config.presence is not None  # the CLI refuses a config without a presence section
        self.presence: PresenceConfig = self.config.presence
        self.clock = launch.clock
        self.pin_factory = launch.pin_factory
        self.counters = Counters()
        self.bus = Bus(self.config, "presence", clock=self.clock, counters=self.counters, status_extra=self._status)
        self.tracker = OccupancyTracker(
            desk_specs(self.presence), zone_specs(self.presence), self.clock, self.presence.heartbeat_s
        )
        self.loop = PresenceLoop(self.tracker, self.publish, self.clock)
        self.sensors: DeskSensors | None = None
        self._latest: dict[str, DeskUpdate] = {}
        self._bus_started = False
        if self.presence.home_assistant:
            self.bus.announce(self.discovery())

    def discovery(self) -> list[tuple[str, bytes]]:
        """Home Assistant discovery configs for the node, its desks and its zones."""
        discovery = Discovery(self.bus.topics, self.config.node, prefix=self.presence.discovery_prefix)
        announcements = [discovery.node_entity()]
        announcements += [discovery.desk(desk.name, desk.zone) for desk in self.presence.desks]
        for zone in self.presence.zones:
            announcements += discovery.zone(zone.name)
        return [(a.topic, a.payload) for a in announcements]

    # -- lifecycle ---------------------------------------------------------------------------------------

    def start(self) -> None:
        """Connect (in the background), start the loop, then open and start every sensor."""
        self.bus.start()
        self._bus_started = True
        self.loop.start()
        self.sensors = DeskSensors(self.presence, self.loop.post, clock=self.clock, pin_factory=self.pin_factory)
        self.sensors.start()
        log.info(
            "%d desks in %d zones; %d sensors could not be opened",
            len(self.presence.desks),
            len(self.presence.zones),
            len(self.sensors.failed),
        )

    def alive(self) -> bool:
        """The bus, the presence loop and every radar reader run."""
        stall = LOOP_STALL_S / real_seconds(self.clock, 1.0)  # the loop measures in clock seconds
        sensors_alive = self.sensors is not None and self.sensors.alive()
        return self.bus.alive and self.loop.alive(stall_s=stall) and sensors_alive

    def stop(self) -> None:
        """Close the sensors, let the loop publish what is queued, then flush the bus (node offline). Never raises."""
        if self.sensors is not None:
            self.sensors.close()
        try:
            self.loop.stop()
        except Exception:
            log.exception("stopping the presence loop failed")
        if self._bus_started:
            try:
                self.bus.stop()
            except Exception:
                log.exception("bus: stopping failed")
        else:
            self.bus.outbox.close()

    # -- publishing (loop thread) ------------------------------------------------------------------------

    def publish(self, updates: Sequence[Update]) -> None:
        """Store desk changes, heartbeats (while connected) and zone counts as events."""
        connected = self.bus.connected
        for update in updates:
            if isinstance(update, DeskUpdate):
                self._latest[update.desk] = update
                if update.heartbeat and not connected:
                    self.counters.inc("heartbeats_skipped")
                    continue
                if not update.heartbeat:
                    self._log_change(update)
                body: DeskOccupancy | ZoneOccupancy = DeskOccupancy(
                    desk=update.desk, zone=update.zone, state=update.state, since=update.since
                )
                ts = self.clock.now() if update.heartbeat else update.since
            else:
                body = ZoneOccupancy(
                    zone=update.zone,
                    occupied=update.occupied,
                    vacant=update.vacant,
                    unknown=update.unknown,
                    total=update.total,
                )
                ts = self.clock.now()
            try:
                self.bus.publish_event(body, ts)
            except Exception:
                self.counters.inc("publish_failures")
                log.exception("could not store the %s event", body.kind)

    @staticmethod
    def _log_change(update: DeskUpdate) -> None:
        if update.state is Occupancy.UNKNOWN and update.faults:
            log.info("desk %s: unknown (%s)", update.desk, ", ".join(sorted(set(update.faults))))
        else:
            log.info("desk %s: %s", update.desk, update.state)

    # -- node status (bus pump thread) -------------------------------------------------------------------

    def _status(self) -> dict[str, Any]:
        return {"clock_synced": clock_synchronised(), "counters": self.health()}

    def health(self) -> dict[str, int]:
        """Sensor health and queue counters for the node status: totals, then details of sensors with trouble."""
        latest = list(self._latest.values())
        views = self.loop.inspect(_sensor_views)
        if views is None:  # the loop is stopped or busy: what it last published is the best we know
            views = {u.desk: u.sensors for u in latest}
        faults = [(desk, view) for desk, desk_views in views.items() for view in desk_views if view.fault is not None]
        counters = {
            "queue.dropped": self.loop.dropped,
            "queue.rejected": self.loop.rejected,
            "loop.errors": self.loop.callback_errors,
            "desks.occupied": sum(u.state is Occupancy.OCCUPIED for u in latest),
            "desks.vacant": sum(u.state is Occupancy.VACANT for u in latest),
            "desks.unknown": sum(u.state is Occupancy.UNKNOWN for u in latest),
            "sensors.unknown": len(faults),
        }
        details = {f"sensor.{desk}.{view.name}.{view.fault}": 1 for desk, view in faults}
        radars = self.sensors.radar_health() if self.sensors is not None else {}
        counters["radar.frames"] = sum(h.frames for h in radars.values())
        counters["radar.frame_errors"] = sum(h.frame_errors for h in radars.values())
        counters["radar.offline"] = sum(not h.online for h in radars.values())
        for (desk, name), radar in radars.items():
            details[f"radar.{desk}.{name}.frames"] = radar.frames
            details[f"radar.{desk}.{name}.frame_errors"] = radar.frame_errors
            details[f"radar.{desk}.{name}.opens"] = radar.opens
            details[f"radar.{desk}.{name}.offline"] = int(not radar.online)
        if len(details) > MAX_DETAIL_COUNTERS:
            # Sensors with a fault first: on a big node, a healthy radar's frame count can wait.
            ordered = sorted(details, key=lambda key: (not key.startswith("sensor."), key))
            counters["details_omitted"] = len(details) - MAX_DETAIL_COUNTERS
            details = {key: details[key] for key in ordered[:MAX_DETAIL_COUNTERS]}
        return counters | details
