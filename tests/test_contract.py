"""The MQTT contract: topics, payload round trips, refusal of malformed payloads, badge tokens."""

from __future__ import annotations

import contextlib
import json
from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from edge.contract import (
    BODIES,
    Alarm,
    BadgeScan,
    Body,
    DeskOccupancy,
    DeskState,
    DoorAccess,
    DoorAlarm,
    DoorMode,
    DoorState,
    Envelope,
    Event,
    Kind,
    NodeStatus,
    Reason,
    Topics,
    ZoneOccupancy,
    badge_token,
    decode,
    encode,
)
from edge.errors import PayloadError

TS = datetime(2026, 3, 29, 0, 59, 59, 123000, tzinfo=UTC)
TOKEN = "0123456789abcdef0123456789abcdef"
names = st.from_regex(r"^[a-z0-9][a-z0-9_-]{0,47}$", fullmatch=True)
tokens = st.from_regex(r"^[0-9a-f]{32}$", fullmatch=True)
stamps = st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.just(UTC)).map(
    lambda d: d.replace(microsecond=d.microsecond // 1000 * 1000)
)
counts = st.integers(0, 10_000)

BODY_STRATEGIES: dict[Kind, st.SearchStrategy[Body]] = {
    Kind.BADGE_SCAN: st.builds(BadgeScan, reader=names, token=tokens),
    Kind.DOOR_ACCESS: st.builds(
        DoorAccess,
        door=names,
        reader=names,
        token=tokens,
        member=st.none() | st.text(min_size=1, max_size=64),
        granted=st.booleans(),
        reason=st.sampled_from(Reason),
        latency_ms=st.floats(0, 10_000, allow_nan=False),
    ),
    Kind.DOOR_ALARM: st.builds(DoorAlarm, door=names, alarm=st.sampled_from(Alarm), active=st.booleans()),
    Kind.DOOR_STATE: st.builds(
        DoorState,
        door=names,
        locked=st.booleans(),
        open=st.none() | st.booleans(),
        mode=st.sampled_from(DoorMode),
        members_version=st.none() | counts,
        members_applied_at=st.none() | stamps,
    ),
    Kind.DESK_OCCUPANCY: st.builds(
        DeskOccupancy, desk=names, zone=names, state=st.sampled_from(DeskState), since=stamps
    ),
    Kind.ZONE_OCCUPANCY: st.builds(
        ZoneOccupancy, zone=names, occupied=counts, vacant=counts, unknown=counts, total=counts
    ),
    Kind.NODE_STATUS: st.builds(
        NodeStatus,
        state=st.sampled_from(["online", "offline"]),
        version=st.text(max_size=20),
        uptime_s=st.floats(0, 1e7, allow_nan=False),
        outbox_depth=counts,
        outbox_dropped=counts,
        clock_synced=st.none() | st.booleans(),
        counters=st.dictionaries(st.text(max_size=20), counts, max_size=5),
    ),
}
envelopes = st.builds(
    Envelope, id=st.from_regex(r"^[0-9a-f]{32}$", fullmatch=True), ts=stamps, node=names, seq=st.integers(0, 2**53)
)


def test_every_body_kind_has_a_strategy() -> None:
    assert set(BODY_STRATEGIES) == set(BODIES)


@pytest.mark.parametrize("kind", sorted(BODIES))
@given(data=st.data())
def test_every_payload_survives_a_round_trip(kind: Kind, data: st.DataObject) -> None:
    event = Event(data.draw(envelopes), data.draw(BODY_STRATEGIES[kind]))
    decoded = decode(kind, encode(event))
    assert decoded.envelope == event.envelope
    assert decoded.body.model_dump() == event.body.model_dump()


def test_timestamps_are_rfc3339_utc_with_milliseconds() -> None:
    event = Event(Envelope(id="a1", ts=TS, node="n1", seq=1), BadgeScan(reader="r1", token=TOKEN))
    wire = json.loads(encode(event))
    assert wire["ts"] == "2026-03-29T00:59:59.123Z"
    assert wire["v"] == 1


def valid_access() -> dict[str, object]:
    body = DoorAccess(
        door="front", reader="in", token=TOKEN, member="m-1", granted=True, reason=Reason.GRANTED, latency_ms=1.5
    )
    return json.loads(encode(Event(Envelope(id="a1", ts=TS, node="n1", seq=5), body)))


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        (b"\xff\xfe", "not_utf8"),
        (b"{not json", "not_json"),
        (b"[1, 2]", "not_object"),
        (b'"text"', "not_object"),
        (json.dumps({**valid_access(), "v": 2}).encode(), "unknown_version"),
        (json.dumps({k: v for k, v in valid_access().items() if k != "v"}).encode(), "unknown_version"),
        (json.dumps({**valid_access(), "granted": "yes"}).encode(), "invalid"),
        (json.dumps({**valid_access(), "reason": "bribed"}).encode(), "invalid"),
        (json.dumps({**valid_access(), "seq": -1}).encode(), "invalid"),
        (json.dumps({**valid_access(), "seq": "5"}).encode(), "invalid"),
        (json.dumps({**valid_access(), "token": "04A2B3C4"}).encode(), "invalid"),
        (json.dumps({**valid_access(), "ts": "yesterday"}).encode(), "invalid"),
        (json.dumps({k: v for k, v in valid_access().items() if k != "door"}).encode(), "invalid"),
        (b"{" + b" " * 20000 + b"}", "too_large"),
    ],
)
def test_malformed_payloads_are_refused_with_a_reason(raw: bytes, reason: str) -> None:
    with pytest.raises(PayloadError) as caught:
        decode(Kind.DOOR_ACCESS, raw)
    assert caught.value.reason == reason


