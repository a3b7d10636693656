"""The durable outbox: an event is on disk, with its seq, before anything tries to publish it.

SQLite in WAL mode. A row waits until the broker has acknowledged it; it is then kept a while longer
(`keep_acked_s`, at most `keep_acked_events` rows) so that events a crashed broker acknowledged but never saved
can be published again when the collector asks (`replay`). The outbox is bounded: when full of waiting rows, the
oldest are dropped and counted (the count survives restarts and is published in the node status).
`seq` only increases, across restarts too, because the last value is stored with every insert.
One process owns an outbox file at a time (an exclusive lock), so two daemons cannot share a node identity.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import threading
from collections.abc import Callable, Collection
from dataclasses import dataclass
from pathlib import Path

from edge.errors import StoreError
from edge.files import lock_exclusive

_SCHEMA = """
CREATE TABLE IF NOT EXISTS outbox (
    seq INTEGER PRIMARY KEY,
    id TEXT NOT NULL,
    topic TEXT NOT NULL,
    payload BLOB NOT NULL,
    qos INTEGER NOT NULL,
    retain INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL);
"""
# Added after the first release: NULL while waiting for the broker, then when it acknowledged (ms since epoch).
_ACKED_COLUMN = "ALTER TABLE outbox ADD COLUMN acked_ms INTEGER"
_WAITING_INDEX = "CREATE INDEX IF NOT EXISTS outbox_waiting ON outbox (seq) WHERE acked_ms IS NULL"
_KEPT_INDEX = "CREATE INDEX IF NOT EXISTS outbox_kept ON outbox (acked_ms) WHERE acked_ms IS NOT NULL"


@dataclass(frozen=True)
class Row:
    """One stored, not yet acknowledged message."""

    seq: int
    id: str
    topic: str
    payload: bytes
    qos: int
    retain: bool


class Outbox:
    """A bounded, durable FIFO of encoded events keyed by seq."""

    def __init__(
        self,
        path: Path,
        *,
        max_events: int = 200_000,
        synchronous: str = "full",
        keep_acked_s: float = 3600.0,
        keep_acked_events: int = 20_000,
    ) -> None:
        self.path = path
        self.max_events = max_events
        self.keep_acked_ms = int(keep_acked_s * 1000)
        self.keep_acked_events = keep_acked_events
        path.parent.mkdir(parents=True, exist_ok=True)
        self._lock_file = lock_exclusive(
            path.with_suffix(path.suffix + ".lock"), str(path.parent), "each edge daemon needs its own node name"
        )
        self._lock = threading.Lock()
        try:
            self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute(f"PRAGMA synchronous={'FULL' if synchronous == 'full' else 'NORMAL'}")
            self._db.executescript(_SCHEMA)
            columns = {row[1] for row in self._db.execute("PRAGMA table_info(outbox)")}
            if "acked_ms" not in columns:
                self._db.execute(_ACKED_COLUMN)
            self._db.execute(_WAITING_INDEX)
            self._db.execute(_KEPT_INDEX)
            self._last_seq = self._meta("last_seq")
            self._dropped = self._meta("dropped")
            self._depth = int(self._db.execute("SELECT COUNT(*) FROM outbox WHERE acked_ms IS NULL").fetchone()[0])
            self._kept = int(self._db.execute("SELECT COUNT(*) FROM outbox WHERE acked_ms IS NOT NULL").fetchone()[0])
            self._next_expiry_ms = 0
            top = self._db.execute("SELECT MAX(seq) FROM outbox").fetchone()[0]
        except sqlite3.Error as exc:
            raise StoreError(f"cannot open outbox {path}: {exc}") from None
        if top is not None and top > self._last_seq:
            self._last_seq = int(top)

    def _meta(self, key: str) -> int:
        row = self._db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return int(row[0]) if row else 0

    @property
    def last_seq(self) -> int:
        """The highest seq ever assigned by this node."""
        return self._last_seq

    @property
    def depth(self) -> int:
        """How many events wait to be published and acknowledged."""
        return self._depth

    @property
    def dropped(self) -> int:
        """How many events were dropped because the outbox was full, ever."""
        return self._dropped

    def append(self, build: Callable[[int], Row]) -> Row:
        """Assign the next seq, build the row with it and store it durably, atomically.

        When full, the oldest rows are dropped and counted. Raises StoreError if the disk refuses; the seq is then
        still consumed, so the caller may keep the row and `restore` it later.
        """
        with self._lock:
            self._last_seq += 1
            row = build(self._last_seq)
            self._insert(row)
            return row

    def restore(self, row: Row) -> None:
        """Store a row built earlier whose first write failed (same seq)."""
        with self._lock:
            self._insert(row)

    def _insert(self, row: Row) -> None:
        try:
            self._db.execute("BEGIN IMMEDIATE")
            overflow = self._depth + 1 - self.max_events
            if overflow > 0:
                self._db.execute(
                    "DELETE FROM outbox WHERE seq IN"
                    " (SELECT seq FROM outbox WHERE acked_ms IS NULL ORDER BY seq LIMIT ?)",
                    (overflow,),
                )
                self._set("dropped", self._dropped + overflow)
            self._db.execute(
                "INSERT INTO outbox (seq, id, topic, payload, qos, retain) VALUES (?, ?, ?, ?, ?, ?)",
                (row.seq, row.id, row.topic, row.payload, row.qos, int(row.retain)),
            )
            self._set("last_seq", self._last_seq)
            self._db.execute("COMMIT")
        except sqlite3.Error as exc:
            self._rollback()
            raise StoreError(f"outbox write failed: {exc}") from None
        if overflow > 0:
            self._dropped += overflow
            self._depth -= overflow
        self._depth += 1

    def _set(self, key: str, value: int) -> None:
        self._db.execute(
            "INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = ?", (key, value, value)
        )

    def _rollback(self) -> None:
        with contextlib.suppress(sqlite3.Error):
            self._db.execute("ROLLBACK")

    def pending(self, limit: int, skip: Collection[int] = ()) -> list[Row]:
        """Up to `limit` rows, oldest first, leaving out the seqs in `skip` (already handed to the broker)."""
        with self._lock:
            try:
                rows = self._db.execute(
                    "SELECT seq, id, topic, payload, qos, retain FROM outbox WHERE acked_ms IS NULL ORDER BY seq"
                    " LIMIT ?",
                    (limit + len(skip),),
                ).fetchall()
            except sqlite3.Error as exc:
                raise StoreError(f"outbox read failed: {exc}") from None
        out = [Row(r[0], r[1], r[2], bytes(r[3]), r[4], bool(r[5])) for r in rows if r[0] not in skip]
        return out[:limit]

    def acknowledge(self, seqs: list[int], now_ms: int) -> None:
        """The broker acknowledged these: stop publishing them, keep them for `replay` a while, forget the oldest."""
        if not seqs:
            return
        with self._lock:
            try:
                self._db.execute("BEGIN IMMEDIATE")
                cursor = self._db.executemany(
                    "UPDATE outbox SET acked_ms = ? WHERE seq = ? AND acked_ms IS NULL", [(now_ms, s) for s in seqs]
                )
                acknowledged = max(cursor.rowcount, 0)
                forgotten = 0
                if now_ms >= self._next_expiry_ms:  # at most once a second: the kept rows' index makes it cheap
                    expired = self._db.execute("DELETE FROM outbox WHERE acked_ms < ?", (now_ms - self.keep_acked_ms,))
                    forgotten += max(expired.rowcount, 0)
                excess = self._kept + acknowledged - forgotten - self.keep_acked_events
                if excess > 0:
                    oldest = self._db.execute(
                        "DELETE FROM outbox WHERE seq IN"
                        " (SELECT seq FROM outbox WHERE acked_ms IS NOT NULL ORDER BY seq LIMIT ?)",
                        (excess,),
                    )
                    forgotten += max(oldest.rowcount, 0)
                self._db.execute("COMMIT")
            except sqlite3.Error as exc:
                self._rollback()
                raise StoreError(f"outbox update failed: {exc}") from None
            if now_ms >= self._next_expiry_ms:
                self._next_expiry_ms = now_ms + 1000
            self._depth -= acknowledged
            self._kept += acknowledged - forgotten

    def replay(self, first_seq: int, last_seq: int) -> int:
        """Queue again the kept (acknowledged) events first_seq..last_seq, not retained; how many there were.

        They were delivered retained once if they were states: published again retained, an old state would
        replace the current one on the broker.
        """
        with self._lock:
            try:
                self._db.execute("BEGIN IMMEDIATE")
                cursor = self._db.execute(
                    "UPDATE outbox SET acked_ms = NULL, retain = 0 WHERE acked_ms IS NOT NULL AND seq BETWEEN ? AND ?",
                    (first_seq, last_seq),
                )
                queued = cursor.rowcount
                self._db.execute("COMMIT")
            except sqlite3.Error as exc:
                self._rollback()
                raise StoreError(f"outbox replay failed: {exc}") from None
            self._depth += max(queued, 0)
            self._kept -= max(queued, 0)
            return max(queued, 0)

    @property
    def kept(self) -> int:
        """How many acknowledged events are kept for a replay."""
        return self._kept

    def close(self) -> None:
        """Close the database and release the node lock."""
        with self._lock:
            self._db.close()
            os.close(self._lock_file)
