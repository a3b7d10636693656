"""Value types of the occupancy domain: what sensors say, what desks are, what the model emits."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from types import MappingProxyType

from edge.contract.payloads import DeskState


class Presence(StrEnum):
    """One sensor's judgement: someone there, no one there, or it cannot tell."""

    PRESENT = "present"
    ABSENT = "absent"
    UNKNOWN = "unknown"


Occupancy = DeskState
"""A desk's fused state (the contract's `DeskState`). `unknown` never counts as vacant."""


class Fault(StrEnum):
    """Why a sensor cannot tell."""

    STARTING = "starting"  # nothing heard from it since the daemon started
    WARMING_UP = "warming_up"  # a PIR's first minute after power-up gives false triggers
    OFFLINE = "offline"  # its port or pin is gone
    SILENT = "silent"  # a radar that stopped sending frames
    STUCK = "stuck"  # a radar repeating one identical report for too long
    PHANTOM = "phantom"  # a radar reporting a target with no distance for too long


class SensorKind(StrEnum):
    """The sensor families a desk can have."""

    PIR = "pir"
    SEAT = "seat"
    LD2410 = "ld2410"


class Fusion(StrEnum):
    """How a desk combines its sensors: any one present (default), or all of them."""

    ANY = "any"
    ALL = "all"


@dataclass(frozen=True, slots=True)
class Verdict:
    """A sensor's judgement at one instant, with the reason when it is unknown."""

    presence: Presence
    fault: Fault | None = None


@dataclass(frozen=True, slots=True)
class Hysteresis:
    """How long evidence must last: enter delay, release hold, and the gap that still counts as one activity.

    `enter_s`: presence must last this long (a passer-by is not an occupant). `release_s`: absence must last
    this long (someone reading still is not gone). `gap_s`: a pause in presence shorter than this does not
    restart the enter delay, so a PIR that re-triggers every few seconds counts as one activity.
    """

    enter_s: float
    release_s: float
    gap_s: float = 0.0

    def __post_init__(self) -> None:
        if min(self.enter_s, self.release_s, self.gap_s) < 0:
            raise ValueError("hysteresis durations cannot be negative")


# Why these numbers: docs/presence.md, "Hysteresis defaults".
DEFAULT_HYSTERESIS: Mapping[SensorKind, Hysteresis] = MappingProxyType(
    {
        SensorKind.SEAT: Hysteresis(enter_s=2.0, release_s=60.0, gap_s=0.0),
        SensorKind.LD2410: Hysteresis(enter_s=5.0, release_s=300.0, gap_s=2.0),
        SensorKind.PIR: Hysteresis(enter_s=10.0, release_s=600.0, gap_s=5.0),
    }
)

DEFAULT_PIR_WARMUP_S = 60.0


@dataclass(frozen=True, slots=True)
class RadarThresholds:
    """When a radar report counts as someone at this desk, and when the radar itself is not to be believed."""

    max_distance_cm: int = 150
    min_energy: int = 10
    silence_s: float = 10.0
    stuck_s: float = 600.0
    phantom_s: float = 60.0


@dataclass(frozen=True, slots=True)
class SensorSpec:
    """One sensor of a desk, as the domain needs it."""

    name: str
    kind: SensorKind
    hysteresis: Hysteresis
    warmup_s: float = 0.0
    radar: RadarThresholds | None = None

    @classmethod
    def default(
        cls,
        name: str,
        kind: SensorKind,
        *,
        hysteresis: Hysteresis | None = None,
        warmup_s: float | None = None,
        radar: RadarThresholds | None = None,
    ) -> SensorSpec:
        """A sensor with its kind's defaults (hysteresis, PIR warm-up, radar thresholds) unless given."""
        if warmup_s is None:
            warmup_s = DEFAULT_PIR_WARMUP_S if kind is SensorKind.PIR else 0.0
        if radar is None and kind is SensorKind.LD2410:
            radar = RadarThresholds()
        return cls(name, kind, hysteresis or DEFAULT_HYSTERESIS[kind], warmup_s, radar)


@dataclass(frozen=True, slots=True)
class DeskSpec:
    """A desk: its zone, its sensors and how they are fused."""

    name: str
    zone: str
    sensors: tuple[SensorSpec, ...]
    fusion: Fusion = Fusion.ANY

    def __post_init__(self) -> None:
        if not self.sensors:
            raise ValueError(f"desk {self.name} has no sensor")
        names = [s.name for s in self.sensors]
        if len(set(names)) != len(names):
            raise ValueError(f"desk {self.name} has two sensors with one name")


@dataclass(frozen=True, slots=True)
class ZoneSpec:
    """A group of desks counted together (a room, an open-space area)."""

    name: str
    label: str | None = None
    capacity: int | None = None


@dataclass(frozen=True, slots=True)
class SensorView:
    """What one sensor contributes right now: its settled presence (after hysteresis) and its raw verdict."""

    name: str
    kind: SensorKind
    presence: Presence
    fault: Fault | None
    raw: Presence


@dataclass(frozen=True, slots=True)
class DeskUpdate:
    """A desk's state to publish: a change, or a heartbeat re-confirming an unchanged state."""

    desk: str
    zone: str
    state: Occupancy
    since: datetime
    heartbeat: bool
    sensors: tuple[SensorView, ...] = field(default=(), compare=False)

    @property
    def faults(self) -> tuple[Fault, ...]:
        """Why sensors cannot tell (empty when all can)."""
        return tuple(s.fault for s in self.sensors if s.fault is not None)


@dataclass(frozen=True, slots=True)
class ZoneCounts:
    """How many desks of a zone are occupied, vacant and unknown."""

    zone: str
    occupied: int
    vacant: int
    unknown: int

    @property
    def total(self) -> int:
        """Desks in the zone."""
        return self.occupied + self.vacant + self.unknown


Update = DeskUpdate | ZoneCounts