def test_unknown_extra_fields_are_ignored_so_the_contract_can_grow() -> None:
    raw = json.dumps({**valid_access(), "future_field": 1}).encode()
    assert decode(Kind.DOOR_ACCESS, raw).body.door == "front"  # type: ignore[attr-defined]


@given(st.binary(max_size=2000))
def test_decoding_arbitrary_bytes_raises_only_payload_error(raw: bytes) -> None:
    for kind in BODIES:
        with contextlib.suppress(PayloadError):
            decode(kind, raw)


@given(st.dictionaries(st.sampled_from(list(valid_access())), st.none() | st.integers() | st.text(max_size=5)))
def test_decoding_wrong_types_raises_only_payload_error(overrides: dict[str, object]) -> None:
    raw = json.dumps({**valid_access(), **overrides}).encode()
    with contextlib.suppress(PayloadError):
        decode(Kind.DOOR_ACCESS, raw)


TOPICS = Topics(site="lyon")


@pytest.mark.parametrize(
    ("topic", "kind", "name"),
    [
        ("edge/lyon/badge/reception/scan", Kind.BADGE_SCAN, "reception"),
        ("edge/lyon/door/front/access", Kind.DOOR_ACCESS, "front"),
        ("edge/lyon/door/front/alarm", Kind.DOOR_ALARM, "front"),
        ("edge/lyon/door/front/state", Kind.DOOR_STATE, "front"),
        ("edge/lyon/door/front/command", Kind.DOOR_COMMAND, "front"),
        ("edge/lyon/desk/d-01/occupancy", Kind.DESK_OCCUPANCY, "d-01"),
        ("edge/lyon/zone/open-space/occupancy", Kind.ZONE_OCCUPANCY, "open-space"),
        ("edge/lyon/node/pi-1/status", Kind.NODE_STATUS, "pi-1"),
        ("edge/lyon/members", Kind.MEMBERS, None),
    ],
)
def test_topics_are_built_and_parsed_symmetrically(topic: str, kind: Kind, name: str | None) -> None:
    match = TOPICS.parse(topic)
    assert match is not None and (match.kind, match.name) == (kind, name)
    assert TOPICS.for_kind(kind, name) == topic


@pytest.mark.parametrize(
    "topic",
    ["edge/paris/door/front/access", "edge/lyon/door/front", "edge/lyon/door//access", "edge/lyon/x/y/z", "other"],
)
def test_foreign_or_malformed_topics_are_not_recognised(topic: str) -> None:
    assert TOPICS.parse(topic) is None


def test_object_names_with_wildcards_are_refused() -> None:
    with pytest.raises(ValueError):
        TOPICS.door_access("front/#")


def test_prefix_is_configurable() -> None:
    assert Topics(site="lyon", prefix="tl").members() == "tl/lyon/members"


def test_badge_token_is_a_keyed_hash_of_the_normalised_uid() -> None:
    key = b"k" * 32
    token = badge_token(key, "04:a2:b3:c4")
    assert token == badge_token(key, "04A2B3C4")
    assert len(token) == 32 and token != badge_token(b"j" * 32, "04A2B3C4")
    assert "04a2b3c4" not in token.lower()


def test_badge_token_refuses_a_short_key() -> None:
    with pytest.raises(ValueError):
        badge_token(b"short", "04A2B3C4")
