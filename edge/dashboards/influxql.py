"""InfluxQL for the dashboards: the template-variable filters and one `select` that spells every panel query.

Queries are checked against the collector's schema when they are built (`select` refuses a measurement, tag or
field that `edge.collector.schema.MEASUREMENTS` does not declare), so a renamed field breaks the build, not a
dashboard at a site. Variables are matched as regular expressions (`"zone" =~ /^$zone$/`): Grafana writes a
multi-value or "All" selection as `(a|b|c)`, which only a regex match accepts. Derived series are read from their
retention policy (`"longterm"."zone_occupancy"`, edge.collector.schema.qualified), raw ones from the default one.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from edge.collector.schema import MEASUREMENTS, qualified

SITE = '"site" =~ /^$site$/'
ZONE = '"zone" =~ /^$zone$/'
DOOR = '"door" =~ /^$door$/'
NODE = '"node" =~ /^$node$/'
IN_HOURS = '"in_hours" = 1'
TIME = "$timeFilter"

_FIELD = re.compile(r'(?<!AS )"(\w+)"')  # every quoted name in the columns but the aliases
_TAG = re.compile(r'"(\w+)"\s*(?:=~|!~|=|!=)')


def select(
    columns: str,
    measurement: str,
    *filters: str,
    group_by: Sequence[str] = (),
    fill: str | None = None,
) -> str:
    """`SELECT columns FROM measurement WHERE filters AND $timeFilter [GROUP BY ...] [fill(...)]`, checked."""
    declared = MEASUREMENTS.get(measurement)
    if declared is None:
        raise ValueError(f"{measurement} is not a measurement of the collector's schema")
    for name in _FIELD.findall(columns):
        if name not in declared.fields and not (declared.field_prefix and name.startswith(declared.field_prefix)):
            raise ValueError(f"{measurement} has no field {name}")
    for name in _TAG.findall(" ".join(filters)):
        if name not in declared.tags and name not in declared.fields:
            raise ValueError(f"{measurement} has no tag or field {name}")
    for name in group_by:
        if not name.startswith("time(") and name not in declared.tags:
            raise ValueError(f"{measurement} cannot be grouped by {name}: not a tag")
    query = f"SELECT {columns} FROM {qualified(measurement)} WHERE {' AND '.join((*filters, TIME))}"
    if group_by:
        query += " GROUP BY " + ", ".join(g if g.startswith("time(") else f'"{g}"' for g in group_by)
    if fill is not None:
        query += f" fill({fill})"
    return query


def tag_values(key: str, measurement: str | None = None, *filters: str) -> str:
    """`SHOW TAG VALUES [FROM measurement] WITH KEY = "key" [WHERE filters]` for a template variable."""
    if measurement is not None and key not in MEASUREMENTS[measurement].tags:
        raise ValueError(f"{measurement} has no tag {key}")
    query = "SHOW TAG VALUES"
    if measurement is not None:
        query += f" FROM {qualified(measurement)}"
    query += f' WITH KEY = "{key}"'
    if filters:
        query += " WHERE " + " AND ".join(filters)
    return query
