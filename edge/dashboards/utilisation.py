"""Utilisation: per zone and per desk, within opening hours (`collector.opening_hours`), peak versus average."""

from __future__ import annotations

from edge.dashboards import variables
from edge.dashboards.grafana import Json, Panel, Target, dashboard
from edge.dashboards.influxql import IN_HOURS, SITE, ZONE, select

LEVELS = ((None, "blue"), (0.3, "green"), (0.85, "orange"))
BARS = {"drawStyle": "bars", "fillOpacity": 70}

# A desk's utilisation is the share of its known time (occupied or vacant) that it was occupied.
DESK_IN_HOURS = 'sum("open_occupied_s") / sum("open_known_s") AS "utilisation"'

PANELS = (
    Panel(
        "timeseries",
        "Site: peak and average desks occupied per day (opening hours)",
        "For each day: the most desks occupied at once and the average number occupied, counting only instants "
        "within opening hours. Days are UTC days, which for a European site only move the night.",
        (
            Target(
                select(
                    'max("occupied") AS "peak", mean("occupied") AS "average", max("total") AS "desks"',
                    "site_occupancy",
                    SITE,
                    IN_HOURS,
                    group_by=("time(1d)",),
                    fill="none",
                )
            ),
        ),
        width=12,
        unit="none",
        min=0,
        custom=BARS,
    ),
    Panel(
        "timeseries",
        "Zone utilisation per day (opening hours)",
        "Average share of each zone's known desks that were occupied, within opening hours, per day.",
        (
            Target(
                select(
                    'mean("utilisation") AS "utilisation"',
                    "zone_occupancy",
                    SITE,
                    ZONE,
                    IN_HOURS,
                    group_by=("time(1d)", "zone"),
                    fill="none",
                ),
                alias="$tag_zone",
            ),
        ),
        width=12,
        thresholds=LEVELS,
        unit="percentunit",
        min=0,
        max=1,
    ),
    Panel(
        "table",
        "Zones: peak versus average (opening hours)",
        "Per zone over the whole period, within opening hours: desks, the most occupied at once, the average "
        "occupied, and the average utilisation. A peak far above the average means desks sit empty most of the day.",
        (
            Target(
                select(
                    'max("total") AS "desks", max("occupied") AS "peak", mean("occupied") AS "average",'
                    ' mean("utilisation") AS "utilisation"',
                    "zone_occupancy",
                    SITE,
                    ZONE,
                    IN_HOURS,
                    group_by=("zone",),
                ),
                table=True,
            ),
        ),
        width=12,
        decimals=2,
        overrides=(
            {
                "matcher": {"id": "byName", "options": "utilisation"},
                "properties": [{"id": "unit", "value": "percentunit"}],
            },
            {"matcher": {"id": "byName", "options": "Time"}, "properties": [{"id": "custom.hidden", "value": True}]},
        ),
    ),
    Panel(
        "timeseries",
        "Site utilisation per hour",
        "Average share of known desks occupied in each hour, at all hours (nights and closed days show as 0).",
        (
            Target(
                select(
                    'mean("utilisation") AS "utilisation"', "site_occupancy", SITE, group_by=("time(1h)",), fill="none"
                )
            ),
        ),
        width=12,
        thresholds=LEVELS,
        unit="percentunit",
        min=0,
        max=1,
    ),
    Panel(
        "bargauge",
        "Desk utilisation (opening hours)",
        "Each desk's occupied time within opening hours as a share of its known time (complete hours only: the "
        "current hour appears when it ends).",
        (
            Target(
                select(DESK_IN_HOURS, "desk_hourly", SITE, ZONE, group_by=("zone", "desk")),
                alias="$tag_zone / $tag_desk",
            ),
        ),
        width=12,
        height=16,
        thresholds=LEVELS,
        options={
            "reduceOptions": {"calcs": ["lastNotNull"], "fields": "", "values": False},
            "orientation": "horizontal",
            "displayMode": "lcd",
            "showUnfilled": True,
        },
        unit="percentunit",
        min=0,
        max=1,
    ),
    Panel(
        "table",
        "Desks: hours occupied",
        "Per desk over the period: hours occupied (at any time), utilisation within opening hours and over all "
        "hours. A desk never occupied in opening hours is a candidate to move or remove.",
        (
            Target(
                select(
                    'sum("occupied_s") / 3600 AS "hours_occupied", ' + DESK_IN_HOURS + ', sum("occupied_s") / '
                    'sum("known_s") AS "utilisation_all_hours"',
                    "desk_hourly",
                    SITE,
                    ZONE,
                    group_by=("zone", "desk"),
                ),
                table=True,
            ),
        ),
        width=12,
        height=16,
        decimals=2,
        overrides=(
            {
                "matcher": {"id": "byRegexp", "options": "utilisation.*"},
                "properties": [{"id": "unit", "value": "percentunit"}],
            },
            {"matcher": {"id": "byName", "options": "Time"}, "properties": [{"id": "custom.hidden", "value": True}]},
        ),
    ),
)


def build() -> Json:
    """The utilisation dashboard."""
    return dashboard(
        uid="edge-utilisation",
        title="edge · Utilisation",
        description="Per-zone and per-desk utilisation within opening hours; peak versus average.",
        panels=PANELS,
        variables=(variables.site(), variables.zone()),
        time_from="now-7d",
    )
