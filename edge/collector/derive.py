"""Derived series, as pure functions over time-ordered rows from the store (no I/O, no clock).

* Occupancy: desks per state per zone (and for the site) sampled on a regular grid of instants, so that a mean
  over any interval is a time-weighted average and a max is the peak.
* Hourly door figures: entries, exits and denied attempts per door, and decisions per reason.
* Desk usage per hour: each desk's occupied and known seconds in each complete hour, from the same grid (each
  instant stands for one step of the desk's state), in all and within opening hours; and their sums for the site.
* People present, on the same grid. A reader's direction comes from the `directions` map (reader -> in/out);
  readers not in the map count as entries. With at least one exit reader configured, present = granted entries
  minus granted exits since local midnight (never below zero; an exit through a request-to-exit button is not
  seen, so it can over-count). With none, present is an estimate: granted entries within the last
  `assumed_stay` (and `estimate` = 1).
"""

from __future__ import annotations

from collections import Counter, deque
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence

from edge.collector.schema import DeskUsage, HourCounts, Presence, SiteUsage, StateCounts
from edge.contract import DeskState

Transition = tuple[int, str, str, DeskState]  # t_ms, desk, zone, state
Access = tuple[int, str, str, bool, str]  # t_ms, door, reader, granted, reason
HourRow = tuple[int, str, str, bool, str, int]  # hour_ms, door, reader, granted, reason, count

OUT = "out"
HOUR_MS = 3_600_000


