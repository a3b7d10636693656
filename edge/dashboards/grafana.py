"""Grafana dashboard JSON (schema 39: Grafana 10.4 and 11) as plain dicts, built from a few small declarations.

Only what our dashboards use: InfluxQL targets in raw mode, five panel kinds, query/custom/datasource variables,
and a row-by-row layout on Grafana's 24-column grid. Panels and queries are declared as data (`Panel`, `Target`);
`dashboard()` numbers the panels, lays them out and returns the JSON-ready dict.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

SCHEMA_VERSION = 39  # Grafana 10.4; Grafana 11 migrates it on load without changes to our panels
GRID_COLUMNS = 24
DATASOURCE_UID = "edge-influxdb"  # deploy/roles/edge_grafana/templates/datasource.yaml.j2
DATASOURCE_NAME = "edge"  # edge_grafana_datasource_name's default
DATASOURCE_REF: dict[str, str] = {"type": "influxdb", "uid": "${datasource}"}

Json = dict[str, Any]
PanelKind = Literal["timeseries", "stat", "gauge", "bargauge", "table", "state-timeline", "piechart"]


@dataclass(frozen=True)
class Target:
    """One InfluxQL query of a panel; `alias` names series (`$tag_zone`), `table` asks for a table result."""

    query: str
    alias: str = ""
    table: bool = False

    def to_json(self, ref_id: str) -> Json:
        """The target as Grafana stores a raw InfluxQL query."""
        out: Json = {
            "refId": ref_id,
            "datasource": dict(DATASOURCE_REF),
            "query": self.query,
            "rawQuery": True,
            "resultFormat": "table" if self.table else "time_series",
        }
        if self.alias:
            out["alias"] = self.alias
        return out


@dataclass(frozen=True)
class Panel:
    """A panel: what it asks (targets), how it shows it, and how wide/high it is (grid units)."""

    kind: PanelKind
    title: str
    description: str
    targets: tuple[Target, ...]
    width: int = 12
    height: int = 8
    unit: str | None = None
    min: float | None = None
    max: float | None = None
    decimals: int | None = None
    mappings: tuple[Json, ...] = ()
    thresholds: tuple[tuple[float | None, str], ...] = ((None, "green"),)
    options: Json = field(default_factory=dict)
    custom: Json = field(default_factory=dict)
    overrides: tuple[Json, ...] = ()

    def to_json(self, panel_id: int, x: int, y: int) -> Json:
        """The panel at a grid position."""
        defaults: Json = {
            "color": {"mode": "palette-classic" if self.kind in ("timeseries", "piechart") else "thresholds"},
            "thresholds": {
                "mode": "absolute",
                "steps": [{"color": color, "value": value} for value, color in self.thresholds],
            },
            "mappings": list(self.mappings),
        }
        for key in ("unit", "min", "max", "decimals"):
            value = getattr(self, key)
            if value is not None:
                defaults[key] = value
        if self.custom:
            defaults["custom"] = dict(self.custom)
        return {
            "id": panel_id,
            "type": self.kind,
            "title": self.title,
            "description": self.description,
            "datasource": dict(DATASOURCE_REF),
            "gridPos": {"h": self.height, "w": self.width, "x": x, "y": y},
            "targets": [target.to_json(chr(ord("A") + i)) for i, target in enumerate(self.targets)],
            "fieldConfig": {"defaults": defaults, "overrides": list(self.overrides)},
            "options": dict(self.options),
        }


def value_map(names: dict[str, tuple[str, str]]) -> Json:
    """A value mapping: raw value -> (text, colour), e.g. {"1": ("online", "green")}."""
    return {
        "type": "value",
        "options": {
            raw: {"text": text, "color": color, "index": i} for i, (raw, (text, color)) in enumerate(names.items())
        },
    }


def datasource_variable() -> Json:
    """`$datasource`: the InfluxDB datasource, preset to the one deploy/roles/edge_grafana provisions."""
    return {
        "name": "datasource",
        "label": "Data source",
        "type": "datasource",
        "query": "influxdb",
        "current": {"selected": False, "text": DATASOURCE_NAME, "value": DATASOURCE_UID},
        "hide": 0,
        "refresh": 1,
        "regex": "",
        "options": [],
    }


def query_variable(name: str, label: str, query: str, *, multi: bool) -> Json:
    """A variable filled by an InfluxQL `SHOW TAG VALUES` query (refreshed when the time range changes)."""
    return {
        "name": name,
        "label": label,
        "type": "query",
        "datasource": dict(DATASOURCE_REF),
        "definition": query,
        "query": query,
        "refresh": 2,
        "sort": 1,
        "multi": multi,
        "includeAll": multi,
        "current": {},
        "hide": 0,
        "regex": "",
        "options": [],
    }


def layout(panels: Sequence[Panel]) -> list[Json]:
    """Panels left to right, wrapping to a new row when the 24 columns are full; ids from 1."""
    out: list[Json] = []
    x = y = row_height = 0
    for panel_id, panel in enumerate(panels, start=1):
        if not 0 < panel.width <= GRID_COLUMNS:
            raise ValueError(f"panel {panel.title!r}: width {panel.width} is not 1-{GRID_COLUMNS}")
        if x + panel.width > GRID_COLUMNS:
            x, y, row_height = 0, y + row_height, 0
        out.append(panel.to_json(panel_id, x, y))
        x += panel.width
        row_height = max(row_height, panel.height)
    return out


def dashboard(
    *,
    uid: str,
    title: str,
    description: str,
    panels: Sequence[Panel],
    variables: Sequence[Json],
    time_from: str = "now-7d",
) -> Json:
    """A whole dashboard: read-only (provisioned), local time, the given variables after `$datasource`."""
    return {
        "uid": uid,
        "title": title,
        "description": description,
        "tags": ["edge"],
        "timezone": "browser",
        "editable": False,
        "graphTooltip": 1,
        "schemaVersion": SCHEMA_VERSION,
        "version": 1,
        "refresh": "1m",
        "time": {"from": time_from, "to": "now"},
        "timepicker": {},
        "fiscalYearStartMonth": 0,
        "liveNow": False,
        "weekStart": "monday",
        "annotations": {"list": []},
        # A menu of the other edge dashboards that carries the selected site along.
        "links": [{"type": "dashboards", "tags": ["edge"], "asDropdown": True, "title": "edge", "includeVars": True}],
        "templating": {"list": [datasource_variable(), *variables]},
        "panels": layout(panels),
    }
