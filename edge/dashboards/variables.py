"""The dashboards' template variables: site, zone, door and node, each listed from the data by InfluxQL."""

from __future__ import annotations

from edge.dashboards.grafana import Json, query_variable
from edge.dashboards.influxql import SITE, tag_values


def site() -> Json:
    """`$site`: one site at a time (every measurement has a site tag)."""
    return query_variable("site", "Site", tag_values("site"), multi=False)


def zone() -> Json:
    """`$zone`: the site's zones, several or all (from the derived zone occupancy, kept longest)."""
    return query_variable("zone", "Zone", tag_values("zone", "zone_occupancy", SITE), multi=True)


def door() -> Json:
    """`$door`: the site's doors, several or all (every door controller reports its state)."""
    return query_variable("door", "Door", tag_values("door", "door_state", SITE), multi=True)


def node() -> Json:
    """`$node`: the site's nodes, several or all (every node reports its status)."""
    return query_variable("node", "Node", tag_values("node", "node_health", SITE), multi=True)
