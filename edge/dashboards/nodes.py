"""Node health: online or not, outbox depth and drops, clock sync, data completeness, member snapshot per door."""

from __future__ import annotations

from edge.dashboards import variables
from edge.dashboards.grafana import Json, Panel, Target, dashboard, value_map
from edge.dashboards.influxql import NODE, SITE, select

INTERVAL = "time($__interval)"
TIMELINE = {"fillOpacity": 80, "lineWidth": 0}
STATE_OPTIONS = {"showValue": "never", "mergeValues": True, "rowHeight": 0.8, "alignValue": "left"}
HIDE_TIME = {"matcher": {"id": "byName", "options": "Time"}, "properties": [{"id": "custom.hidden", "value": True}]}


def over_time(expr: str, measurement: str, *, by: str, fill: str) -> tuple[Target]:
    """One query of `measurement` per time interval, a series per `by` tag (node or door) named after it."""
    return (Target(select(expr, measurement, SITE, NODE, group_by=(INTERVAL, by), fill=fill), alias=f"$tag_{by}"),)


PANELS = (
    Panel(
        "state-timeline",
        "Online",
        "Each node's availability; `offline` is the broker's last will when a node drops off. An interval shows "
        "offline when the node was offline at any time in it.",
        over_time('min("online") AS "online"', "node_health", by="node", fill="previous"),
        width=24,
        mappings=(value_map({"0": ("offline", "red"), "1": ("online", "green")}),),
        custom=TIMELINE,
        options=STATE_OPTIONS,
    ),
    Panel(
        "table",
        "Nodes now",
        "Each node's latest status: online, clock synchronised, events waiting in its outbox, events it dropped "
        "because the outbox was full, and uptime.",
        (
            Target(
                select(
                    'last("online") AS "online", last("clock_synced") AS "clock_synced", last("outbox_depth") AS'
                    ' "outbox_depth", last("outbox_dropped") AS "outbox_dropped", last("uptime_s") AS "uptime_s"',
                    "node_health",
                    SITE,
                    NODE,
                    group_by=("node",),
                ),
                table=True,
            ),
        ),
        width=12,
        overrides=(
            HIDE_TIME,
            {"matcher": {"id": "byName", "options": "uptime_s"}, "properties": [{"id": "unit", "value": "s"}]},
            {
                "matcher": {"id": "byRegexp", "options": "online|clock_synced"},
                "properties": [
                    {"id": "mappings", "value": [value_map({"0": ("no", "red"), "1": ("yes", "green")})]},
                    {"id": "custom.cellOptions", "value": {"type": "color-text"}},
                ],
            },
        ),
    ),
    Panel(
        "table",
        "Member snapshot per door",
        "The member snapshot version each door applied last. A door behind the others still admits members that "
        "were revoked since (revocation lag): check its network and `edge members status`.",
        (
            Target(
                select(
                    'last("members_version") AS "members_version"',
                    "door_state",
                    SITE,
                    NODE,
                    group_by=("door", "node"),
                ),
                table=True,
            ),
        ),
        width=12,
    ),
    Panel(
        "timeseries",
        "Outbox depth",
        "Events each node holds that the broker has not acknowledged yet: grows while a node is cut off, drains "
        "when it is back.",
        over_time('max("outbox_depth") AS "outbox_depth"', "node_health", by="node", fill="none"),
        width=12,
        unit="none",
        min=0,
    ),
    Panel(
        "timeseries",
        "Events dropped",
        "Events a node dropped because its bounded outbox was full, as the node counts them (never expected: size "
        "the outbox for the longest outage).",
        over_time('max("outbox_dropped") AS "outbox_dropped"', "node_health", by="node", fill="none"),
        width=12,
        unit="none",
        min=0,
        thresholds=((None, "green"), (1, "red")),
        custom={"thresholdsStyle": {"mode": "line"}},
    ),
    Panel(
        "state-timeline",
        "Clock synchronised",
        "Whether each node's clock was synchronised (NTP); an interval shows not synced when any status in it "
        "said so. A door with an untrusted clock refuses time-limited plans (reason clock_untrusted).",
        over_time('min("clock_synced") AS "clock_synced"', "node_health", by="node", fill="previous"),
        width=12,
        mappings=(value_map({"0": ("not synced", "red"), "1": ("synced", "green")}),),
        custom=TIMELINE,
        options=STATE_OPTIONS,
    ),
    Panel(
        "timeseries",
        "Member snapshot version per door",
        "The snapshot version each door applied over time: a door whose step comes late lagged behind a revocation.",
        over_time('last("members_version") AS "members_version"', "door_state", by="door", fill="previous"),
        width=12,
        unit="none",
        decimals=0,
        custom={"lineInterpolation": "stepAfter"},
    ),
    Panel(
        "timeseries",
        "Events missing per node",
        "Events a node numbered that the collector has not received (seq gaps); figures fall when a backlog arrives.",
        over_time('last("missing") AS "missing"', "data_completeness", by="node", fill="none"),
        width=24,
        unit="none",
        min=0,
    ),
)


def build() -> Json:
    """The node health dashboard."""
    return dashboard(
        uid="edge-nodes",
        title="edge · Node health",
        description="Nodes online, outbox depth and drops, clock sync, data completeness, member snapshot per door.",
        panels=PANELS,
        variables=(variables.site(), variables.node()),
        time_from="now-24h",
    )
