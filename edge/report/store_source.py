"""The collector's local store as a report source: read-only SQLite, safe while the collector runs.

Occupancy is sampled from the desk transitions with the collector's own derivation (`edge.collector.derive`);
door figures come from the door decisions; passages from the stored door events, whose member pseudonyms are
replaced here by numbers that live only while the report is built. Data completeness comes from the per-node
seq ranges, which the retention purge never deletes.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import sqlite3
import urllib.parse
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

from edge.collector import derive
from edge.collector.store import STATE_NAMES, day_members_row, month_members_row, year_members
from edge.contract import DeskState, Kind
from edge.errors import SourceError
from edge.report.model import DoorHour, MemberAggregates, NodeCompleteness, Note, Passage, ZoneSample
from edge.report.source import HOUR_MS

_SITE_TAG = re.compile(r",site=([^,\s]+)")
_FIELD = re.compile(r"(?:\s|,)(entries|exits|denied)=(\d+)i")


def window_completeness(node: str, ranges: Iterable[tuple[int, int]], lo: int, hi: int) -> NodeCompleteness:
    """Seqs lo..hi against the received inclusive ranges: expected, received and holes (maximal missing runs)."""
    inside = sorted((max(a, lo), min(b, hi)) for a, b in ranges if b >= lo and a <= hi)
    received = sum(b - a + 1 for a, b in inside)
    gaps, cursor = 0, lo
    for a, b in inside:
        if a > cursor:
            gaps += 1
        cursor = max(cursor, b + 1)
    if cursor <= hi:
        gaps += 1
    return NodeCompleteness(node, hi - lo + 1, received, gaps)


class StoreSource:
    """Reads a collector store file without locking it; `directions` maps exit readers to `out`."""

    def __init__(self, path: Path, *, directions: Mapping[str, str] | None = None, site: str | None = None) -> None:
        if not path.is_file():
            raise SourceError(f"no collector store at {path}")
        self.path = path
        self.directions = dict(directions or {})
        self._site = site
        self._unreadable = 0
        try:
            uri = f"file:{urllib.parse.quote(str(path.resolve()))}?mode=ro"
            self._db = sqlite3.connect(uri, uri=True, timeout=30.0)
            self._db.execute("SELECT COUNT(*) FROM desk_transitions").fetchone()
        except sqlite3.Error as exc:
            raise SourceError(f"cannot read the collector store {path}: {exc}") from None

    def _rows(self, sql: str, params: tuple[object, ...] = ()) -> list[tuple[Any, ...]]:
        try:
            return self._db.execute(sql, params).fetchall()
        except sqlite3.Error as exc:
            raise SourceError(f"cannot read the collector store {self.path}: {exc}") from None

    def _value(self, sql: str, params: tuple[object, ...] = ()) -> int | None:
        rows = self._rows(sql, params)
        return None if not rows or rows[0][0] is None else int(rows[0][0])

    def describe(self) -> str:
        """The store's file name."""
        return f"collector store {self.path.name}"

    def site(self) -> str:
        """The site tag of the stored events (or the name given)."""
        if self._site:
            return self._site
        for (lines,) in self._rows("SELECT lines FROM events ORDER BY rid DESC LIMIT 1"):
            match = _SITE_TAG.search(str(lines))
            if match:
                return match.group(1)
        return "site"

    # -- occupancy ---------------------------------------------------------------------------------------------

    def occupancy(self, start_ms: int, end_ms: int, step_ms: int) -> Iterator[ZoneSample]:
        """Samples on the grid up to the latest event the store holds (never into the future), streamed."""
        latest = self._value("SELECT MAX(ts_ms) FROM events")
        if latest is None:
            return
        instants = derive.grid(start_ms, min(end_ms - 1, latest), step_ms)
        if not instants:
            return
        first, last = instants[0], instants[-1]
        series = derive.occupancy_series(self._desks_at(first), self._transitions(first, last), instants)
        for t, zones, _ in series:
            for zone, c in zones.items():
                yield ZoneSample(t, zone, c.occupied, c.vacant, c.unknown)

    def _desks_at(self, t_ms: int) -> dict[str, tuple[str, DeskState]]:
        out: dict[str, tuple[str, DeskState]] = {}
        for (desk,) in self._rows("SELECT DISTINCT desk FROM desk_transitions"):
            rows = self._rows(
                "SELECT zone, state FROM desk_transitions WHERE desk = ? AND t_ms <= ? ORDER BY t_ms DESC, rowid DESC"
                " LIMIT 1",
                (desk, t_ms),
            )
            if rows:
                out[str(desk)] = (str(rows[0][0]), STATE_NAMES[int(rows[0][1])])
        return out

    def _transitions(self, after_ms: int, upto_ms: int) -> Iterator[derive.Transition]:
        rows = self._rows(
            "SELECT t_ms, desk, zone, state FROM desk_transitions WHERE t_ms > ? AND t_ms <= ? ORDER BY t_ms, rowid",
            (after_ms, upto_ms),
        )
        for t, desk, zone, state in rows:
            yield int(t), str(desk), str(zone), STATE_NAMES[int(state)]

    # -- doors -------------------------------------------------------------------------------------------------

    def door_hours(self, start_ms: int, end_ms: int) -> list[DoorHour]:
        """Door decisions per hour, entries and exits told apart by the readers' directions.

        Hours whose decisions may have been purged come from the derived `entries_hourly` series instead (the
        collector applied the same directions when it derived them).
        """
        purged = self.passages_from_ms()
        hours: dict[int, list[int]] = {}
        if purged is not None and start_ms < purged:
            boundary = -(-purged // HOUR_MS) * HOUR_MS  # the hour the purge cut into is derived too
            hours.update(self._derived_hours(start_ms, min(end_ms, boundary)))
            start_ms = max(start_ms, boundary)
        rows = self._rows(
            "SELECT t_ms - t_ms % ? AS hour, reader, granted, COUNT(*) FROM accesses"
            " WHERE t_ms >= ? AND t_ms < ? GROUP BY hour, reader, granted",
            (HOUR_MS, start_ms, end_ms),
        )
        for hour, reader, granted, count in rows:
            tally = hours.setdefault(int(hour), [0, 0, 0])
            if not granted:
                tally[2] += int(count)
            elif derive.direction(self.directions, str(reader)) == derive.OUT:
                tally[1] += int(count)
            else:
                tally[0] += int(count)
        return [DoorHour(h, e, x, d) for h, (e, x, d) in sorted(hours.items())]

    def _derived_hours(self, start_ms: int, end_ms: int) -> dict[int, list[int]]:
        """Entries, exits and denied attempts per hour summed over doors, from the derived entries_hourly lines."""
        hours: dict[int, list[int]] = {}
        rows = self._rows(
            "SELECT t_ms, line FROM derived WHERE series LIKE 'entries_hourly,%' AND t_ms >= ? AND t_ms < ?",
            (start_ms, end_ms),
        )
        for t_ms, line in rows:
            fields = dict(_FIELD.findall(str(line)))
            tally = hours.setdefault(int(t_ms), [0, 0, 0])
            for i, name in enumerate(("entries", "exits", "denied")):
                tally[i] += int(fields.get(name, 0))
        return hours

    def passages(self, start_ms: int, end_ms: int) -> list[Passage]:
        """Granted passages; each member (or, without a member id, each badge token) becomes a number."""
        rows = self._rows(
            "SELECT ts_ms, payload FROM events WHERE retention = 1 AND kind = ? AND ts_ms >= ? AND ts_ms < ?"
            " ORDER BY ts_ms, rid",
            (str(Kind.DOOR_ACCESS), start_ms, end_ms),
        )
        numbers: dict[str, int] = {}
        out = []
        self._unreadable = 0
        for ts_ms, payload in rows:
            try:
                body = json.loads(bytes(payload))
            except ValueError:  # validated on ingest: only a damaged file gets here
                self._unreadable += 1
                continue
            if not isinstance(body, dict) or not body.get("granted"):
                continue
            who = str(body.get("member") or body.get("token"))
            visitor = numbers.setdefault(who, len(numbers))
            exit_ = derive.direction(self.directions, str(body.get("reader"))) == derive.OUT
            out.append(Passage(int(ts_ms), visitor, exit_))
        return out

    # -- completeness ------------------------------------------------------------------------------------------

    def completeness(self, start_ms: int, end_ms: int) -> list[NodeCompleteness]:
        """Per node: the seqs from just after the last one known before the range to the last one known in it."""
        before = dict(self._rows("SELECT node, MAX(seq) FROM events WHERE ts_ms < ? GROUP BY node", (start_ms,)))
        inside = self._rows(
            "SELECT node, MIN(CASE WHEN kind != ? THEN seq END), MAX(seq) FROM events"
            " WHERE ts_ms >= ? AND ts_ms < ? GROUP BY node",
            (str(Kind.NODE_STATUS), start_ms, end_ms),
        )
        ranges: dict[str, list[tuple[int, int]]] = {}
        for node, a, b in self._rows("SELECT node, lo, hi FROM seq_ranges"):
            ranges.setdefault(str(node), []).append((int(a), int(b)))
        out = []
        for node, first, last in inside:
            name = str(node)
            if name in before and before[name] is not None:
                lo = int(before[name]) + 1
            elif first is not None:
                lo = int(first)
            else:
                continue
            hi = int(last)
            if hi >= lo:
                out.append(window_completeness(name, ranges.get(name, []), lo, hi))
        return out

    def notes(self, start_ms: int, end_ms: int) -> list[Note]:
        """Warnings: door records that the last `passages` call could not read; door records from before the
        period gone (likely the retention purge) with no member aggregate in their place (an older collector).
        """
        notes = []
        if self._unreadable:
            notes.append(Note("unreadable_records", self._unreadable))
        first_access = self._value("SELECT MIN(t_ms) FROM accesses")
        first_desk = self._value("SELECT MIN(t_ms) FROM desk_transitions")
        gone = first_desk is not None and first_desk < start_ms and (first_access is None or first_access >= start_ms)
        if gone and not self._has_table("member_days"):
            notes.append(Note("door_records_expired"))
        return notes

    # -- member aggregates -------------------------------------------------------------------------------------

    def passages_from_ms(self) -> int | None:
        """Door records before this instant may have been deleted by the retention purge (None: never purged)."""
        if not self._has_table("meta"):
            return None
        return self._value("SELECT value FROM meta WHERE key = 'pseudonymous_purged_before'")

    def members(self, first: dt.date, last: dt.date) -> MemberAggregates:
        """The stored member aggregates of days first..last, their months and years (a sketch is never read)."""
        if not self._has_table("member_days"):
            return MemberAggregates()
        days = self._rows(
            "SELECT day, members, entries, measured, incomplete, visit_s, bins FROM member_days"
            " WHERE day >= ? AND day <= ? ORDER BY day",
            (first.isoformat(), last.isoformat()),
        )
        months = self._rows(
            "SELECT month, members, frequency, days FROM member_months WHERE month >= ? AND month <= ? ORDER BY month",
            (first.isoformat()[:7], last.isoformat()[:7]),
        )
        years = self._rows(
            "SELECT year, NULL, members, error, first_day, last_day, final, interrupted FROM member_years"
            " WHERE year >= ? AND year <= ? ORDER BY year",
            (first.year, last.year),
        )
        return MemberAggregates(
            [day_members_row(r) for r in days], [month_members_row(r) for r in months], [year_members(r) for r in years]
        )

    def _has_table(self, name: str) -> bool:
        return bool(self._rows("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (name,)))

    def close(self) -> None:
        """Close the connection."""
        self._db.close()
