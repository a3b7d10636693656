"""InfluxDB as a report source, through InfluxQL on `/query` (InfluxDB 1.x, 2.x with a DBRP mapping, 3.x).

It reads the collector's derived series (docs/data-model.md), which are anonymous and kept longest:
`zone_occupancy` (sampled with `first()` on the report's grid), `entries_hourly` and `data_completeness`.
InfluxDB holds no member pseudonym, so passages are not available: member figures come from the collector's
anonymous member series (`members_daily`, `members_monthly`, `members_yearly`), or without them member-days are
estimated from entries.
Long ranges are queried in windows so no answer exceeds a server's row limit.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from edge.collector.schema import FREQUENCY_FIELDS, VISIT_BIN_FIELDS
from edge.config.base import read_secret
from edge.config.collector import InfluxConfig
from edge.errors import ConfigError, SourceError
from edge.report.model import (
    DayMembers,
    DoorHour,
    MemberAggregates,
    MonthMembers,
    NodeCompleteness,
    Note,
    Passage,
    YearMembers,
    ZoneSample,
)
from edge.report.period import local_ms
from edge.report.source import HOUR_MS

DAY_MS = 86_400_000
MAX_ROWS = 5000  # rows per series per query: below InfluxDB 1.x's default max-row-limit of 10000


@dataclass(frozen=True)
class InfluxSettings:
    """Where the derived series are and how to authenticate (token for 2.x/3.x, user and password for 1.x)."""

    url: str
    database: str
    retention_policy: str | None = None
    token: str | None = None
    username: str | None = None
    password: str | None = None
    timeout_s: float = 30.0

    @classmethod
    def from_bucket(cls, url: str, bucket: str, **auth: Any) -> InfluxSettings:
        """From a bucket name; InfluxDB 1.8 spells it `database/retention-policy`."""
        database, _, policy = bucket.partition("/")
        return cls(url.rstrip("/"), database, policy or None, **auth)

    @classmethod
    def from_config(cls, config: InfluxConfig) -> InfluxSettings:
        """From a collector's `influx` section: its aggregate bucket (or its bucket) and its credentials.

        Raises ConfigError naming the key of a secret file that cannot be read.
        """
        return cls.from_bucket(
            config.url,
            config.aggregate_bucket or config.bucket,
            token=secret(config.token_file, "collector.influx.token_file"),
            username=config.username,
            password=secret(config.password_file, "collector.influx.password_file"),
            timeout_s=max(config.timeout_s, 30.0),
        )


def secret(path: Path | None, key: str) -> str | None:
    """A secret file's text (None without a file); ConfigError naming `key` when it cannot be read."""
    if path is None:
        return None
    try:
        return read_secret(path).decode()
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError([f"{key}: cannot read {path}: {getattr(exc, 'strerror', None) or exc}"]) from None


