"""Site overview: how many desks are taken now and over time, per zone, entries per hour, people present."""

from __future__ import annotations

from edge.dashboards import variables
from edge.dashboards.grafana import Json, Panel, Target, dashboard, value_map
from edge.dashboards.influxql import SITE, ZONE, select

INTERVAL = "time($__interval)"
STACKED = {"stacking": {"mode": "normal", "group": "A"}, "fillOpacity": 60, "lineWidth": 1}
BARS = {"drawStyle": "bars", "fillOpacity": 80, "stacking": {"mode": "normal", "group": "A"}}
LAST = {"reduceOptions": {"calcs": ["lastNotNull"], "fields": "", "values": False}}

PANELS = (
    Panel(
        "stat",
        "Desks occupied now",
        "Desks occupied at the latest instant, and desks in total (derived site occupancy).",
        (Target(select('last("occupied") AS "occupied", last("total") AS "total"', "site_occupancy", SITE)),),
        width=6,
        height=5,
        unit="none",
        min=0,
        options={**LAST, "textMode": "value_and_name", "colorMode": "none", "graphMode": "none"},
    ),
    Panel(
        "gauge",
        "Site utilisation now",
        "Occupied desks among desks whose state is known (unknown sensors are left out).",
        (Target(select('last("utilisation") AS "utilisation"', "site_occupancy", SITE)),),
        width=6,
        height=5,
        unit="percentunit",
        min=0,
        max=1,
        thresholds=((None, "green"), (0.7, "orange"), (0.9, "red")),
        options={**LAST, "showThresholdMarkers": True},
    ),
    Panel(
        "stat",
        "People present now",
        "People on site: granted entries minus exits since local midnight. Marked as an estimate when no exit "
        "reader is configured (then: entries within the assumed stay).",
        (Target(select('last("present") AS "present", last("estimate") AS "estimate"', "people_present", SITE)),),
        width=6,
        height=5,
        unit="none",
        min=0,
        options={**LAST, "textMode": "value_and_name", "colorMode": "none", "graphMode": "area"},
        overrides=(
            {
                "matcher": {"id": "byName", "options": "estimate"},
                "properties": [
                    {
                        "id": "mappings",
                        "value": [value_map({"0": ("counted", "green"), "1": ("estimate", "orange")})],
                    }
                ],
            },
        ),
    ),
    Panel(
        "stat",
        "Entries in the period",
        "Granted entries through every door in the selected period (derived hourly counts; exits not included).",
        (Target(select('sum("entries") AS "entries"', "entries_hourly", SITE)),),
        width=6,
        height=5,
        unit="none",
        min=0,
        options={**LAST, "colorMode": "none", "graphMode": "none"},
    ),
    Panel(
        "timeseries",
        "Site occupancy over time",
        "Desks occupied, vacant and unknown across the site (averaged over each interval of the graph).",
        (
            Target(
                select(
                    'mean("occupied") AS "occupied", mean("vacant") AS "vacant", mean("unknown") AS "unknown"',
                    "site_occupancy",
                    SITE,
                    group_by=(INTERVAL,),
                    fill="none",
                )
            ),
        ),
        width=24,
        unit="none",
        min=0,
        custom=STACKED,
    ),
    Panel(
        "timeseries",
        "Occupied desks per zone",
        "Desks occupied in each selected zone over time (zones' peaks do not add up to the site's peak).",
        (
            Target(
                select(
                    'mean("occupied") AS "occupied"',
                    "zone_occupancy",
                    SITE,
                    ZONE,
                    group_by=(INTERVAL, "zone"),
                    fill="none",
                ),
                alias="$tag_zone",
            ),
        ),
        width=16,
        unit="none",
        min=0,
    ),
    Panel(
        "bargauge",
        "Zones now",
        "Utilisation of each selected zone at the latest instant (occupied among known desks).",
        (
            Target(
                select('last("utilisation") AS "utilisation"', "zone_occupancy", SITE, ZONE, group_by=("zone",)),
                alias="$tag_zone",
            ),
        ),
        width=8,
        unit="percentunit",
        min=0,
        max=1,
        thresholds=((None, "green"), (0.7, "orange"), (0.9, "red")),
        options={**LAST, "orientation": "horizontal", "displayMode": "gradient"},
    ),
    Panel(
        "timeseries",
        "Entries and exits per hour",
        "Granted entries and exits per hour through every door (UTC hours; exits need an exit reader).",
        (
            Target(
                select(
                    'sum("entries") AS "entries", sum("exits") AS "exits"',
                    "entries_hourly",
                    SITE,
                    group_by=("time(1h)",),
                    fill="0",
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
        "People present over time",
        "People on site over the day; the count restarts at local midnight.",
        (
            Target(
                select('last("present") AS "present"', "people_present", SITE, group_by=(INTERVAL,), fill="none"),
            ),
        ),
        width=12,
        unit="none",
        min=0,
    ),
    Panel(
        "timeseries",
        "Members per day",
        "Different members with a granted entry or exit each local day (a bar at local midnight), and member-days "
        "measured at the door, from the collector's anonymous member aggregates: kept for years, long after the "
        "access records expire. Choose a range of months or a year.",
        (Target(select('"members" AS "members"', "members_daily", SITE)),),
        width=24,
        unit="none",
        min=0,
        custom=BARS,
    ),
)


def build() -> Json:
    """The site overview dashboard."""
    return dashboard(
        uid="edge-site",
        title="edge · Site overview",
        description="Desks taken now and over time, per zone; entries per hour; people present.",
        panels=PANELS,
        variables=(variables.site(), variables.zone()),
        time_from="now-24h",
    )
