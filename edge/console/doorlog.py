"""The door log: recent door decisions from the collector's local store, never older than the retention period.

Read-only SQLite (safe while the collector writes). Decisions carry the member id the door used; the console
turns it into a name from the member file here, on the hub: names never travel to a door or over MQTT.
"""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
import urllib.parse
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from edge.contract import Kind
from edge.errors import SourceError


@dataclass(frozen=True)
class Filters:
    """What staff narrow the log to: a door, a reason, a local day (each optional)."""

    door: str = ""
    reason: str = ""
    day: dt.date | None = None


@dataclass(frozen=True)
class Entry:
    """One decision as staff read it."""

    at: dt.datetime
    door: str
    reader: str
    member: str | None
    granted: bool
    reason: str


class DoorLog:
    """The decisions in a collector store, from `now - days` on."""

    def __init__(self, path: Path, tz: ZoneInfo, *, days: int) -> None:
        if not path.is_file():
            raise SourceError(f"no collector store at {path}")
        self.path, self.tz, self.days = path, tz, days
        try:
            uri = f"file:{urllib.parse.quote(str(path.resolve()))}?mode=ro"
            self._db = sqlite3.connect(uri, uri=True, timeout=30.0)
        except sqlite3.Error as exc:
            raise SourceError(f"cannot read the collector store {path}: {exc}") from None

    def close(self) -> None:
        """Close the connection."""
        self._db.close()

    def _where(self, filters: Filters, now: dt.datetime) -> tuple[str, list[object]]:
        oldest = now - dt.timedelta(days=self.days)
        low, high = int(oldest.timestamp() * 1000), int(now.timestamp() * 1000) + 86_400_000
        if filters.day is not None:
            start = dt.datetime.combine(filters.day, dt.time(), self.tz)
            end = dt.datetime.combine(filters.day + dt.timedelta(days=1), dt.time(), self.tz)
            low, high = max(low, int(start.timestamp() * 1000)), min(high, int(end.timestamp() * 1000))
        sql = "kind = ? AND ts_ms >= ? AND ts_ms < ?"
        params: list[object] = [str(Kind.DOOR_ACCESS), low, high]
        if filters.door:
            sql += " AND subject = ?"
            params.append(filters.door)
        if filters.reason:
            sql += " AND json_extract(CAST(payload AS TEXT), '$.reason') = ?"
            params.append(filters.reason)
        return sql, params

    def count(self, filters: Filters, now: dt.datetime) -> int:
        """How many decisions match."""
        where, params = self._where(filters, now)
        return int(self._rows(f"SELECT COUNT(*) FROM events WHERE {where}", params)[0][0])

    def entries(self, filters: Filters, now: dt.datetime, *, limit: int, offset: int = 0) -> list[Entry]:
        """Matching decisions, newest first."""
        where, params = self._where(filters, now)
        rows = self._rows(
            f"SELECT ts_ms, payload FROM events WHERE {where} ORDER BY ts_ms DESC, rid DESC LIMIT ? OFFSET ?",
            [*params, limit, offset],
        )
        return [e for e in (self._entry(ts, payload) for ts, payload in rows) if e is not None]

    def stream(self, filters: Filters, now: dt.datetime) -> Iterator[Entry]:
        """Every matching decision, oldest first (for the CSV export)."""
        where, params = self._where(filters, now)
        try:
            cursor = self._db.execute(f"SELECT ts_ms, payload FROM events WHERE {where} ORDER BY ts_ms, rid", params)
            for ts, payload in cursor:
                entry = self._entry(ts, payload)
                if entry is not None:
                    yield entry
        except sqlite3.Error as exc:
            raise SourceError(f"cannot read the collector store {self.path}: {exc}") from None

    def doors(self, now: dt.datetime) -> list[str]:
        """The doors with decisions in the retention period."""
        where, params = self._where(Filters(), now)
        return [str(r[0]) for r in self._rows(f"SELECT DISTINCT subject FROM events WHERE {where} ORDER BY 1", params)]

    def _rows(self, sql: str, params: list[object]) -> list[tuple[Any, ...]]:
        try:
            return self._db.execute(sql, params).fetchall()
        except sqlite3.Error as exc:
            raise SourceError(f"cannot read the collector store {self.path}: {exc}") from None

    def _entry(self, ts_ms: Any, payload: Any) -> Entry | None:
        try:
            body = json.loads(bytes(payload))
            at = dt.datetime.fromtimestamp(int(ts_ms) / 1000, self.tz)
            member = body.get("member")
            return Entry(
                at, str(body["door"]), str(body["reader"]), str(member) if member else None, bool(body["granted"]),
                str(body["reason"]),
            )  # fmt: skip
        except (ValueError, KeyError, TypeError, AttributeError):
            return None  # validated on ingest: only a damaged store gets here
