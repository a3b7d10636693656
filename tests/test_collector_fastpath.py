"""The ingest fast path and the contract's models agree on every input: same outcome, same record, same lines."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from edge.collector import fastpath
from edge.collector.ingest import Accepted, Receipt, Rejected, classify, classify_by_model
from edge.contract import DeskOccupancy, DeskState, DoorAccess, Envelope, Event, Kind, Reason, ZoneOccupancy, encode
from tests.collector_support import BASE, TOKEN, TOPICS

RECEIPT = Receipt(int(BASE.timestamp() * 1000), 300_000)

names = st.from_regex(r"[a-z0-9][a-z0-9_-]{0,8}", fullmatch=True)
times = st.datetimes(
    min_value=datetime(1971, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.sampled_from([UTC, None])
).map(lambda t: t if t.tzinfo else t.replace(tzinfo=timezone(timedelta(hours=2))))


def desk(draw: st.DrawFn, ts: datetime) -> DeskOccupancy:
    since = draw(st.sampled_from([ts, ts - timedelta(minutes=3), ts + timedelta(microseconds=300)]))
    return DeskOccupancy(desk=draw(names), zone=draw(names), state=draw(st.sampled_from(DeskState)), since=since)


def zone(draw: st.DrawFn, _ts: datetime) -> ZoneOccupancy:
    counts = st.integers(min_value=0, max_value=10**6)
    return ZoneOccupancy(
        zone=draw(names), occupied=draw(counts), vacant=draw(counts), unknown=draw(counts), total=draw(counts)
    )


def access(draw: st.DrawFn, _ts: datetime) -> DoorAccess:
    reason = draw(st.sampled_from(Reason))
    return DoorAccess(
        door=draw(names),
        reader=draw(names),
        token=TOKEN,
        member=draw(st.none() | st.from_regex(r"[a-z0-9-]{1,64}", fullmatch=True)),
        granted=reason is Reason.GRANTED,
        reason=reason,
        latency_ms=draw(st.floats(min_value=0, max_value=3_600_000) | st.integers(0, 3_600_000).map(float)),
    )


BODIES = {"desk": desk, "zone": zone, "access": access}


@st.composite
def events(draw: st.DrawFn, kinds: tuple[str, ...] = tuple(BODIES)) -> Event:
    """A valid event of a kind the fast path reads, with an envelope of any shape the contract allows."""
    ts = draw(times)
    body = BODIES[draw(st.sampled_from(kinds))](draw, ts)
    envelope = Envelope(
        id=draw(st.from_regex(r"[0-9A-Za-z_.:-]{1,64}", fullmatch=True)),
        ts=ts,
        node=draw(names),
        seq=draw(st.integers(min_value=0, max_value=2**40)),
    )
    return Event(envelope, body)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=12),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3),
    max_leaves=6,
)
_VALID_PARTS = {
    "year": ["2026", "1971", "2099"],
    "month": ["01", "02", "12"],
    "day": ["01", "28"],
    "sep": ["T"],
    "hour": ["00", "23"],
    "minute": ["00", "59"],
    "second": ["00", "59"],
    "fraction": ["", ".1", ".123", ".123456"],
    "zone": ["Z", "+01:00", "-00:00", "+23:59", "-12:30"],
}
_ODD_PARTS = {
    "year": ["0000", "9999", "1969", "26"],
    "month": ["13", "00", "1"],
    "day": ["29", "30", "31", "32", "00"],
    "sep": ["t", " ", "_", ""],
    "hour": ["24", "7"],
    "minute": ["60"],
    "second": ["60", "5"],
    "fraction": [".", ".1234567", ".123456789", ",5"],
    "zone": ["z", "", "+24:00", "+01:60", "-00:60", "+0100", "+01"],
}


@st.composite
def time_like(draw: st.DrawFn) -> str:
    """A canonical time with none, one or two of its parts at or past the edge of what the fast path reads."""
    parts = {key: draw(st.sampled_from(values)) for key, values in _VALID_PARTS.items()}
    for key in draw(st.lists(st.sampled_from(list(_ODD_PARTS)), max_size=2)):
        parts[key] = draw(st.sampled_from(_ODD_PARTS[key]))
    return "{year}-{month}-{day}{sep}{hour}:{minute}:{second}{fraction}{zone}".format(**parts)


@st.composite
def close_times(draw: st.DrawFn) -> tuple[str, str]:
    """Two canonical times to the microsecond, equal, in the same millisecond, or a millisecond apart."""
    base = draw(st.sampled_from(["2026-12-05T10:00:00", "2026-12-31T23:59:59"]))
    zone = draw(st.sampled_from(["Z", "+01:00"]))
    first = draw(st.integers(0, 998_999))
    second = draw(st.sampled_from([first, first - first % 1000 + 999, first + 1000, first + 1]))
    return f"{base}.{first:06d}{zone}", f"{base}.{second:06d}{zone}"


def check_agreement(topic: str, payload: bytes, receipt: Receipt | None) -> None:
    fast = classify(TOPICS, topic, payload, receipt)
    model = classify_by_model(TOPICS, topic, payload, receipt)
    assert fast == model


@settings(max_examples=300)
@given(events(), st.booleans())
def test_valid_events_give_the_same_record_and_lines_by_both_paths(event: Event, bounded: bool) -> None:
    topic, payload = event.body.topic(TOPICS), encode(event)
    assert fastpath.read(TOPICS.site, event.kind, event.body.subject(), payload) is not None  # really fast
    check_agreement(topic, payload, RECEIPT if bounded else None)


@pytest.mark.parametrize("change", ["replace", "time", "remove", "bool", "number", "times"])
@pytest.mark.parametrize("kind", list(BODIES))
@settings(max_examples=150)
@given(data=st.data())
def test_an_event_with_a_field_changed_gets_the_same_outcome_by_both_paths(kind: str, change: str, data: Any) -> None:
    event = data.draw(events((kind,)))
    wire: dict[str, Any] = json.loads(encode(event))
    key = data.draw(st.sampled_from([*wire, "extra"]))
    if change == "remove":
        wire.pop(key, None)
    elif change == "time":  # a time field
        wire[data.draw(st.sampled_from([k for k in ("ts", "since") if k in wire]))] = data.draw(time_like())
    elif change == "times":  # both times of a desk message, to the microsecond (a change has ts = since)
        wire["ts"], wire["since"] = data.draw(close_times())
    elif change == "bool":
        wire[key] = data.draw(st.booleans())
    elif change == "number":
        wire[key] = data.draw(st.integers(-(2**70), 2**70) | st.floats() | st.sampled_from([1.0, -0.0, 2**63]))
    else:
        wire[key] = data.draw(json_values)
    payload = json.dumps(wire, ensure_ascii=data.draw(st.booleans())).encode()
    check_agreement(event.body.topic(TOPICS), payload, RECEIPT)


def test_a_time_without_its_offset_is_refused_by_both_paths() -> None:
    event = Event(
        Envelope(id="a", ts=BASE, node="n", seq=1),
        DeskOccupancy(desk="d", zone="z", state=DeskState.VACANT, since=BASE),
    )
    wire = json.loads(encode(event))
    wire["ts"] = wire["ts"].rstrip("Z")  # the model used to take it as a naive time, which the store cannot date
    payload = json.dumps(wire).encode()
    outcome = classify(TOPICS, event.body.topic(TOPICS), payload, RECEIPT)
    assert isinstance(outcome, Rejected)
    assert outcome.reason == "invalid"
    assert outcome == classify_by_model(TOPICS, event.body.topic(TOPICS), payload, RECEIPT)


@settings(max_examples=300)
@given(st.sampled_from([Kind.DESK_OCCUPANCY, Kind.ZONE_OCCUPANCY, Kind.DOOR_ACCESS]), st.binary(max_size=300))
def test_arbitrary_bytes_get_the_same_outcome_by_both_paths(kind: Kind, payload: bytes) -> None:
    check_agreement(TOPICS.for_kind(kind, "d1"), payload, RECEIPT)


@given(events())
def test_the_same_event_on_another_objects_topic_is_refused_by_both(event: Event) -> None:
    topic = TOPICS.for_kind(event.kind, event.body.subject() + "x")
    outcome = classify(TOPICS, topic, encode(event), RECEIPT)
    assert not isinstance(outcome, Accepted)
    assert outcome == classify_by_model(TOPICS, topic, encode(event), RECEIPT)


def test_payloads_the_encoder_writes_take_the_fast_path() -> None:
    body = DeskOccupancy(desk="d1", zone="z1", state=DeskState.OCCUPIED, since=BASE)
    payload = encode(Event(Envelope(id="n1-1", ts=BASE, node="n1", seq=1), body))
    fast = fastpath.read(TOPICS.site, Kind.DESK_OCCUPANCY, "d1", payload)
    assert fast is not None
    assert (fast.id, fast.node, fast.seq, fast.subject) == ("n1-1", "n1", 1, "d1")
