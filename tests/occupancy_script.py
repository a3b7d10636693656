"""Helpers to play a script of sensor observations against the occupancy tracker on a manual clock."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, datetime

from edge.clock import ManualClock
from edge.hardware.ld2410 import RadarReading, TargetState
from edge.occupancy import DeskSpec, Fusion, Occupancy, OccupancyTracker, SensorKind, SensorSpec, ZoneSpec

START = datetime(2026, 11, 26, 8, 0, tzinfo=UTC)

Event = tuple[float, str, object]  # (seconds after start, sensor name, observed value)


def seat(name: str = "seat", **overrides: object) -> SensorSpec:
    """A seat switch with default hysteresis."""
    return SensorSpec.default(name, SensorKind.SEAT, **overrides)


def pir(name: str = "pir", **overrides: object) -> SensorSpec:
    """A PIR with default hysteresis and warm-up."""
    return SensorSpec.default(name, SensorKind.PIR, **overrides)


def radar(name: str = "radar", **overrides: object) -> SensorSpec:
    """An LD2410 with default hysteresis and thresholds."""
    return SensorSpec.default(name, SensorKind.LD2410, **overrides)


def desk(*sensors: SensorSpec, name: str = "d1", zone: str = "z", fusion: Fusion = Fusion.ANY) -> DeskSpec:
    """A desk in zone `z`."""
    return DeskSpec(name, zone, tuple(sensors), fusion)


def person(cm: int = 80, energy: int = 50, target: TargetState = TargetState.STILL) -> RadarReading:
    """A basic-mode report of someone at `cm`."""
    moving = cm if target.moving else 0
    still = cm if target.still else 0
    return RadarReading(target, moving, energy if target.moving else 0, still, energy if target.still else 0, cm)


def nobody(noise: int = 0) -> RadarReading:
    """A basic-mode report with no target."""
    return RadarReading(TargetState.NONE, 0, 0, 0, noise, 0)


def stream(sensor: str, start: float, stop: float, make: object, every: float = 1.0) -> list[Event]:
    """Radar reports every `every` s from start to stop inclusive; `make(i)` builds the i-th reading."""
    events: list[Event] = []
    i = 0
    t = start
    while t <= stop + 1e-9:
        events.append((t, sensor, make(i) if callable(make) else make))
        i += 1
        t = start + i * every
    return events


def play(
    spec: DeskSpec, events: Iterable[Event], checks: Sequence[float], heartbeat_s: float = 3600.0
) -> dict[float, Occupancy]:
    """Feed the events in time order, ticking at every event and check time; return the state at each check."""
    clock = ManualClock(START, monotonic=0.0)
    tracker = OccupancyTracker([spec], [ZoneSpec("z")], clock, heartbeat_s=heartbeat_s)
    by_time: dict[float, list[tuple[str, object]]] = {}
    for t, sensor, value in events:
        by_time.setdefault(t, []).append((sensor, value))
    states: dict[float, Occupancy] = {}
    for t in sorted(set(by_time) | set(checks)):
        clock.advance(t - clock.monotonic())
        for sensor, value in by_time.get(t, []):
            tracker.observe(spec.name, sensor, value)
        tracker.tick()
        if t in checks:
            states[t] = tracker.desks[spec.name].state
    return states
