"""One sensor's settled presence: its input's raw verdict passed through the kind's hysteresis.

Rules (times are monotonic seconds):
- raw unknown -> settled unknown at once, with the same fault;
- raw present -> settled present once the activity has lasted `enter_s`: either still present at that moment,
  or re-triggered (a second rising edge) with no pause longer than `gap_s`;
- raw absent -> settled absent once absence has lasted `release_s`, whatever the settled state was before
  (after unknown too: a restarted daemon does not call a desk vacant before it has watched it long enough).
"""

from __future__ import annotations

from edge.occupancy.inputs import LevelInput, RadarInput, SensorInput
from edge.occupancy.model import Fault, Presence, SensorKind, SensorSpec, SensorView, Verdict


def make_input(spec: SensorSpec, started_at: float) -> SensorInput:
    """Build the input that interprets this sensor's observations."""
    if spec.kind is SensorKind.LD2410:
        if spec.radar is None:
            raise ValueError(f"radar sensor {spec.name} has no thresholds")
        return RadarInput(started_at, spec.radar)
    return LevelInput(started_at, spec.warmup_s)


class SensorMachine:
    """Hysteresis over one sensor's raw verdicts; exact transition times, driven by `step(t)` in time order."""

    def __init__(self, spec: SensorSpec, started_at: float) -> None:
        self.spec = spec
        self._input = make_input(spec, started_at)
        self.now = started_at
        self.raw = self._input.verdict(started_at)
        self.settled = Verdict(Presence.UNKNOWN, self.raw.fault or Fault.STARTING)
        self._candidate: float | None = None  # start of the current activity (enter delay running)
        self._rises = 0  # rising edges in the current activity
        self._active_end: float | None = None  # when raw last stopped being present
        self._absent_since: float | None = None  # when raw became absent

    def accept(self, value: object, at: float) -> None:
        """Take an observation at `at` (not before `now`)."""
        self._input.accept(value, at)
        self.step(at)

    def step(self, t: float) -> None:
        """Move to time `t`, applying the raw verdict and any deadline due at `t`."""
        self.now = max(self.now, t)
        self._reraw(self.now)
        self._settle(self.now)

    def next_event(self) -> float | None:
        """The next time something may change on its own."""
        times = [self._input.next_change(self.now)]
        if self.settled.presence is not Presence.PRESENT and self._candidate is not None:
            times.append(self._enter_at())
        if self.settled.presence is not Presence.ABSENT and self._absent_since is not None:
            times.append(self._release_at())
        return min((t for t in times if t is not None), default=None)

    def view(self) -> SensorView:
        """What this sensor contributes now."""
        return SensorView(self.spec.name, self.spec.kind, self.settled.presence, self.settled.fault, self.raw.presence)

    def _enter_at(self) -> float:
        assert self._candidate is not None
        return self._candidate + self.spec.hysteresis.enter_s

    def _release_at(self) -> float:
        assert self._absent_since is not None
        return self._absent_since + self.spec.hysteresis.release_s

    def _reraw(self, t: float) -> None:
        new = self._input.verdict(t)
        if new == self.raw:
            return
        old, self.raw = self.raw, new
        gap = self.spec.hysteresis.gap_s
        if new.presence is Presence.UNKNOWN:
            self._candidate = self._active_end = self._absent_since = None
            self._rises = 0
        elif new.presence is Presence.PRESENT:
            self._absent_since = None
            paused_too_long = self._active_end is None or t > self._active_end + gap
            if self._candidate is None or old.presence is Presence.UNKNOWN or paused_too_long:
                self._candidate, self._rises = t, 0
            self._rises += 1
        else:
            if old.presence is Presence.PRESENT:
                self._active_end = t
            self._absent_since = t

    def _settle(self, t: float) -> None:
        if self.raw.presence is Presence.UNKNOWN:
            self.settled = self.raw
            return
        if self.settled.presence is not Presence.PRESENT and self._candidate is not None and t >= self._enter_at():
            if self._ongoing(t):
                self.settled = Verdict(Presence.PRESENT)
            self._candidate, self._rises = None, 0
        if self.settled.presence is Presence.PRESENT and self.raw.presence is Presence.PRESENT:
            self._candidate = None
        if self.settled.presence is not Presence.ABSENT and self._absent_since is not None and t >= self._release_at():
            self.settled = Verdict(Presence.ABSENT)

    def _ongoing(self, t: float) -> bool:
        if self.raw.presence is Presence.PRESENT:
            return True
        retriggered = self._rises >= 2
        return retriggered and self._active_end is not None and t <= self._active_end + self.spec.hysteresis.gap_s
