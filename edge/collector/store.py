"""The collector's local store: SQLite in WAL mode, `synchronous=FULL`, one writer thread.

A batch of messages is committed in one transaction; only after `commit` returns may the caller acknowledge
those messages to the broker. Events are deduplicated by `id`; per-node seq ranges, the latest state per
retained topic, typed desk transitions and door decisions (for the derived series) and the quarantine are
updated in the same transaction, so a crash leaves all of them consistent with the events table.

Tables: events (raw events, forwarded in `rid` order), desk_transitions (one row per change of a desk's state:
a heartbeat that re-confirms a known state adds nothing), accesses (no pseudonym), latest, seq_ranges, nodes,
quarantine, derived (the derived series, forwarded in `rid` order), meta, and the anonymous member aggregates
member_days, member_months, member_years (edge/collector/aggregates.py; a year's sketch registers are kept only
until the year closes).

Every time column holds the event's effective time (`Accepted.ts_ms`): never later than its receipt plus the
collector's allowed clock skew, so purging by time also bounds how long after its receipt a record is kept.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import json
import os
import sqlite3
import threading
from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from edge.collector.egress import LEAVES_SITE
from edge.collector.ingest import Accepted, AccessDecision, DeskChange, Ignored, Outcome, Rejected
from edge.collector.lineprotocol import Point
from edge.collector.members import DayMembers, MonthMembers, YearMembers
from edge.collector.schema import Completeness, Retention
from edge.collector.seqtrack import NodeSeqs
from edge.contract import DeskState, Kind
from edge.errors import StoreError
from edge.files import lock_exclusive

SCHEMA = """
CREATE TABLE IF NOT EXISTS events (
    rid INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    kind TEXT NOT NULL,
    node TEXT NOT NULL,
    seq INTEGER NOT NULL,
    ts_ms INTEGER NOT NULL,
    subject TEXT NOT NULL,
    retention INTEGER NOT NULL,
    received_ms INTEGER NOT NULL,
    payload BLOB NOT NULL,
    lines TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS events_age ON events(retention, ts_ms);
CREATE TABLE IF NOT EXISTS desk_transitions (
    desk TEXT NOT NULL, zone TEXT NOT NULL, state INTEGER NOT NULL, t_ms INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS desk_transitions_desk ON desk_transitions(desk, t_ms);
CREATE INDEX IF NOT EXISTS desk_transitions_time ON desk_transitions(t_ms);
CREATE TABLE IF NOT EXISTS accesses (
    t_ms INTEGER NOT NULL, door TEXT NOT NULL, reader TEXT NOT NULL, granted INTEGER NOT NULL, reason TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS accesses_time ON accesses(t_ms);
CREATE TABLE IF NOT EXISTS latest (
    kind TEXT NOT NULL, subject TEXT NOT NULL, ts_ms INTEGER NOT NULL, payload BLOB NOT NULL,
    PRIMARY KEY (kind, subject)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS seq_ranges (
    node TEXT NOT NULL, lo INTEGER NOT NULL, hi INTEGER NOT NULL, PRIMARY KEY (node, lo)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS nodes (node TEXT PRIMARY KEY, announced INTEGER NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS quarantine (
    qid INTEGER PRIMARY KEY AUTOINCREMENT,
    at_ms INTEGER NOT NULL,
    source TEXT NOT NULL,
    topic TEXT NOT NULL,
    reason TEXT NOT NULL,
    detail TEXT NOT NULL,
    payload BLOB NOT NULL
);
CREATE INDEX IF NOT EXISTS quarantine_age ON quarantine(at_ms);
CREATE TABLE IF NOT EXISTS derived (
    rid INTEGER PRIMARY KEY AUTOINCREMENT,
    series TEXT NOT NULL,
    t_ms INTEGER NOT NULL,
    line TEXT NOT NULL,
    UNIQUE (series, t_ms)
);
CREATE TABLE IF NOT EXISTS network_held (rid INTEGER PRIMARY KEY, release_ms INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS member_days (
    day TEXT PRIMARY KEY, members INTEGER NOT NULL, entries INTEGER NOT NULL, measured INTEGER NOT NULL,
    incomplete INTEGER NOT NULL, visit_s INTEGER NOT NULL, bins TEXT NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS member_months (
    month TEXT PRIMARY KEY, members INTEGER NOT NULL, frequency TEXT NOT NULL, days INTEGER NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS member_years (
    year INTEGER PRIMARY KEY, registers BLOB, members INTEGER NOT NULL, error INTEGER NOT NULL,
    first_day TEXT NOT NULL, last_day TEXT NOT NULL, final INTEGER NOT NULL, interrupted INTEGER NOT NULL
);
"""

STATE_CODES = {DeskState.VACANT: 0, DeskState.OCCUPIED: 1, DeskState.UNKNOWN: 2}
STATE_NAMES = {code: state for state, code in STATE_CODES.items()}
RETAINED_KINDS = frozenset({Kind.DESK_OCCUPANCY, Kind.DOOR_STATE, Kind.ZONE_OCCUPANCY, Kind.NODE_STATUS})
HOUR_MS = 3_600_000
NO_MARK = -1
NETWORK_CURSOR = "cursor_network"  # the network stream's cursor (edge.collector.outqueue, stream `network`)
NETWORK_CORRECTIONS = "network_corrections"
_PURGE_CHUNK = 5000


@dataclass
class CommitResult:
    """What one committed batch contained."""

    stored: int = 0
    duplicates: int = 0
    ignored: int = 0
    quarantined: Counter[str] = field(default_factory=Counter)
    seq_reused: int = 0
    clock_ahead: Counter[str] = field(default_factory=Counter)  # per node: events stored at their receipt time
    ahead_ms: dict[str, int] = field(default_factory=dict)  # per node: the furthest ahead such an event was dated


@dataclass
class DirtyMarks:
    """What the derived series must recompute because events arrived for times already derived."""

    derived_upto: int = NO_MARK  # last grid instant computed
    dirty_from: int = NO_MARK  # earliest event time at or before derived_upto that arrived since
    hours_from: int = NO_MARK  # hour buckets with new door decisions, first and last
    hours_to: int = NO_MARK
    complete_upto: int = NO_MARK  # last instant data completeness was written for
    members_from: int = NO_MARK  # earliest door decision that arrived since the member aggregates were computed
    members_upto: int = NO_MARK  # local midnight of the last day the member aggregates were computed for

    def touch_instant(self, t_ms: int) -> None:
        """An event at t_ms changes the grid from t_ms on."""
        if self.derived_upto != NO_MARK and t_ms <= self.derived_upto:
            self.dirty_from = t_ms if self.dirty_from == NO_MARK else min(self.dirty_from, t_ms)

    def touch_members(self, t_ms: int) -> None:
        """A door decision at t_ms changes that day's member figures."""
        self.members_from = t_ms if self.members_from == NO_MARK else min(self.members_from, t_ms)

    def touch_hour(self, t_ms: int) -> None:
        """A door decision at t_ms changes its hour's counts."""
        hour = t_ms - t_ms % HOUR_MS
        self.hours_from = hour if self.hours_from == NO_MARK else min(self.hours_from, hour)
        self.hours_to = max(self.hours_to, hour)


def _ints(values: Sequence[int]) -> str:
    return ",".join(str(v) for v in values)


def _parse_ints(text: str) -> tuple[int, ...]:
    return tuple(int(v) for v in text.split(",")) if text else ()


def day_members_row(row: Sequence[Any]) -> DayMembers:
    """A member_days row as DayMembers."""
    day, members, entries, measured, incomplete, visit_s, bins = row
    return DayMembers(dt.date.fromisoformat(day), members, entries, measured, incomplete, visit_s, _parse_ints(bins))


def month_members_row(row: Sequence[Any]) -> MonthMembers:
    """A member_months row as MonthMembers."""
    month, members, frequency, days = row
    return MonthMembers(dt.date.fromisoformat(month + "-01"), members, _parse_ints(frequency), days)


def year_members(row: Sequence[Any]) -> YearMembers:
    """A member_years row (year, registers, members, error, first_day, last_day, final, interrupted)."""
    year, registers, members, error, first_day, last_day, final, interrupted = row
    return YearMembers(
        int(year),
        int(members),
        int(error),
        dt.date.fromisoformat(first_day),
        dt.date.fromisoformat(last_day),
        bool(final),
        bool(interrupted),
        None if registers is None else bytes(registers),
    )


def connect(path: Path, *, synchronous: str = "FULL") -> sqlite3.Connection:
    """Open the store file with the pragmas every connection needs."""
    db = sqlite3.connect(path, check_same_thread=False, isolation_level=None, timeout=30.0)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute(f"PRAGMA synchronous={synchronous}")
    db.execute("PRAGMA cache_size=-500")
    return db


class Store:
    """The writer side of the store: ingest batches, derived series, purge. Use from one thread."""

    def __init__(self, path: Path, *, synchronous: str = "FULL") -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        self._lock_fd = lock_exclusive(
            path.with_suffix(path.suffix + ".lock"), str(path), "each collector needs its own store"
        )
        self._lock = threading.Lock()
        # Taken by every writer of this file (this store and the forward queue's connection) around a write
        # transaction: two connections that collide meet in SQLite's busy handler instead, which sleeps 1 to 100 ms
        # in steps (bench_collector's drain: 31 ms per forwarder transaction, 3 ms per ingest commit).
        self.writer = threading.Lock()
        try:
            self._db = connect(path, synchronous=synchronous)
            # Deleted rows are overwritten with zeros: purged access records and a closed year's sketch leave no
            # copy in the file's free pages.
            self._db.execute("PRAGMA secure_delete=ON")
            self._db.executescript(SCHEMA)
            self.seqs = self._load_seqs()
            self.marks = DirtyMarks(**{name: self._meta(name) for name in DirtyMarks.__dataclass_fields__})
        except sqlite3.Error as exc:
            os.close(self._lock_fd)
            raise StoreError(f"cannot open the collector store {path}: {exc}") from None

    # -- helpers -------------------------------------------------------------------------------------------

    def _meta(self, key: str, default: int = NO_MARK) -> int:
        row = self._db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return int(row[0]) if row else default

    def _set_meta(self, key: str, value: int) -> None:
        self._db.execute(
            "INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
            (key, value),
        )

    def _load_seqs(self) -> dict[str, NodeSeqs]:
        ranges: dict[str, list[tuple[int, int]]] = {}
        for node, lo, hi in self._db.execute("SELECT node, lo, hi FROM seq_ranges"):
            ranges.setdefault(node, []).append((lo, hi))
        announced = dict(self._db.execute("SELECT node, announced FROM nodes").fetchall())
        return {
            node: NodeSeqs(ranges.get(node, ()), int(announced.get(node, 0))) for node in set(ranges) | set(announced)
        }

    @contextlib.contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        with self._lock, self.writer:
            try:
                self._db.execute("BEGIN IMMEDIATE")
                yield self._db
                self._db.execute("COMMIT")
            except sqlite3.Error as exc:
                with contextlib.suppress(sqlite3.Error):
                    self._db.execute("ROLLBACK")
                raise StoreError(f"collector store write failed: {exc}") from None

    # -- ingest --------------------------------------------------------------------------------------------

    def commit(self, batch: Sequence[Outcome], received_ms: int) -> CommitResult:
        """Store a batch durably in one transaction; the messages may be acknowledged once this returns.

        Raises StoreError (nothing stored, nothing to acknowledge) when the disk refuses.
        """
        result = CommitResult()
        accepted = [o for o in batch if isinstance(o, Accepted)]
        fresh = self._fresh(accepted)
        result.duplicates = len(accepted) - len(fresh)
        seqs_before = {node: list(s.ranges()) for node, s in self.seqs.items()}
        announced_before = {node: s.announced for node, s in self.seqs.items()}
        marks_before = dataclasses.replace(self.marks)
        try:
            with self._transaction() as db:
                self._insert_events(db, fresh, received_ms)
                result.seq_reused = self._track_seqs(db, fresh)
                self._insert_typed(db, fresh)
                for outcome in batch:
                    if isinstance(outcome, Rejected):
                        self._quarantine(db, received_ms, "mqtt", outcome)
                        result.quarantined[outcome.reason] += 1
                    elif isinstance(outcome, Ignored):
                        result.ignored += 1
                if self.marks != marks_before:
                    self._save_marks(db)
        except StoreError:
            self.seqs = {n: NodeSeqs(r, announced_before.get(n, 0)) for n, r in seqs_before.items()}
            self.marks = marks_before
            raise
        result.stored = len(fresh)
        for a in fresh:
            if a.ahead_ms:
                node = a.node
                result.clock_ahead[node] += 1
                result.ahead_ms[node] = max(result.ahead_ms.get(node, 0), a.ahead_ms)
        return result

    def _fresh(self, accepted: list[Accepted]) -> list[Accepted]:
        ids = [a.id for a in accepted]
        seen: set[str] = set()
        for start in range(0, len(ids), 500):
            chunk = ids[start : start + 500]
            marks = ",".join("?" * len(chunk))
            with self._lock:
                seen.update(r[0] for r in self._db.execute(f"SELECT id FROM events WHERE id IN ({marks})", chunk))
        fresh = []
        for a in accepted:
            if a.id not in seen:
                seen.add(a.id)
                fresh.append(a)
        return fresh

    @staticmethod
    def _insert_events(db: sqlite3.Connection, fresh: list[Accepted], received_ms: int) -> None:
        db.executemany(
            "INSERT INTO events (id, kind, node, seq, ts_ms, subject, retention, received_ms, payload, lines)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                (
                    a.id,
                    a.kind.value,
                    a.node,
                    a.seq,
                    a.ts_ms,
                    a.subject,
                    a.retention.value,
                    received_ms,
                    a.payload,
                    a.lines,
                )
                for a in fresh
            ],
        )

    def _track_seqs(self, db: sqlite3.Connection, fresh: list[Accepted]) -> int:
        touched: set[str] = set()
        reused = 0
        for a in fresh:
            node, seq = a.node, a.seq
            seqs = self.seqs.get(node) or self.seqs.setdefault(node, NodeSeqs())
            touched.add(node)
            if a.kind is Kind.NODE_STATUS:
                seqs.announce(seq)  # a status consumes no seq: it announces the node's latest
            elif not seqs.add(seq):
                reused += 1
        for node in touched:
            seqs = self.seqs[node]
            db.execute("DELETE FROM seq_ranges WHERE node = ?", (node,))
            db.executemany(
                "INSERT INTO seq_ranges (node, lo, hi) VALUES (?, ?, ?)", [(node, lo, hi) for lo, hi in seqs.ranges()]
            )
            db.execute(
                "INSERT INTO nodes (node, announced) VALUES (?, ?)"
                " ON CONFLICT(node) DO UPDATE SET announced = excluded.announced",
                (node, seqs.announced),
            )
        return reused

    def _insert_typed(self, db: sqlite3.Connection, fresh: list[Accepted]) -> None:
        desks, accesses = [], []
        seen: set[tuple[str, int, int]] = set()
        latest: dict[tuple[str, str], tuple[str, str, int, bytes]] = {}  # newest per subject within the batch
        for a in fresh:
            body = a.detail
            if isinstance(body, DeskChange):
                since = body.since_ms
                t = min(since, a.ts_ms)
                change = (body.desk, t, STATE_CODES[body.state])
                # A change (ts = since) is new by its id; a heartbeat usually repeats a change already stored.
                if change not in seen and (since == a.ts_ms or not self._known_transition(db, change)):
                    seen.add(change)
                    desks.append((body.desk, body.zone, change[2], t))
                    self.marks.touch_instant(t)
            elif isinstance(body, AccessDecision):
                accesses.append((a.ts_ms, body.door, body.reader, int(body.granted), body.reason))
                self.marks.touch_instant(a.ts_ms)
                self.marks.touch_hour(a.ts_ms)
                if body.granted:
                    self.marks.touch_members(a.ts_ms)
            if a.kind in RETAINED_KINDS:
                key = (a.kind.value, a.subject)
                if key not in latest or latest[key][2] <= a.ts_ms:
                    latest[key] = (key[0], key[1], a.ts_ms, a.payload)
        db.executemany("INSERT INTO desk_transitions (desk, zone, state, t_ms) VALUES (?, ?, ?, ?)", desks)
        db.executemany("INSERT INTO accesses (t_ms, door, reader, granted, reason) VALUES (?, ?, ?, ?, ?)", accesses)
        db.executemany(
            "INSERT INTO latest (kind, subject, ts_ms, payload) VALUES (?, ?, ?, ?)"
            " ON CONFLICT(kind, subject) DO UPDATE SET ts_ms = excluded.ts_ms, payload = excluded.payload"
            " WHERE excluded.ts_ms >= latest.ts_ms",
            list(latest.values()),
        )

    @staticmethod
    def _known_transition(db: sqlite3.Connection, key: tuple[str, int, int]) -> bool:
        """Whether (desk, t_ms, state) is stored. A heartbeat repeats its change's `since`: it adds no row and,
        above all, does not make the derived series recompute everything since the desk last changed."""
        row = db.execute("SELECT 1 FROM desk_transitions WHERE desk = ? AND t_ms = ? AND state = ? LIMIT 1", key)
        return row.fetchone() is not None

    @staticmethod
    def _quarantine(db: sqlite3.Connection, at_ms: int, source: str, rejected: Rejected) -> None:
        db.execute(
            "INSERT INTO quarantine (at_ms, source, topic, reason, detail, payload) VALUES (?, ?, ?, ?, ?, ?)",
            (at_ms, source, rejected.topic, rejected.reason, rejected.detail, rejected.payload),
        )

    def _save_marks(self, db: sqlite3.Connection) -> None:
        for key, value in vars(self.marks).items():
            self._set_meta(key, value)

    # -- derived series ------------------------------------------------------------------------------------

    def desks_at(self, t_ms: int) -> dict[str, tuple[str, DeskState]]:
        """Each known desk's zone and state as of t_ms (desks first seen later are absent)."""
        out: dict[str, tuple[str, DeskState]] = {}
        with self._lock:
            desks = [
                r[0] for r in self._db.execute("SELECT subject FROM latest WHERE kind = ?", (Kind.DESK_OCCUPANCY,))
            ]
            for desk in desks:
                row = self._db.execute(
                    "SELECT zone, state FROM desk_transitions WHERE desk = ? AND t_ms <= ?"
                    " ORDER BY t_ms DESC, rowid DESC LIMIT 1",
                    (desk, t_ms),
                ).fetchone()
                if row is not None:
                    out[desk] = (row[0], STATE_NAMES[row[1]])
        return out

    def desk_transitions(self, after_ms: int, upto_ms: int) -> Iterator[tuple[int, str, str, DeskState]]:
        """Transitions with after_ms < t <= upto_ms in time order, streamed: (t_ms, desk, zone, state)."""
        with self._lock:
            cursor = self._db.execute(
                "SELECT t_ms, desk, zone, state FROM desk_transitions WHERE t_ms > ? AND t_ms <= ?"
                " ORDER BY t_ms, rowid",
                (after_ms, upto_ms),
            )
        for t, desk, zone, state in cursor:
            yield t, desk, zone, STATE_NAMES[state]

    def accesses(self, after_ms: int, upto_ms: int) -> Iterator[tuple[int, str, str, bool, str]]:
        """Door decisions with after_ms < t <= upto_ms in time order: (t_ms, door, reader, granted, reason)."""
        with self._lock:
            cursor = self._db.execute(
                "SELECT t_ms, door, reader, granted, reason FROM accesses WHERE t_ms > ? AND t_ms <= ?"
                " ORDER BY t_ms, rowid",
                (after_ms, upto_ms),
            )
        for t, door, reader, granted, reason in cursor:
            yield t, door, reader, bool(granted), reason

    def hour_rows(self, from_ms: int, before_ms: int) -> list[tuple[int, str, str, bool, str, int]]:
        """Door decisions grouped by hour, door, reader, outcome and reason for from_ms <= t < before_ms."""
        with self._lock:
            rows = self._db.execute(
                "SELECT t_ms - t_ms % ? AS hour, door, reader, granted, reason, COUNT(*) FROM accesses"
                " WHERE t_ms >= ? AND t_ms < ? GROUP BY hour, door, reader, granted, reason",
                (HOUR_MS, from_ms, before_ms),
            ).fetchall()
        return [(h, door, reader, bool(g), reason, n) for h, door, reader, g, reason, n in rows]

    def first_derivable_ms(self) -> int | None:
        """The time of the earliest desk transition or door decision, if any."""
        with self._lock:
            row = self._db.execute(
                "SELECT MIN(t) FROM (SELECT MIN(t_ms) AS t FROM desk_transitions"
                " UNION ALL SELECT MIN(t_ms) FROM accesses)"
            ).fetchone()
        return None if row[0] is None else int(row[0])

    def save_derived(self, points: Sequence[Point], marks: DirtyMarks) -> int:
        """Store derived points (a changed point gets a new rid so it is forwarded again) and the new marks.

        Returns how many points were new or changed.
        """
        with self._transaction() as db:
            changed = self._save_points(db, points)
            self.marks = marks
            self._save_marks(db)
        return changed

    def _save_points(self, db: sqlite3.Connection, points: Sequence[Point]) -> int:
        """Store derived points in the open transaction; count the rows that change after the network sent them."""
        changed = corrected = 0
        sent_upto = self._meta(NETWORK_CURSOR)  # NO_MARK when the site belongs to no network
        for point in points:
            series, t_ms, line = point.series_key(), point.time_ns // 1_000_000, point.line()
            row = db.execute("SELECT rid, line FROM derived WHERE series = ? AND t_ms = ?", (series, t_ms)).fetchone()
            if row is not None and row[1] == line:
                continue
            if row is not None:
                db.execute("DELETE FROM derived WHERE series = ? AND t_ms = ?", (series, t_ms))
                if row[0] <= sent_upto and point.measurement in LEAVES_SITE and not self._held(db, row[0]):
                    corrected += 1
            db.execute("INSERT INTO derived (series, t_ms, line) VALUES (?, ?, ?)", (series, t_ms, line))
            changed += 1
        if corrected:
            self._set_meta(NETWORK_CORRECTIONS, self._meta(NETWORK_CORRECTIONS, 0) + corrected)
        return changed

    @staticmethod
    def _held(db: sqlite3.Connection, rid: int) -> bool:
        """Whether the network output holds this row until its period ends (so it has not been sent)."""
        return db.execute("SELECT 1 FROM network_held WHERE rid = ?", (rid,)).fetchone() is not None

    def network_corrections(self) -> int:
        """Derived rows of series that leave the site, changed after the network stream had sent them.

        The central store keeps the first value it was sent for such a row (or the larger one): a figure that
        should stay 0 (docs/architecture.md, "Settling"); raise `collector.network.settle_s` when it grows.
        """
        with self._lock:
            return self._meta(NETWORK_CORRECTIONS, 0)

    # -- member aggregates -------------------------------------------------------------------------------

    def door_passages(self, from_ms: int, before_ms: int) -> list[tuple[int, str, str]]:
        """Granted door decisions with from_ms <= t < before_ms, in time order: (t_ms, member, reader).

        `member` is the member id, or the badge token for a badge without one: pseudonymous, read only to
        compute the member aggregates. A payload that cannot be read (a damaged file) is skipped.
        """
        with self._lock:
            rows = self._db.execute(
                "SELECT ts_ms, payload FROM events WHERE retention = ? AND kind = ? AND ts_ms >= ? AND ts_ms < ?"
                " ORDER BY ts_ms, rid",
                (int(Retention.PSEUDONYMOUS), str(Kind.DOOR_ACCESS), from_ms, before_ms),
            ).fetchall()
        out = []
        for ts_ms, payload in rows:
            try:
                body = json.loads(bytes(payload))
            except ValueError:
                continue
            if isinstance(body, dict) and body.get("granted"):
                out.append((int(ts_ms), str(body.get("member") or body.get("token")), str(body.get("reader"))))
        return out

    def member_year(self, year: int) -> YearMembers | None:
        """A year's row of the member aggregates, with its sketch while it is open."""
        with self._lock:
            row = self._db.execute(
                "SELECT year, registers, members, error, first_day, last_day, final, interrupted FROM member_years"
                " WHERE year = ?",
                (year,),
            ).fetchone()
        return None if row is None else year_members(row)

    def open_years(self) -> list[int]:
        """Years whose sketch is still kept."""
        with self._lock:
            return [int(r[0]) for r in self._db.execute("SELECT year FROM member_years WHERE final = 0")]

    def member_days_between(self, first: dt.date, last: dt.date) -> list[DayMembers]:
        """Stored day figures from `first` to `last` inclusive."""
        with self._lock:
            rows = self._db.execute(
                "SELECT day, members, entries, measured, incomplete, visit_s, bins FROM member_days"
                " WHERE day >= ? AND day <= ? ORDER BY day",
                (first.isoformat(), last.isoformat()),
            ).fetchall()
        return [day_members_row(r) for r in rows]

    def save_members(
        self,
        days: Sequence[DayMembers],
        months: Sequence[MonthMembers],
        years: Sequence[YearMembers],
        points: Sequence[Point],
        marks: DirtyMarks,
    ) -> int:
        """Store member aggregates, their points for InfluxDB and the new marks in one transaction.

        A closed year's registers are overwritten (the store runs with SQLite's secure_delete) so that the file
        keeps no copy.
        Returns how many points were new or changed.
        """
        with self._transaction() as db:
            db.executemany(
                "INSERT OR REPLACE INTO member_days (day, members, entries, measured, incomplete, visit_s, bins)"
                " VALUES (?, ?, ?, ?, ?, ?, ?)",
                [
                    (d.day.isoformat(), d.members, d.entries, d.measured, d.incomplete, d.visit_s, _ints(d.bins))
                    for d in days
                ],
            )
            db.executemany(
                "INSERT OR REPLACE INTO member_months (month, members, frequency, days) VALUES (?, ?, ?, ?)",
                [(m.month.isoformat()[:7], m.members, _ints(m.frequency), m.days) for m in months],
            )
            db.executemany(
                "INSERT OR REPLACE INTO member_years"
                " (year, registers, members, error, first_day, last_day, final, interrupted)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    (
                        y.year,
                        None if y.final else y.registers,
                        y.members,
                        y.error,
                        y.first_day.isoformat(),
                        y.last_day.isoformat(),
                        int(y.final),
                        int(y.interrupted),
                    )
                    for y in years
                ],
            )
            changed = self._save_points(db, points)
            self.marks = marks
            self._save_marks(db)
        return changed

    def checkpoint(self) -> None:
        """Move the write-ahead log into the file and truncate it (after a year's sketch is erased)."""
        with self._lock, self.writer:
            self._db.execute("PRAGMA wal_checkpoint(TRUNCATE)")

    def holes(self) -> dict[str, list[tuple[int, int]]]:
        """Per node, the seq ranges not received (see NodeSeqs.holes)."""
        with self._lock:
            return {node: h for node, s in self.seqs.items() if (h := s.holes())}

    def completeness(self) -> dict[str, Completeness]:
        """Per-node completeness figures (nodes that have sent at least one event)."""
        with self._lock:
            return {node: s.completeness() for node, s in self.seqs.items() if s.completeness().expected}

    # -- retention -----------------------------------------------------------------------------------------

    def purge(self, before_ms: Mapping[Retention, int | None], *, dated_after_ms: int | None = None) -> Counter[str]:
        """Delete raw events older than their class's cutoff (None: keep), and with the pseudonymous cutoff the
        door decisions behind the derived series and the quarantine (a malformed payload may hold a pseudonym).
        Derived series and each desk's latest transition stay.

        Events dated after `dated_after_ms` (now plus the allowed clock skew) cannot have been stored with the
        clock bound in place; a store written before it may hold some. Those go by their receipt time instead.
        """
        removed: Counter[str] = Counter()
        for retention, cutoff in before_ms.items():
            if cutoff is not None:
                removed[f"{retention.name.lower()}_events"] = self._purge_chunks(
                    "DELETE FROM events WHERE rid IN"
                    " (SELECT rid FROM events WHERE retention = ? AND ts_ms < ? LIMIT ?)",
                    (int(retention), cutoff),
                )
                if dated_after_ms is not None:
                    removed[f"{retention.name.lower()}_events"] += self._purge_chunks(
                        "DELETE FROM events WHERE rid IN (SELECT rid FROM events"
                        " WHERE retention = ? AND ts_ms > ? AND received_ms < ? LIMIT ?)",
                        (int(retention), dated_after_ms, cutoff),
                    )
        personal = before_ms.get(Retention.PSEUDONYMOUS)
        if personal is not None:
            with self._transaction():  # a reader knows that door records before this may be gone
                self._set_meta("pseudonymous_purged_before", max(personal, self._meta("pseudonymous_purged_before")))
            removed["accesses"] = self._purge_chunks(
                "DELETE FROM accesses WHERE rowid IN (SELECT rowid FROM accesses WHERE t_ms < ? LIMIT ?)", (personal,)
            )
            removed["quarantine"] = self._purge_chunks(
                "DELETE FROM quarantine WHERE qid IN (SELECT qid FROM quarantine WHERE at_ms < ? LIMIT ?)", (personal,)
            )
        anonymous = before_ms.get(Retention.ANONYMOUS)
        if anonymous is not None:
            removed["desk_transitions"] = self._purge_chunks(
                "DELETE FROM desk_transitions WHERE rowid IN (SELECT rowid FROM desk_transitions AS d WHERE t_ms < ?"
                " AND t_ms < (SELECT MAX(t_ms) FROM desk_transitions WHERE desk = d.desk) LIMIT ?)",
                (anonymous,),
            )
        return removed

    def _purge_chunks(self, sql: str, params: tuple[int, ...]) -> int:
        total = 0
        while True:
            with self._transaction() as db:
                count = db.execute(sql, (*params, _PURGE_CHUNK)).rowcount
            total += max(count, 0)
            if count < _PURGE_CHUNK:
                return total

    # -- reading -------------------------------------------------------------------------------------------

    def count(self, table: str) -> int:
        """Rows in one of the store's tables (for reports and tests)."""
        if table not in {"events", "desk_transitions", "accesses", "latest", "quarantine", "derived"}:
            raise ValueError(f"no table {table}")
        with self._lock:
            return int(self._db.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0])

    def event_ids(self) -> list[str]:
        """Every stored event id (for tests and audits; loads them all)."""
        with self._lock:
            return [r[0] for r in self._db.execute("SELECT id FROM events ORDER BY rid")]

    def quarantine_counts(self) -> dict[str, int]:
        """Quarantined messages and rejected points per reason, as kept in the store."""
        with self._lock:
            return dict(self._db.execute("SELECT reason, COUNT(*) FROM quarantine GROUP BY reason").fetchall())

    def close(self) -> None:
        """Close the database and release the store lock."""
        with self._lock:
            self._db.close()
            os.close(self._lock_fd)
