"""The InfluxQL queries for the main questions, as documented in docs/data-model.md and run in the tests.

InfluxQL is the query language InfluxDB 1.8+, 2.x (v1 compatibility API) and 3.x all serve. `$timeFilter`,
`$__interval` and `$site` are Grafana's macros; tests replace them with literal values.
"""

from __future__ import annotations

QUERIES: dict[str, str] = {
    # Average desks per state in each zone (time-weighted: the series is sampled on a regular grid).
    "occupancy_per_zone": (
        'SELECT mean("occupied") AS "occupied", mean("vacant") AS "vacant", mean("unknown") AS "unknown",'
        ' mean("utilisation") AS "utilisation" FROM "longterm"."zone_occupancy"'
        ' WHERE "site" = \'$site\' AND $timeFilter GROUP BY time($__interval), "zone" fill(none)'
    ),
    # Peak and average concurrent occupancy of the site (peaks of zones do not add up: use this one).
    "site_occupancy_peak": (
        'SELECT max("occupied") AS "peak", mean("occupied") AS "average" FROM "longterm"."site_occupancy"'
        " WHERE \"site\" = '$site' AND $timeFilter GROUP BY time(1d) fill(none)"
    ),
    # Entries per hour over all doors, from the derived hourly series (kept after raw access records expire).
    "entries_per_hour": (
        'SELECT sum("entries") AS "entries" FROM "longterm"."entries_hourly"'
        " WHERE \"site\" = '$site' AND $timeFilter GROUP BY time(1h) fill(0)"
    ),
    # The same from raw door decisions (only within the raw retention period).
    "entries_per_hour_raw": (
        'SELECT sum("granted") AS "granted" FROM "door_access"'
        " WHERE \"site\" = '$site' AND $timeFilter GROUP BY time(1h) fill(0)"
    ),
    # Denied attempts by reason.
    "denied_by_reason": (
        'SELECT sum("attempts") AS "attempts" FROM "longterm"."access_hourly"'
        ' WHERE "site" = \'$site\' AND "reason" != \'granted\' AND $timeFilter GROUP BY "reason"'
    ),
    # The same from raw door decisions.
    "denied_by_reason_raw": (
        'SELECT sum("denied") AS "denied" FROM "door_access" WHERE "site" = \'$site\' AND $timeFilter GROUP BY "reason"'
    ),
    # People on site now and over the day; estimate = 1 when no exit reader is configured.
    "people_present": (
        'SELECT last("present") AS "present", last("estimate") AS "estimate" FROM "longterm"."people_present"'
        " WHERE \"site\" = '$site' AND $timeFilter GROUP BY time($__interval) fill(none)"
    ),
    # Events missing per node (seq gaps not filled yet).
    "data_completeness": (
        'SELECT last("expected") AS "expected", last("received") AS "received", last("missing") AS "missing"'
        ' FROM "longterm"."data_completeness" WHERE "site" = \'$site\' AND $timeFilter GROUP BY "node"'
    ),
    # Desk state changes per desk: heartbeats re-confirm a state (transition = 0) and are not counted.
    "desk_transitions": (
        'SELECT sum("transition") AS "transitions" FROM "desk_state"'
        ' WHERE "site" = \'$site\' AND $timeFilter GROUP BY "desk"'
    ),
    # Node health: availability, outbox depth and drops.
    "node_health": (
        'SELECT last("online") AS "online", last("outbox_depth") AS "outbox_depth",'
        ' max("outbox_dropped") AS "outbox_dropped" FROM "node_health"'
        ' WHERE "site" = \'$site\' AND $timeFilter GROUP BY "node"'
    ),
    # Distinct members per local day, and their measured time on site (the points sit at local midnight).
    "members_per_day": (
        'SELECT "members", "measured", "visit_s" FROM "longterm"."members_daily"'
        " WHERE \"site\" = '$site' AND $timeFilter"
    ),
    # Distinct members per calendar month, member-days, and how many came 1, 2-4, 5-9, 10+ days.
    "members_per_month": (
        'SELECT "members", "member_days", "came_1", "came_2_4", "came_5_9", "came_10_plus"'
        ' FROM "longterm"."members_monthly" WHERE "site" = \'$site\' AND $timeFilter'
    ),
    # Distinct members per calendar year: an estimate with its standard error; final = 1 once the year closed.
    "members_per_year": (
        'SELECT "members", "error", "member_days", "final" FROM "longterm"."members_yearly"'
        " WHERE \"site\" = '$site' AND $timeFilter"
    ),
}
