"""The Grafana dashboards, generated from Python so their InfluxQL is checked against the collector's schema.

`python -m edge.dashboards` writes them where deploy/roles/edge_grafana provisions them from
(`deploy/roles/edge_grafana/files/dashboards/`); a test fails when the committed files differ from the output.
"""

from __future__ import annotations

import json
from collections.abc import Callable

from edge.dashboards import doors, nodes, site, utilisation
from edge.dashboards.grafana import Json

DASHBOARDS: dict[str, Callable[[], Json]] = {
    "edge-site.json": site.build,
    "edge-utilisation.json": utilisation.build,
    "edge-doors.json": doors.build,
    "edge-nodes.json": nodes.build,
}


def render(build: Callable[[], Json]) -> str:
    """A dashboard as the JSON text that is committed (stable: same input, same bytes)."""
    return json.dumps(build(), indent=2, ensure_ascii=False) + "\n"
