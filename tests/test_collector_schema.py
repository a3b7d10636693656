"""The time-series schema: declared shapes, typed fields, no pseudonyms, idempotent point identity."""

from __future__ import annotations

import datetime as dt
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st
from influxdb_client import Point as ClientPoint

from edge.collector.lineprotocol import Point
from edge.collector.members import DayMembers, MonthMembers, YearMembers
from edge.collector.schema import (
    MEASUREMENTS,
    NS_PER_MS,
    Bucket,
    Completeness,
    HourCounts,
    Presence,
    SiteUsage,
    StateCounts,
    completeness_point,
    event_points,
    hourly_points,
    members_daily_point,
    members_monthly_point,
    members_yearly_point,
    people_present_point,
    site_hourly_point,
    site_occupancy_point,
    zone_occupancy_point,
)
from edge.contract import (
    DeskOccupancy,
    DeskState,
    DoorAccess,
    Envelope,
    Event,
    NodeStatus,
    Reason,
)
from tests.collector_support import BODIES, BODY_TS, TOKEN

names = st.from_regex(r"^[a-z0-9][a-z0-9_-]{0,47}$", fullmatch=True)
LOW_CARDINALITY_TAGS = {"site", "zone", "desk", "door", "reader", "node", "reason", "alarm"}


def envelope(seq: int = 42, ts: datetime = BODY_TS) -> Envelope:
    return Envelope(id="e1", ts=ts, node="n1", seq=seq)


@pytest.mark.parametrize("body", BODIES, ids=lambda b: type(b).__name__)
def test_every_event_kind_maps_to_one_point_that_conforms_to_its_declaration(body: object) -> None:
    [point] = event_points("site1", Event(envelope(), body))  # type: ignore[arg-type]
    assert MEASUREMENTS[point.measurement].conforms(point) == []
    assert MEASUREMENTS[point.measurement].bucket is Bucket.RAW


@pytest.mark.parametrize("measurement", MEASUREMENTS.values(), ids=lambda m: m.name)
def test_no_measurement_uses_a_name_as_both_tag_and_field(measurement: object) -> None:
    m = MEASUREMENTS[measurement.name]  # type: ignore[attr-defined]
    assert not set(m.tags) & set(m.fields)
    assert m.field_prefix is None or not any(t.startswith(m.field_prefix) for t in m.tags)


def test_tags_are_only_low_cardinality_names() -> None:
    used = {tag for m in MEASUREMENTS.values() for tag in m.tags}
    assert used <= LOW_CARDINALITY_TAGS


def test_fields_are_numbers_so_meaning_survives_in_every_backend() -> None:
    kinds = {t for m in MEASUREMENTS.values() for t in m.fields.values()}
    assert kinds <= {int, float}


def test_a_field_name_has_one_type_across_all_measurements() -> None:
    seen: dict[str, type] = {}
    for m in MEASUREMENTS.values():
        for name, kind in m.fields.items():
            assert seen.setdefault(name, kind) is kind, name


def test_access_points_carry_no_token_and_no_member() -> None:
    [point] = event_points("s", Event(envelope(), BODIES[1]))
    line = point.line()
    assert TOKEN not in line
    assert "m-1" not in line
    assert point.tags["reason"] == "expired"
    assert (point.fields["granted"], point.fields["denied"]) == (0, 1)


def test_point_time_is_the_event_ms_with_seq_in_the_sub_millisecond_digits() -> None:
    [point] = event_points("s", Event(envelope(seq=1_000_042), BODIES[0]))
    assert point.time_ns == int(BODY_TS.timestamp()) * 1_000_000_000 + 123 * NS_PER_MS + 42


def test_two_events_of_one_node_in_the_same_millisecond_are_two_points() -> None:
    first = event_points("s", Event(envelope(seq=7), BODIES[0]))[0]
    second = event_points("s", Event(envelope(seq=8), BODIES[0]))[0]
    assert first.series_key() == second.series_key()
    assert first.time_ns != second.time_ns


def test_the_same_event_always_gives_the_same_line() -> None:
    one = event_points("s", Event(envelope(), BODIES[3]))[0].line()
    two = event_points("s", Event(envelope(), BODIES[3]))[0].line()
    assert one == two


def test_unknown_desks_are_their_own_state_never_vacant() -> None:
    body = DeskOccupancy(desk="d1", zone="z1", state=DeskState.UNKNOWN, since=BODY_TS)
    [point] = event_points("s", Event(envelope(), body))
    assert point.fields == {"occupied": 0, "vacant": 0, "unknown": 1, "transition": 1}


def test_a_desk_change_is_a_transition_and_a_heartbeat_is_not() -> None:
    # edge presence publishes a change with ts = since and re-publishes the unchanged state later (docs/mqtt.md).
    body = DeskOccupancy(desk="d1", zone="z1", state=DeskState.OCCUPIED, since=BODY_TS)
    [change] = event_points("s", Event(envelope(seq=1), body))
    [heartbeat] = event_points("s", Event(envelope(seq=2, ts=BODY_TS + timedelta(minutes=1)), body))
    assert (change.fields["transition"], heartbeat.fields["transition"]) == (1, 0)
    assert (change.fields["occupied"], heartbeat.fields["occupied"]) == (1, 1)
    assert MEASUREMENTS["desk_state"].conforms(heartbeat) == []


def test_a_point_time_given_for_an_event_replaces_its_own_but_keeps_the_seq_digits() -> None:
    at_ns = int((BODY_TS + timedelta(hours=1)).timestamp()) * 1_000_000_000
    [point] = event_points("s", Event(envelope(seq=7), BODIES[0]), at_ns + 7)
    assert point.time_ns == at_ns + 7
    assert point.fields["transition"] == 1  # judged on the event's own ts, not on the time it is stored at


