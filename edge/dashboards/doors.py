"""Doors: decisions, denied attempts by reason, alarms, and each door's state (lock, contact, mode)."""

from __future__ import annotations

from edge.dashboards import variables
from edge.dashboards.grafana import Json, Panel, Target, dashboard, value_map
from edge.dashboards.influxql import DOOR, SITE, select

INTERVAL = "time($__interval)"
BARS = {"drawStyle": "bars", "fillOpacity": 80, "stacking": {"mode": "normal", "group": "A"}}
TIMELINE = {"fillOpacity": 80, "lineWidth": 0}
STATE_OPTIONS = {"showValue": "never", "mergeValues": True, "rowHeight": 0.8, "alignValue": "left"}
ALARM_STATES = value_map({"0": ("clear", "green"), "1": ("ALARM", "red")})

PANELS = (
    Panel(
        "timeseries",
        "Decisions per hour",
        "Granted entries, granted exits and denied attempts per hour at the selected doors (derived hourly counts).",
        (
            Target(
                select(
                    'sum("entries") AS "entries", sum("exits") AS "exits", sum("denied") AS "denied"',
                    "entries_hourly",
                    SITE,
                    DOOR,
                    group_by=("time(1h)",),
                    fill="0",
                )
            ),
        ),
        width=16,
        unit="none",
        min=0,
        custom=BARS,
        overrides=(
            {
                "matcher": {"id": "byName", "options": "denied"},
                "properties": [{"id": "color", "value": {"mode": "fixed", "fixedColor": "red"}}],
            },
        ),
    ),
    Panel(
        "piechart",
        "Denied attempts by reason",
        "Why badges were refused in the period: unknown badge, expired, suspended, outside schedule, seat limit, "
        "lockdown, passback, untrusted clock. Many unknown badges at one door can mean a probing attempt.",
        (
            Target(
                select(
                    'sum("attempts") AS "attempts"',
                    "access_hourly",
                    SITE,
                    DOOR,
                    "\"reason\" != 'granted'",
                    group_by=("reason",),
                ),
                alias="$tag_reason",
            ),
        ),
        width=8,
        unit="none",
        options={
            "reduceOptions": {"calcs": ["sum"], "fields": "", "values": False},
            "pieType": "donut",
            "legend": {"displayMode": "table", "placement": "right", "values": ["value"]},
        },
    ),
    Panel(
        "timeseries",
        "Denied attempts per hour by reason",
        "Refusals over time, one colour per reason (derived hourly counts).",
        (
            Target(
                select(
                    'sum("attempts") AS "attempts"',
                    "access_hourly",
                    SITE,
                    DOOR,
                    "\"reason\" != 'granted'",
                    group_by=("time(1h)", "reason"),
                    fill="none",
                ),
                alias="$tag_reason",
            ),
        ),
        width=12,
        unit="none",
        min=0,
        custom=BARS,
    ),
    Panel(
        "bargauge",
        "Alarms raised",
        "How many times each alarm was raised at each door in the period (forced open, held open, lock fault, "
        "reader fault).",
        (
            Target(
                select('sum("active") AS "raised"', "door_alarm", SITE, DOOR, group_by=("door", "alarm")),
                alias="$tag_door $tag_alarm",
            ),
        ),
        width=12,
        unit="none",
        min=0,
        thresholds=((None, "green"), (1, "orange"), (5, "red")),
        options={
            "reduceOptions": {"calcs": ["sum"], "fields": "", "values": False},
            "orientation": "horizontal",
            "displayMode": "basic",
        },
    ),
    Panel(
        "state-timeline",
        "Door alarms",
        "When each alarm was active at each door, from raised to cleared (every raise and clear as reported, so "
        "an alarm of a few seconds still shows).",
        (
            Target(
                select('"active"', "door_alarm", SITE, DOOR, group_by=("door", "alarm")),
                alias="$tag_door $tag_alarm",
            ),
        ),
        width=24,
        mappings=(ALARM_STATES,),
        custom=TIMELINE,
        options=STATE_OPTIONS,
    ),
    Panel(
        "state-timeline",
        "Door state",
        "Each door over time, change by change: locked or released, open or closed (doors with a contact sensor), "
        "and its mode (lockdown, held unlocked).",
        (
            Target(
                select('"locked", "open", "lockdown", "unlocked_mode"', "door_state", SITE, DOOR, group_by=("door",)),
                alias="$tag_door $col",
            ),
        ),
        width=24,
        height=10,
        mappings=(value_map({"0": ("no", "transparent"), "1": ("yes", "blue")}),),
        custom=TIMELINE,
        options=STATE_OPTIONS,
    ),
    Panel(
        "timeseries",
        "Decision latency",
        "Time from badge read to decision at the selected doors: 95th percentile and worst per interval.",
        (
            Target(
                select(
                    'percentile("latency_ms", 95) AS "p95", max("latency_ms") AS "max"',
                    "door_access",
                    SITE,
                    DOOR,
                    group_by=(INTERVAL,),
                    fill="none",
                )
            ),
        ),
        width=12,
        unit="ms",
        min=0,
    ),
    Panel(
        "table",
        "Doors now",
        "Each door's latest reported lock, mode and the member snapshot version it applied (1 = yes).",
        (
            Target(
                select(
                    'last("locked") AS "locked", last("lockdown") AS "lockdown", last("unlocked_mode") AS'
                    ' "unlocked_mode", last("members_version") AS "members_version"',
                    "door_state",
                    SITE,
                    DOOR,
                    group_by=("door",),
                ),
                table=True,
            ),
        ),
        width=12,
        overrides=(
            {"matcher": {"id": "byName", "options": "Time"}, "properties": [{"id": "custom.hidden", "value": True}]},
        ),
    ),
)


def build() -> Json:
    """The doors dashboard."""
    return dashboard(
        uid="edge-doors",
        title="edge · Doors",
        description="Access decisions, denied attempts by reason, door alarms and door state.",
        panels=PANELS,
        variables=(variables.site(), variables.door()),
        time_from="now-7d",
    )