def grid(first_ms: int, last_ms: int, step_ms: int) -> range:
    """Grid instants (multiples of step) from the first at or after first_ms up to last_ms inclusive."""
    start = -(-first_ms // step_ms) * step_ms
    return range(start, last_ms + 1, step_ms)


def _counts(tally: Counter[tuple[str, DeskState]], zone: str) -> StateCounts:
    return StateCounts(
        occupied=tally[(zone, DeskState.OCCUPIED)],
        vacant=tally[(zone, DeskState.VACANT)],
        unknown=tally[(zone, DeskState.UNKNOWN)],
    )


def occupancy_series(
    initial: Mapping[str, tuple[str, DeskState]],
    transitions: Iterable[Transition],
    instants: Sequence[int],
) -> Iterator[tuple[int, dict[str, StateCounts], StateCounts]]:
    """For each instant: counts per zone and for the site, from each desk's latest transition at or before it.

    `initial` is every desk's (zone, state) as of the first instant; `transitions` come after it, in time order.
    """
    desks: dict[str, tuple[str, DeskState]] = dict(initial)
    tally: Counter[tuple[str, DeskState]] = Counter(desks.values())
    pending = iter(transitions)
    upcoming = next(pending, None)
    zones = sorted({zone for zone, _ in desks.values()})
    for t in instants:
        moved = False  # the set of zones changes only when a desk appears or changes zone
        while upcoming is not None and upcoming[0] <= t:
            _, desk, zone, state = upcoming
            old = desks.get(desk)
            if old is not None:
                tally[old] -= 1
            moved = moved or old is None or old[0] != zone
            desks[desk] = (zone, state)
            tally[(zone, state)] += 1
            upcoming = next(pending, None)
        if moved:
            zones = sorted({zone for zone, _ in desks.values()})
        per_zone = {zone: _counts(tally, zone) for zone in zones}
        site = StateCounts(
            occupied=sum(c.occupied for c in per_zone.values()),
            vacant=sum(c.vacant for c in per_zone.values()),
            unknown=sum(c.unknown for c in per_zone.values()),
        )
        yield t, per_zone, site


def desk_usage(
    initial: Mapping[str, tuple[str, DeskState]],
    transitions: Iterable[Transition],
    instants: Sequence[int],
    step_ms: int,
    in_hours: Callable[[int], bool],
) -> dict[tuple[int, str], tuple[str, DeskUsage]]:
    """Per (hour start, desk): the desk's zone (its latest) and usage, each instant counting for one step.

    `initial` and `transitions` as for `occupancy_series`; an instant within opening hours (`in_hours`) also counts
    in the `open_` figures. Unknown time counts in neither occupied nor known seconds.
    """
    step_s = step_ms // 1000
    desks: dict[str, tuple[str, DeskState]] = dict(initial)
    tally: dict[tuple[int, str], list[int]] = {}
    zones: dict[tuple[int, str], str] = {}
    pending = iter(transitions)
    upcoming = next(pending, None)
    for t in instants:
        while upcoming is not None and upcoming[0] <= t:
            _, desk, zone, state = upcoming
            desks[desk] = (zone, state)
            upcoming = next(pending, None)
        hour = t - t % HOUR_MS
        is_open = in_hours(t)
        for desk, (zone, state) in desks.items():
            figures = tally.setdefault((hour, desk), [0, 0, 0, 0, 0])
            zones[(hour, desk)] = zone
            if is_open:
                figures[4] += step_s
            if state is DeskState.UNKNOWN:
                continue
            occupied = step_s if state is DeskState.OCCUPIED else 0
            figures[0] += occupied
            figures[1] += step_s
            if is_open:
                figures[2] += occupied
                figures[3] += step_s
    return {key: (zones[key], DeskUsage(*figures)) for key, figures in tally.items()}


def site_usage(usage: Mapping[tuple[int, str], tuple[str, DeskUsage]]) -> dict[int, SiteUsage]:
    """Per hour start: the site's desk-time, summed over the desks of `desk_usage`'s result."""
    sums: dict[int, list[int]] = {}
    for (hour, _desk), (_zone, desk) in usage.items():
        figures = sums.setdefault(hour, [0, 0, 0, 0, 0, 0, 0])
        figures[0] += 1
        figures[1] = max(figures[1], desk.open_s)
        figures[2] += desk.occupied_s
        figures[3] += desk.known_s
        figures[4] += desk.open_occupied_s
        figures[5] += desk.open_known_s
        figures[6] += desk.open_s
    return {hour: SiteUsage(*figures) for hour, figures in sums.items()}


def direction(directions: Mapping[str, str], reader: str) -> str:
    """`in` or `out` for a reader; readers not in the map are entry readers."""
    return directions.get(reader, "in")


def hour_counts(rows: Iterable[HourRow], directions: Mapping[str, str]) -> dict[tuple[int, str], HourCounts]:
    """Fold grouped door decisions into per-(hour, door) entries, exits, denied and per-reason attempts."""
    raw: dict[tuple[int, str], tuple[Counter[str], Counter[str]]] = {}
    for hour, door, reader, granted, reason, count in rows:
        totals, reasons = raw.setdefault((hour, door), (Counter(), Counter()))
        if not granted:
            totals["denied"] += count
        elif direction(directions, reader) == OUT:
            totals["exits"] += count
        else:
            totals["entries"] += count
        reasons[reason] += count
    return {
        key: HourCounts(entries=t["entries"], exits=t["exits"], denied=t["denied"], by_reason=dict(r))
        for key, (t, r) in raw.items()
    }


class _Window:
    """Granted entries and exits whose time lies in (start, t], sliding forward."""

    def __init__(self) -> None:
        self.items: deque[tuple[int, bool]] = deque()  # (t_ms, is_exit)
        self.entries = 0
        self.exits = 0

    def add(self, t_ms: int, is_exit: bool) -> None:
        self.items.append((t_ms, is_exit))
        if is_exit:
            self.exits += 1
        else:
            self.entries += 1

    def drop_until(self, start_ms: int) -> None:
        while self.items and self.items[0][0] <= start_ms:
            _, is_exit = self.items.popleft()
            if is_exit:
                self.exits -= 1
            else:
                self.entries -= 1


def presence_series(
    instants: Sequence[int],
    accesses: Iterable[Access],
    directions: Mapping[str, str],
    day_start: Callable[[int], int],
    stay_ms: int,
) -> Iterator[tuple[int, Presence]]:
    """People present at each instant (see the module docstring for the rule and when it is an estimate).

    `accesses` must cover (min(day_start(first), first - stay_ms), last], in time order.
    """
    counted = OUT in directions.values()
    today, recent = _Window(), _Window()
    pending = iter(accesses)
    upcoming = next(pending, None)
    for t in instants:
        while upcoming is not None and upcoming[0] <= t:
            t_ms, _door, reader, granted, _reason = upcoming
            if granted:
                is_exit = direction(directions, reader) == OUT
                today.add(t_ms, is_exit)
                recent.add(t_ms, is_exit)
            upcoming = next(pending, None)
        today.drop_until(day_start(t) - 1)
        recent.drop_until(t - stay_ms)
        present = max(0, today.entries - today.exits) if counted else recent.entries
        yield t, Presence(present=present, entries=today.entries, exits=today.exits, estimate=not counted)
