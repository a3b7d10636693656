"""Per-kind interpretation of what a sensor sends: a level (PIR, seat) or a radar report, judged over time.

An input turns observations into a `Verdict` that may also change with time alone (a PIR's warm-up ends, a
radar falls silent). `next_change(now)` says when, so the caller can wake up exactly then.
"""

from __future__ import annotations

from typing import Protocol

from edge.hardware.ld2410 import RadarReading, TargetState
from edge.occupancy.model import Fault, Presence, RadarThresholds, Verdict

PRESENT = Verdict(Presence.PRESENT)
ABSENT = Verdict(Presence.ABSENT)


class SensorInput(Protocol):
    """Interprets one sensor's observations."""

    def accept(self, value: object, at: float) -> None:
        """Take one observation made at monotonic time `at`."""
        ...

    def verdict(self, now: float) -> Verdict:
        """The judgement at `now`."""
        ...

    def next_change(self, now: float) -> float | None:
        """The earliest time after `now` when the verdict may change without a new observation."""
        ...


class LevelInput:
    """A digital sensor (PIR, seat switch): active means present; ignored during its warm-up after start."""

    def __init__(self, started_at: float, warmup_s: float = 0.0) -> None:
        self._ready_at = started_at + warmup_s
        self._level: bool | None = None
        self._fault: Fault | None = None

    def accept(self, value: object, at: float) -> None:
        """Take a level (True = active) or a Fault reported by the driver."""
        if isinstance(value, Fault):
            self._fault = value
        elif isinstance(value, bool):
            self._level = value
            self._fault = None
        else:
            raise TypeError(f"a digital sensor observes bool or Fault, not {type(value).__name__}")

    def verdict(self, now: float) -> Verdict:
        """Unknown while faulted, warming up or not yet heard; otherwise the level."""
        if self._fault is not None:
            return Verdict(Presence.UNKNOWN, self._fault)
        if now < self._ready_at:
            return Verdict(Presence.UNKNOWN, Fault.WARMING_UP)
        if self._level is None:
            return Verdict(Presence.UNKNOWN, Fault.STARTING)
        return PRESENT if self._level else ABSENT

    def next_change(self, now: float) -> float | None:
        """The end of the warm-up, if still ahead."""
        return self._ready_at if now < self._ready_at else None


def target_distance_cm(reading: RadarReading) -> int:
    """The nearest distance the report gives for its target; 0 when it gives none.

    Real frames often carry 0 in the distance field of the reported kind (the manual's own example reports a
    still target with still distance 0), so the other distance fields are the fallback.
    """
    own = []
    if reading.target.moving:
        own.append(reading.moving_distance_cm)
    if reading.target.still:
        own.append(reading.still_distance_cm)
    own.append(reading.detection_distance_cm)
    nonzero = [d for d in own if d > 0]
    if not nonzero:
        nonzero = [d for d in (reading.moving_distance_cm, reading.still_distance_cm) if d > 0]
    return min(nonzero, default=0)


def sees_someone(reading: RadarReading, thresholds: RadarThresholds) -> bool:
    """A target within the desk's distance with enough energy; a target at distance 0 is not evidence."""
    if reading.target is TargetState.NONE:
        return False
    distance = target_distance_cm(reading)
    if distance == 0 or distance > thresholds.max_distance_cm:
        return False
    energy = max(
        reading.moving_energy if reading.target.moving else 0,
        reading.still_energy if reading.target.still else 0,
    )
    return energy >= thresholds.min_energy


def is_phantom(reading: RadarReading) -> bool:
    """A target reported with no distance at all (the ghost-at-0 failure)."""
    return reading.target is not TargetState.NONE and target_distance_cm(reading) == 0


def _stuck_suspect(reading: RadarReading) -> bool:
    # An empty room can legitimately repeat one basic "no target" frame forever; a real person's energies, or
    # engineering-mode gate noise, never stay byte-identical for minutes.
    return reading.target is not TargetState.NONE or reading.engineering


class RadarInput:
    """An LD2410 judged from its reports: thresholds for presence, and silence/stuck/phantom as faults."""

    def __init__(self, started_at: float, thresholds: RadarThresholds) -> None:
        self._t = thresholds
        self._started_at = started_at
        self._offline = False
        self._reading: RadarReading | None = None
        self._last_at: float | None = None
        self._same_since: float | None = None
        self._phantom_since: float | None = None

    def accept(self, value: object, at: float) -> None:
        """Take a report, or a Fault (e.g. OFFLINE when the port is gone)."""
        if isinstance(value, Fault):
            self._offline = True
            self._reading = None
            self._last_at = self._same_since = self._phantom_since = None
            return
        if not isinstance(value, RadarReading):
            raise TypeError(f"a radar observes RadarReading or Fault, not {type(value).__name__}")
        self._offline = False
        if value != self._reading or self._same_since is None:
            self._same_since = at
        if is_phantom(value):
            if self._phantom_since is None:
                self._phantom_since = at
        else:
            self._phantom_since = None
        self._reading = value
        self._last_at = at

    def verdict(self, now: float) -> Verdict:
        """Offline, starting, silent, phantom, stuck; otherwise present/absent by the thresholds."""
        t = self._t
        if self._offline:
            return Verdict(Presence.UNKNOWN, Fault.OFFLINE)
        if self._reading is None or self._last_at is None:
            fault = Fault.STARTING if now < self._started_at + t.silence_s else Fault.SILENT
            return Verdict(Presence.UNKNOWN, fault)
        if now >= self._last_at + t.silence_s:
            return Verdict(Presence.UNKNOWN, Fault.SILENT)
        if self._phantom_since is not None and now >= self._phantom_since + t.phantom_s:
            return Verdict(Presence.UNKNOWN, Fault.PHANTOM)
        if self._same_since is not None and _stuck_suspect(self._reading) and now >= self._same_since + t.stuck_s:
            return Verdict(Presence.UNKNOWN, Fault.STUCK)
        return PRESENT if sees_someone(self._reading, t) else ABSENT

    def next_change(self, now: float) -> float | None:
        """The next silence, phantom or stuck deadline after `now`."""
        t = self._t
        if self._offline:
            return None
        candidates: list[float] = []
        if self._last_at is None:
            candidates.append(self._started_at + t.silence_s)
        else:
            candidates.append(self._last_at + t.silence_s)
        if self._phantom_since is not None:
            candidates.append(self._phantom_since + t.phantom_s)
        if self._same_since is not None and self._reading is not None and _stuck_suspect(self._reading):
            candidates.append(self._same_since + t.stuck_s)
        later = [c for c in candidates if c > now]
        return min(later, default=None)
