"""Shared by the network tests: a site (broker + collector with a network output), what a site sent, and what the
central store holds, as comparable samples."""

from __future__ import annotations

import math
import sqlite3
from collections import Counter
from pathlib import Path

from edge.collector.egress import EgressFilter
from tests.rig.central import Central

Labels = tuple[tuple[str, str], ...]
Sample = tuple[Labels, int]  # (labels with __name__, timestamp ms)


def network_collector_yaml(
    site: str,
    mqtt_port: int,
    state_dir: Path,
    central: Central,
    password_file: Path,
    *,
    settle_s: float = 1.0,
    derive_step_s: int = 10,
    node: str = "col",
    opening_hours: str = "always",
) -> str:
    """A collector that sends its derived series to the central store, with short test timings."""
    return f"""site: {site}
node: {node}
state_dir: {state_dir}
status_interval_s: 0.5
mqtt: {{host: 127.0.0.1, port: {mqtt_port}, reconnect_min_s: 0.2, reconnect_max_s: 1, keepalive: 5}}
collector:
  derive_step_s: {derive_step_s}
  opening_hours: "{opening_hours}"
  network:
    url: {central.url}
    password_file: {password_file}
    ca_file: {central.ca}
    settle_s: {settle_s}
    timeout_s: 5
    backoff_max_s: 1
"""


def _unescape(text: str) -> str:
    out, escaped = [], False
    for char in text:
        if escaped or char != "\\":
            out.append(char)
            escaped = False
        else:
            escaped = True
    return "".join(out)


def _split(text: str, separator: str) -> list[str]:
    parts, current, escaped = [], [], False
    for char in text:
        if escaped:
            current.append(char)
            escaped = False
        elif char == "\\":
            current.append(char)
            escaped = True
        elif char == separator:
            parts.append("".join(current))
            current = []
        else:
            current.append(char)
    parts.append("".join(current))
    return parts


def line_samples(line: str) -> dict[Sample, float]:
    """The samples VictoriaMetrics makes of one line of our line protocol: one per field, `<measurement>_<field>`."""
    series, fields, stamp = _split(line, " ")
    measurement, *tags = _split(series, ",")
    labels = dict(tuple(_unescape(part) for part in tag.split("=", 1)) for tag in tags)
    t_ms = int(stamp) // 1_000_000
    out: dict[Sample, float] = {}
    for item in _split(fields, ","):
        key, value = item.split("=", 1)
        number = float(value[:-1]) if value.endswith("i") else float(value)
        full = {**labels, "__name__": f"{_unescape(measurement)}_{_unescape(key)}"}
        out[(tuple(sorted(full.items())), t_ms)] = number
    return out


def sent_by_site(store: Path, min_desks: int = 3) -> dict[Sample, float]:
    """Every sample of the derived rows the site's network stream has passed (its cursor) and sent: those that leave
    the site, but not the running figures it still holds until their period is over."""
    egress = EgressFilter(min_desks)
    with sqlite3.connect(store) as db:
        row = db.execute("SELECT value FROM meta WHERE key = 'cursor_network'").fetchone()
        cursor = int(row[0]) if row else 0
        lines = [
            r[0]
            for r in db.execute(
                "SELECT line FROM derived WHERE rid <= ? AND rid NOT IN (SELECT rid FROM network_held) ORDER BY rid",
                (cursor,),
            )
        ]
    out: dict[Sample, float] = {}
    for line in lines:
        for kept in egress.select(line).split("\n"):
            if kept:
                out.update(line_samples(kept))
    return out


def derived_rows(store: Path) -> tuple[int, int]:
    """(highest derived rid, the network cursor) of a site's store."""
    with sqlite3.connect(store) as db:
        latest = db.execute("SELECT COALESCE(MAX(rid), 0) FROM derived").fetchone()[0]
        row = db.execute("SELECT value FROM meta WHERE key = 'cursor_network'").fetchone()
    return int(latest), int(row[0]) if row else 0


def store_meta(store: Path, key: str) -> int:
    """One value of a store's meta table (0 when absent)."""
    with sqlite3.connect(store) as db:
        row = db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
    return int(row[0]) if row else 0


def central_samples(
    central: Central, match: str = '{__name__=~".+"}'
) -> tuple[Counter[Sample], dict[Sample, set[float]]]:
    """What the central store holds: how many samples per (series, timestamp), and their values."""
    counts: Counter[Sample] = Counter()
    values: dict[Sample, set[float]] = {}
    for series in central.export(match):
        labels = tuple(sorted((k, str(v)) for k, v in series["metric"].items()))
        for t, v in zip(series["timestamps"], series["values"], strict=True):
            key = (labels, int(t))
            counts[key] += 1
            values.setdefault(key, set()).add(float(v))
    return counts, values


def holds(values: set[float], value: float) -> bool:
    """Whether the central store's values hold `value` (VictoriaMetrics keeps about 12 significant digits)."""
    return any(math.isclose(v, value, rel_tol=1e-9, abs_tol=1e-12) for v in values)