def test_optional_door_fields_are_left_out_when_unknown() -> None:
    [point] = event_points("s", Event(envelope(), BODIES[3]))
    assert "open" not in point.fields
    assert "members_version" not in point.fields
    assert point.fields["lockdown"] == 1


def test_node_counters_become_integer_fields_with_a_safe_name() -> None:
    body = NodeStatus(state="offline", version="1", counters={"Weird name!": 3})
    [point] = event_points("s", Event(envelope(), body))
    assert point.fields["counter_weird_name_"] == 3
    assert point.fields["online"] == 0
    assert MEASUREMENTS["node_health"].conforms(point) == []


@pytest.mark.parametrize(
    "point",
    [
        zone_occupancy_point("s", "z1", 60_000, StateCounts(3, 1, 2)),
        site_occupancy_point("s", 60_000, StateCounts(0, 0, 4)),
        *hourly_points("s", "front", 3_600_000, HourCounts(5, 2, 1, {"granted": 7, "expired": 1})),
        people_present_point("s", 60_000, Presence(3, 5, 2, estimate=False)),
        site_hourly_point("s", 3_600_000, SiteUsage(3, 3600, 1800, 7200, 900, 3600, 10800)),
        completeness_point("s", "n1", 60_000, Completeness(expected=10, received=8, gaps=1)),
        members_daily_point("s", 0, DayMembers(dt.date(2026, 3, 2), 12, 15, 10, 2, 36000, (1, 2, 3, 2, 1, 1))),
        members_monthly_point("s", 0, MonthMembers(dt.date(2026, 3, 1), 40, (20, 12, 6, 2), 31), 220),
        members_yearly_point(
            "s", 0, YearMembers(2026, 140, 6, dt.date(2026, 1, 1), dt.date(2026, 12, 31), True), 2400, 365
        ),
    ],
    ids=lambda p: p.measurement,
)
def test_derived_points_conform_and_go_to_the_aggregate_bucket(point: Point) -> None:
    declared = MEASUREMENTS[point.measurement]
    assert declared.conforms(point) == []
    assert declared.bucket is Bucket.AGGREGATE


def test_utilisation_counts_only_desks_whose_state_is_known() -> None:
    assert StateCounts(occupied=3, vacant=1, unknown=4).fields()["utilisation"] == 0.75
    assert "utilisation" not in StateCounts(unknown=2).fields()


tag_text = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), min_size=1, max_size=12)
field_values = st.one_of(
    st.integers(min_value=-(2**63), max_value=2**63 - 1),
    st.floats(allow_nan=False, allow_infinity=False),
    st.booleans(),
    st.text(max_size=12),
)


@given(
    measurement=names,
    tags=st.dictionaries(tag_text, tag_text, max_size=4),
    fields=st.dictionaries(tag_text, field_values, min_size=1, max_size=4),
    time_ns=st.integers(min_value=0, max_value=2**62),
)
def test_line_protocol_matches_influxdb_client_byte_for_byte(
    measurement: str, tags: dict[str, str], fields: dict[str, object], time_ns: int
) -> None:
    ours = Point(measurement, tags, fields, time_ns).line()  # type: ignore[arg-type]
    reference = ClientPoint(measurement)
    for key, value in tags.items():
        reference.tag(key, value)
    for key, value in fields.items():
        reference.field(key, value)
    reference.time(time_ns)
    assert ours == reference.to_line_protocol()


@given(
    desk=names,
    zone=names,
    node=names,
    state=st.sampled_from(DeskState),
    seq=st.integers(min_value=0, max_value=2**40),
    offset_ms=st.integers(min_value=0, max_value=10**11),
)
def test_any_valid_desk_event_maps_to_a_conforming_point_at_its_own_time(
    desk: str, zone: str, node: str, state: DeskState, seq: int, offset_ms: int
) -> None:
    ts = datetime(2000, 1, 1, tzinfo=UTC) + timedelta(milliseconds=offset_ms)
    body = DeskOccupancy(desk=desk, zone=zone, state=state, since=ts)
    [point] = event_points("s", Event(Envelope(id="x", ts=ts, node=node, seq=seq), body))
    assert MEASUREMENTS["desk_state"].conforms(point) == []
    assert point.time_ns // NS_PER_MS == int((ts - datetime(1970, 1, 1, tzinfo=UTC)) / timedelta(milliseconds=1))
    assert point.time_ns % NS_PER_MS == seq % NS_PER_MS
    assert point.fields["occupied"] + point.fields["vacant"] + point.fields["unknown"] == 1  # type: ignore[operator]
    assert point.fields["transition"] == 1
    assert (point.tags["desk"], point.tags["zone"], point.tags["node"]) == (desk, zone, node)


@given(
    door=names,
    reader=names,
    reason=st.sampled_from(Reason),
    member=st.one_of(st.none(), st.text(min_size=1, max_size=64)),
    latency=st.floats(min_value=0, max_value=3_600_000),
)
def test_any_valid_access_event_maps_to_a_conforming_point_without_pseudonym(
    door: str, reader: str, reason: Reason, member: str | None, latency: float
) -> None:
    body = DoorAccess(
        door=door,
        reader=reader,
        token=TOKEN,
        member=member,
        granted=reason is Reason.GRANTED,
        reason=reason,
        latency_ms=latency,
    )
    [point] = event_points("s", Event(envelope(), body))
    assert MEASUREMENTS["door_access"].conforms(point) == []
    assert point.fields["granted"] + point.fields["denied"] == 1  # type: ignore[operator]
    assert TOKEN not in point.line()
    assert member is None or f'"{member}"' not in point.line()
