"""The forwarding side of the store: what is not yet forwarded, read in order, marked only after a 2xx.

A stream is one table read in `rid` order with its own cursor: raw events (table events) and derived series
(table derived) for InfluxDB, and the derived series again for the network's central store (`network`, filtered
by edge.collector.egress). A stream's cursor is the last `rid` the server accepted (or that was quarantined as
refused); it only moves forward, in the same transaction that quarantines refused rows. Rows are never loaded
beyond one batch.
"""

from __future__ import annotations

import contextlib
import sqlite3
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from edge.collector.schema import Bucket
from edge.collector.store import connect
from edge.errors import StoreError

NETWORK = "network"  # the stream the central store reads: derived rows, filtered on the way out
_SOURCES = {Bucket.RAW: ("events", "lines"), Bucket.AGGREGATE: ("derived", "line"), NETWORK: ("derived", "line")}
QUARANTINED_LINE_BYTES = 1024


@dataclass(frozen=True, slots=True)
class Pending:
    """One stored row waiting to be forwarded: its rid and its line protocol (one or more lines)."""

    rid: int
    lines: str


@dataclass(frozen=True, slots=True)
class Refused:
    """A row the server will never accept, with the server's reason."""

    row: Pending
    reason: str
    detail: str


class ForwardQueue:
    """Reads pending rows and advances the cursors; its own connection, safe to use from several threads. Its
    writes take `writer`, the store's writer lock, so that they queue behind the store's instead of colliding."""

    def __init__(self, path: Path, writer: threading.Lock) -> None:
        self._lock = threading.Lock()
        self._writer = writer
        try:
            self._db = connect(path)
        except sqlite3.Error as exc:
            raise StoreError(f"cannot open the collector store {path}: {exc}") from None

    def cursor(self, stream: str) -> int:
        """The last rid of this stream that needs no more forwarding."""
        with self._lock:
            return self._cursor(stream)

    def _cursor(self, stream: str) -> int:
        row = self._db.execute("SELECT value FROM meta WHERE key = ?", (f"cursor_{stream}",)).fetchone()
        return int(row[0]) if row else 0

    def pending(self, stream: str, limit: int, upto_rid: int | None = None) -> list[Pending]:
        """Up to `limit` rows after the cursor (and at most `upto_rid`), oldest first."""
        table, column = _SOURCES[stream]
        ceiling = "" if upto_rid is None else " AND rid <= ?"
        with self._lock:
            cursor = self._cursor(stream)
            params = (cursor, limit) if upto_rid is None else (cursor, upto_rid, limit)
            try:
                rows = self._db.execute(
                    f"SELECT rid, {column} FROM {table} WHERE rid > ?{ceiling} ORDER BY rid LIMIT ?", params
                ).fetchall()
            except sqlite3.Error as exc:
                raise StoreError(f"collector store read failed: {exc}") from None
        return [Pending(rid, lines) for rid, lines in rows]

    def latest_rid(self, stream: str) -> int:
        """The highest rid in this stream's table now (0 when empty)."""
        table, _column = _SOURCES[stream]
        with self._lock:
            try:
                row = self._db.execute(f"SELECT MAX(rid) FROM {table}").fetchone()
            except sqlite3.Error as exc:
                raise StoreError(f"collector store read failed: {exc}") from None
        return int(row[0] or 0)

    def advance(
        self,
        stream: str,
        upto_rid: int,
        refused: Sequence[Refused] = (),
        at_ms: int = 0,
        held: Sequence[tuple[int, int]] = (),
    ) -> None:
        """Mark every row up to `upto_rid` forwarded, quarantining the refused ones and holding `held` rows
        (rid, release time) for later, atomically."""
        with self._lock, self._writer:
            try:
                self._db.execute("BEGIN IMMEDIATE")
                self._db.executemany("INSERT OR REPLACE INTO network_held (rid, release_ms) VALUES (?, ?)", held)
                self._db.executemany(
                    "INSERT INTO quarantine (at_ms, source, topic, reason, detail, payload) VALUES (?, ?, ?, ?, ?, ?)",
                    [
                        (
                            at_ms,
                            "influx",
                            str(stream),
                            r.reason,
                            r.detail[:500],
                            r.row.lines.encode()[:QUARANTINED_LINE_BYTES],
                        )
                        for r in refused
                    ],
                )
                self._db.execute(
                    "INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value"
                    " WHERE excluded.value > meta.value",
                    (f"cursor_{stream}", upto_rid),
                )
                self._db.execute("COMMIT")
            except sqlite3.Error as exc:
                with contextlib.suppress(sqlite3.Error):
                    self._db.execute("ROLLBACK")
                raise StoreError(f"collector store write failed: {exc}") from None

    def held_due(self, now_ms: int, limit: int) -> list[Pending]:
        """Held rows whose release time has come, oldest first; rows replaced since they were held are dropped
        (their new version is examined in its turn)."""
        with self._lock, self._writer:
            try:
                self._db.execute("DELETE FROM network_held WHERE rid NOT IN (SELECT rid FROM derived)")
                rows = self._db.execute(
                    "SELECT h.rid, d.line FROM network_held AS h JOIN derived AS d ON d.rid = h.rid"
                    " WHERE h.release_ms <= ? ORDER BY h.rid LIMIT ?",
                    (now_ms, limit),
                ).fetchall()
            except sqlite3.Error as exc:
                raise StoreError(f"collector store read failed: {exc}") from None
        return [Pending(rid, line) for rid, line in rows]

    def release(self, rids: Sequence[int]) -> None:
        """Held rows that were sent: no longer held."""
        with self._lock, self._writer:
            try:
                self._db.executemany("DELETE FROM network_held WHERE rid = ?", [(rid,) for rid in rids])
            except sqlite3.Error as exc:
                raise StoreError(f"collector store write failed: {exc}") from None

    def held(self) -> int:
        """Rows held until the period they count is over."""
        with self._lock:
            return int(self._db.execute("SELECT COUNT(*) FROM network_held").fetchone()[0])

    def backlog(self, stream: str) -> int:
        """Rows of this stream not yet forwarded (for the network: not yet examined by its filter)."""
        table, _column = _SOURCES[stream]
        with self._lock:
            row = self._db.execute(f"SELECT COUNT(*) FROM {table} WHERE rid > ?", (self._cursor(stream),)).fetchone()
        return int(row[0])

    def close(self) -> None:
        """Close this connection."""
        with self._lock:
            self._db.close()