def rfc3339(t_ms: int) -> str:
    """An InfluxQL time literal."""
    return datetime.fromtimestamp(t_ms / 1000, UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def quote(value: str) -> str:
    """A single-quoted InfluxQL string literal."""
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def windows(start_ms: int, end_ms: int, span_ms: int) -> list[tuple[int, int]]:
    """[start, end) cut into consecutive windows of at most span_ms."""
    return [(a, min(a + span_ms, end_ms)) for a in range(start_ms, end_ms, span_ms)]


class InfluxSource:
    """Reads one site's derived series from InfluxDB."""

    def __init__(self, settings: InfluxSettings, *, site: str, tz: ZoneInfo | None = None) -> None:
        self.settings = settings
        self._site = site
        self._tz = tz or ZoneInfo("Europe/Paris")

    def describe(self) -> str:
        """The server and database (no credentials)."""
        parts = urllib.parse.urlsplit(self.settings.url)
        where = self.settings.database + (
            f"/{self.settings.retention_policy}" if self.settings.retention_policy else ""
        )
        return f"InfluxDB {parts.scheme}://{parts.hostname}{f':{parts.port}' if parts.port else ''} ({where})"

    def site(self) -> str:
        """The site the queries select."""
        return self._site

    def query(self, q: str) -> list[dict[str, Any]]:
        """Run one InfluxQL statement; its series, or SourceError naming the server's complaint."""
        params = {"q": q, "db": self.settings.database, "epoch": "ms"}
        if self.settings.retention_policy:
            params["rp"] = self.settings.retention_policy
        request = urllib.request.Request(
            f"{self.settings.url}/query", data=urllib.parse.urlencode(params).encode(), method="POST"
        )
        if self.settings.token:
            request.add_header("Authorization", f"Token {self.settings.token}")
        elif self.settings.username:
            pair = f"{self.settings.username}:{self.settings.password or ''}".encode()
            request.add_header("Authorization", "Basic " + base64.b64encode(pair).decode())
        try:
            with urllib.request.urlopen(request, timeout=self.settings.timeout_s) as response:
                answer = json.loads(response.read())
        except urllib.error.HTTPError as exc:
            detail = exc.read()[:300].decode(errors="replace").strip()
            raise SourceError(f"{self.describe()} answered {exc.code}: {detail}") from None
        except (urllib.error.URLError, OSError, ValueError) as exc:
            raise SourceError(f"cannot read {self.describe()}: {getattr(exc, 'reason', exc)}") from None
        result = (answer.get("results") or [{}])[0]
        if "error" in result:
            raise SourceError(f"{self.describe()} refused a query: {result['error']}")
        series: list[dict[str, Any]] = result.get("series", [])
        return series

    def _rows(self, q: str) -> list[tuple[dict[str, str], dict[str, Any]]]:
        out = []
        for series in self.query(q):
            tags = series.get("tags") or {}
            out += [(tags, dict(zip(series["columns"], values, strict=True))) for values in series["values"]]
        return out

    def _where(self, start_ms: int, end_ms: int) -> str:
        return (
            f'"site" = {quote(self._site)} AND time >= {quote(rfc3339(start_ms))} AND time < {quote(rfc3339(end_ms))}'
        )

    def occupancy(self, start_ms: int, end_ms: int, step_ms: int) -> Iterator[ZoneSample]:
        """The first `zone_occupancy` point of each grid step (the collector's point at that instant), one query
        window at a time."""
        for a, b in windows(start_ms, end_ms, step_ms * MAX_ROWS):
            rows = self._rows(
                'SELECT first("occupied") AS "occupied", first("vacant") AS "vacant", first("unknown") AS "unknown"'
                f' FROM "zone_occupancy" WHERE {self._where(a, b)} GROUP BY time({step_ms}ms), "zone" fill(none)'
            )
            window = [
                ZoneSample(int(r["time"]), tags["zone"], int(r["occupied"]), int(r["vacant"]), int(r["unknown"]))
                for tags, r in rows
            ]
            yield from sorted(window, key=lambda s: (s.t_ms, s.zone))

    def door_hours(self, start_ms: int, end_ms: int) -> list[DoorHour]:
        """`entries_hourly` summed over doors, per hour."""
        out = []
        for a, b in windows(start_ms, end_ms, HOUR_MS * MAX_ROWS):
            rows = self._rows(
                'SELECT sum("entries") AS "entries", sum("exits") AS "exits", sum("denied") AS "denied"'
                f' FROM "entries_hourly" WHERE {self._where(a, b)} GROUP BY time(1h) fill(none)'
            )
            out += [DoorHour(int(r["time"]), int(r["entries"]), int(r["exits"]), int(r["denied"])) for _, r in rows]
        return out

    def passages(self, start_ms: int, end_ms: int) -> list[Passage] | None:
        """None: InfluxDB holds no member pseudonym by design."""
        return None

    def completeness(self, start_ms: int, end_ms: int) -> list[NodeCompleteness]:
        """Differences of the cumulative `data_completeness` figures between the period's start and its end."""
        at_end = self._last_completeness(end_ms)
        at_start = self._last_completeness(start_ms)
        out = []
        for node, (expected, received, gaps) in sorted(at_end.items()):
            before = at_start.get(node, (0, 0, 0))
            if expected > before[0]:
                out.append(NodeCompleteness(node, expected - before[0], received - before[1], gaps))
        return out

    def _last_completeness(self, before_ms: int) -> dict[str, tuple[int, int, int]]:
        rows = self._rows(
            'SELECT last("expected") AS "expected", last("received") AS "received", last("gaps") AS "gaps"'
            f' FROM "data_completeness" WHERE "site" = {quote(self._site)} AND time < {quote(rfc3339(before_ms))}'
            ' GROUP BY "node"'
        )
        return {tags["node"]: (int(r["expected"]), int(r["received"]), int(r["gaps"])) for tags, r in rows}

    def notes(self, start_ms: int, end_ms: int) -> list[Note]:
        """None: the page says how member figures were obtained."""
        return []

    def passages_from_ms(self) -> int | None:
        """InfluxDB holds no passage at all."""
        return None

    def members(self, first: dt.date, last: dt.date) -> MemberAggregates:
        """The collector's `members_daily`, `members_monthly` and `members_yearly` series for the period."""
        tz = self._tz
        start = local_ms(dt.date(first.year, 1, 1), tz)
        end = local_ms(last + dt.timedelta(days=1), tz)
        days, months, years = [], [], []
        for a, b in windows(start, end, DAY_MS * MAX_ROWS):
            where = self._where(a, b)
            for _, r in self._rows(f'SELECT * FROM "members_daily" WHERE {where}'):
                day = dt.datetime.fromtimestamp(r["time"] / 1000, tz).date()
                if first <= day <= last:
                    bins = tuple(int(r.get(f"visits_{name}") or 0) for name in VISIT_BIN_FIELDS)
                    days.append(
                        DayMembers(
                            day,
                            int(r["members"]),
                            int(r["entries"]),
                            int(r["measured"]),
                            int(r["incomplete"]),
                            int(r["visit_s"]),
                            bins,
                        )
                    )
            for _, r in self._rows(f'SELECT * FROM "members_monthly" WHERE {where}'):
                month = dt.datetime.fromtimestamp(r["time"] / 1000, tz).date()
                came = tuple(int(r.get(f"came_{name}") or 0) for name in FREQUENCY_FIELDS)
                months.append(MonthMembers(month, int(r["members"]), came, int(r["days"])))
            for _, r in self._rows(f'SELECT * FROM "members_yearly" WHERE {where}'):
                year = dt.datetime.fromtimestamp(r["time"] / 1000, tz).date().year
                since = dt.date(year, 1, 1) + dt.timedelta(days=int(r.get("since_day") or 0))
                years.append(
                    YearMembers(
                        year, int(r["members"]), int(r["error"]), since, dt.date(year, 12, 31), bool(r["final"])
                    )
                )
        return MemberAggregates(sorted(days, key=lambda d: d.day), months, years)

    def close(self) -> None:
        """Nothing to release (one HTTP request per query)."""
