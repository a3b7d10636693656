"""The collector's local store as a report source: read-only SQLite, safe while the collector runs.

Occupancy is sampled from the desk transitions with the collector's own derivation (`edge.collector.derive`);
door figures come from the door decisions; passages from the stored door events, whose member pseudonyms are
replaced here by numbers that live only while the report is built. Data completeness comes from the per-node
seq ranges, which the retention purge never deletes.
"""

from __future__ import annotations

import json
import re
import sqlite3
import urllib.parse
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

from edge.collector import derive
from edge.collector.store import STATE_NAMES
from edge.contract import DeskState, Kind
from edge.errors import SourceError
from edge.report.model import DoorHour, NodeCompleteness, Passage, ZoneSample
from edge.report.source import HOUR_MS

_SITE_TAG = re.compile(r",site=([^,\s]+)")


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

    def occupancy(self, start_ms: int, end_ms: int, step_ms: int) -> list[ZoneSample]:
        """Samples on the grid up to the latest event the store holds (never into the future)."""
        latest = self._value("SELECT MAX(ts_ms) FROM events")
        if latest is None:
            return []
        instants = derive.grid(start_ms, min(end_ms - 1, latest), step_ms)
        if not instants:
            return []
        first, last = instants[0], instants[-1]
        series = derive.occupancy_series(self._desks_at(first), self._transitions(first, last), instants)
        return [
            ZoneSample(t, zone, c.occupied, c.vacant, c.unknown) for t, zones, _ in series for zone, c in zones.items()
        ]

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
        """Door decisions per hour, entries and exits told apart by the readers' directions."""
        rows = self._rows(
            "SELECT t_ms - t_ms % ? AS hour, reader, granted, COUNT(*) FROM accesses"
            " WHERE t_ms >= ? AND t_ms < ? GROUP BY hour, reader, granted",
            (HOUR_MS, start_ms, end_ms),
        )
        hours: dict[int, list[int]] = {}
        for hour, reader, granted, count in rows:
            tally = hours.setdefault(int(hour), [0, 0, 0])
            if not granted:
                tally[2] += int(count)
            elif derive.direction(self.directions, str(reader)) == derive.OUT:
                tally[1] += int(count)
            else:
                tally[0] += int(count)
        return [DoorHour(h, e, x, d) for h, (e, x, d) in sorted(hours.items())]

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

    def notes(self, start_ms: int, end_ms: int) -> list[str]:
        """Warnings: door records from before the period are gone (likely the retention purge); door records that
        the last `passages` call could not read.
        """
        notes = []
        if self._unreadable:
            notes.append(f"{self._unreadable} door records in the store could not be read and were left out.")
        first_access = self._value("SELECT MIN(t_ms) FROM accesses")
        first_desk = self._value("SELECT MIN(t_ms) FROM desk_transitions")
        if first_desk is not None and first_desk < start_ms and (first_access is None or first_access >= start_ms):
            notes.append(
                "The store holds desk data from before this period but no door record from before it: door records"
                " older than collector.retention_days are deleted, so door and member figures may miss days at the"
                " start of the period. Read older periods from InfluxDB's aggregate bucket."
            )
        return notes

    def close(self) -> None:
        """Close the connection."""
        self._db.close()
