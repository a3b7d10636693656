"""One desk: its sensors' settled presence fused into occupied / vacant / unknown, with the time of each change."""

from __future__ import annotations

from collections.abc import Iterable

from edge.occupancy.model import DeskSpec, Fusion, Occupancy, Presence, SensorView
from edge.occupancy.sensor import SensorMachine


def fuse(presences: Iterable[Presence], fusion: Fusion = Fusion.ANY) -> Occupancy:
    """Combine settled presences. Unknown never becomes vacant: it wins over absent, and loses only to present
    (any-of) or to absent (all-of, where one absent sensor already decides)."""
    values = list(presences)
    decisive, blocking = (
        (Presence.PRESENT, Presence.ABSENT) if fusion is Fusion.ANY else (Presence.ABSENT, Presence.PRESENT)
    )
    if decisive in values:
        return Occupancy.OCCUPIED if fusion is Fusion.ANY else Occupancy.VACANT
    if Presence.UNKNOWN in values:
        return Occupancy.UNKNOWN
    assert all(v is blocking for v in values)
    return Occupancy.VACANT if fusion is Fusion.ANY else Occupancy.OCCUPIED


class DeskMachine:
    """A desk's state machine; starts unknown (restart-safe), moves only when told the time."""

    def __init__(self, spec: DeskSpec, started_at: float) -> None:
        self.spec = spec
        self.sensors = {s.name: SensorMachine(s, started_at) for s in spec.sensors}
        self.state = Occupancy.UNKNOWN
        self.changed_at = started_at
        self.now = started_at
        self.dirty = True  # the initial unknown has not been emitted yet

    def observe(self, sensor: str, value: object, at: float) -> None:
        """Record an observation of one sensor at monotonic time `at` (clamped to not go backwards)."""
        machine = self.sensors[sensor]
        at = max(at, self.now)
        self.advance(at)
        machine.accept(value, at)
        self._fuse(at)

    def advance(self, to: float) -> None:
        """Apply every deadline up to `to`, in time order, recording the exact time of each change."""
        while True:
            due = self.next_event()
            if due is None or due > to:
                break
            for machine in self.sensors.values():
                machine.step(due)
            self._fuse(due)
        self.now = max(self.now, to)

    def next_event(self) -> float | None:
        """The earliest deadline of any sensor."""
        return min((t for m in self.sensors.values() if (t := m.next_event()) is not None), default=None)

    def views(self) -> tuple[SensorView, ...]:
        """Each sensor's contribution."""
        return tuple(m.view() for m in self.sensors.values())

    def _fuse(self, t: float) -> None:
        state = fuse((m.settled.presence for m in self.sensors.values()), self.spec.fusion)
        if state is not self.state:
            self.state = state
            self.changed_at = t
            self.dirty = True
