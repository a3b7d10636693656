"""What Grafana does to a panel's InfluxQL before sending it, and the answer's shape, for tests against InfluxDB.

Grafana's InfluxDB datasource replaces `$timeFilter` with `time >= <from>ms and time <= <to>ms`, `$__interval`
with the graph's interval, and a template variable with its value: as is for a single-value variable, and for a
multi-value or "All" variable as regex-escaped values joined `(a|b)` (one value: just that value, escaped).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from tests.rig.servers import InfluxDB16

_REGEX_SPECIAL = re.compile(r"([\\^$.|?*+()\[\]{}/])")
_VARIABLE = re.compile(r"\$\{(\w+)\}|\$(\w+)")


def regex_escape(value: str) -> str:
    """Grafana's escaping of a value that lands inside an InfluxQL regex."""
    return _REGEX_SPECIAL.sub(r"\\\1", value)


def format_value(variable: dict[str, Any], value: str | list[str]) -> str:
    """A variable's value as Grafana writes it into an InfluxQL query."""
    if not variable.get("multi") and not variable.get("includeAll"):
        assert isinstance(value, str), f"{variable['name']} takes one value"
        return value
    values = [value] if isinstance(value, str) else value
    escaped = [regex_escape(v) for v in values]
    return escaped[0] if len(escaped) == 1 else "(" + "|".join(escaped) + ")"


def time_filter(start: datetime, end: datetime) -> str:
    """`$timeFilter` for an absolute range, as Grafana writes it."""
    return f"time >= {int(start.timestamp() * 1000)}ms and time <= {int(end.timestamp() * 1000)}ms"


def interpolate(
    query: str,
    *,
    variables: list[dict[str, Any]],
    values: dict[str, str | list[str]],
    start: datetime,
    end: datetime,
    interval: str,
) -> str:
    """The query as Grafana sends it; every variable it uses must be declared and given a value."""
    declared = {v["name"]: v for v in variables}
    query = query.replace("$timeFilter", time_filter(start, end)).replace("$__interval", interval)

    def substitute(match: re.Match[str]) -> str:
        name = match.group(1) or match.group(2)
        assert name in declared, f"${name} is not a template variable of the dashboard"
        assert name in values, f"no value given for ${name}"
        return format_value(declared[name], values[name])

    return _VARIABLE.sub(substitute, query)


def query_panel(
    server: InfluxDB16,
    board: dict[str, Any],
    panel: dict[str, Any],
    *,
    values: dict[str, str | list[str]],
    start: datetime,
    end: datetime,
    interval: str,
    db: str,
) -> list[Series]:
    """Every target of a panel, as Grafana sends it; the series of all targets together."""
    variables = board["templating"]["list"]
    out: list[Series] = []
    for target in panel["targets"]:
        query = interpolate(
            target["query"], variables=variables, values=values, start=start, end=end, interval=interval
        )
        out += run(server, query, db)
    return out


@dataclass(frozen=True)
class Series:
    """One series of an InfluxQL answer: its tags and its rows as dicts (column -> value)."""

    name: str
    tags: dict[str, str]
    columns: list[str]
    rows: list[dict[str, Any]]

    def column(self, name: str) -> list[Any]:
        """Every value of a column, nulls included."""
        return [row[name] for row in self.rows]

    def present(self, name: str) -> list[Any]:
        """Every non-null value of a column."""
        return [row[name] for row in self.rows if row[name] is not None]


def run(server: InfluxDB16, query: str, db: str) -> list[Series]:
    """Run a query; fail with InfluxDB's message on an error."""
    answer: dict[str, Any] = server.query(query, db=db)
    [result] = answer["results"]
    assert "error" not in result, f"{result['error']}\n{query}"
    return [
        Series(
            s["name"],
            s.get("tags", {}),
            s["columns"],
            [dict(zip(s["columns"], values, strict=True)) for values in s["values"]],
        )
        for s in result.get("series", [])
    ]


def tag_values(server: InfluxDB16, query: str, db: str) -> set[str]:
    """The options Grafana builds from a `SHOW TAG VALUES` answer: each value once, whatever the measurement."""
    return {row["value"] for series in run(server, query, db) for row in series.rows}
