"""The ingest fast path: canonical payloads of the busy kinds, checked and mapped to line protocol in plain Python.

While the collector catches up on a backlog it receives thousands of events a second, and validating each one
through the contract's pydantic models, then building points from the models, cost more than paho's own work per
message (docs/benchmarks.md, Collector). Nearly every payload is in the canonical form the contract's encoder
writes: JSON types exactly as declared, times as RFC 3339 with a `T`, seconds, an optional fraction of up to six
digits and `Z` or a `+hh:mm` offset. For desk occupancy, zone occupancy and door decisions in that form, this
module checks every constraint of the contract and writes the line protocol straight from the values.

It never refuses anything: a payload it cannot vouch for (another kind, another time format, a number where a
string belongs, a body that names another object than its topic, anything unusual) gives None and goes through
the models (`edge.contract.decode`), which accept or refuse it with a reason. What it accepts, the models accept
with the same record and the same line protocol: tests/test_collector_fastpath.py checks that with hypothesis
on valid events, on events with a field replaced by any JSON value or time-like text, and on arbitrary bytes.
JSON is parsed by pydantic-core's parser, the one `model_validate_json` uses.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from pydantic_core import from_json

from edge.collector.lineprotocol import FieldValue, encode_fields, encode_series
from edge.contract import DeskState, Kind, Reason
from edge.contract.payloads import MAX_EVENT_BYTES, NAME_PATTERN, SCHEMA_VERSION
from edge.contract.token import TOKEN_PATTERN

_NAME = re.compile(NAME_PATTERN).fullmatch
_TOKEN = re.compile(TOKEN_PATTERN).fullmatch
_ID = re.compile(r"[0-9A-Za-z_.:-]{1,64}").fullmatch
# The canonical time: what rfc3339_ms writes, plus any offset and 0-6 fraction digits; every part in range.
_TIME = re.compile(
    r"[0-9]{4}-(?:0[1-9]|1[0-2])-(?:0[1-9]|[12][0-9]|3[01])T(?:[01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9]"
    r"(?:\.[0-9]{1,6})?(?:Z|[+-](?:[01][0-9]|2[0-3]):[0-5][0-9])"
).fullmatch
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_ONE_US = timedelta(microseconds=1)
_DESK_STATES: dict[str, DeskState] = {s.value: s for s in DeskState}
_REASONS: dict[str, Reason] = {r.value: r for r in Reason}
_MAX_INT = 2**63  # JSON integers the models take as they are (larger ones: let the models decide)
_MAX_LATENCY_MS = 3_600_000


class _Defer(Exception):
    """The payload is not in a form this module vouches for: the models decide."""


class Fast:
    """What the fast path read from one payload; the ingest code turns it into its `Accepted`."""

    __slots__ = ("detail", "fields", "id", "kind", "node", "seq", "series", "subject", "ts_us")

    def __init__(
        self, kind: Kind, values: dict[str, Any], ts_us: int, subject: str, series: str, fields: str, detail: Any
    ) -> None:
        self.kind = kind
        self.id: str = values["id"]
        self.node: str = values["node"]
        self.seq: int = values["seq"]
        self.ts_us = ts_us  # the envelope's ts, microseconds since the epoch (// 1000 is `schema.ms_of`)
        self.subject = subject
        self.series = series  # the point's measurement and tags, encoded
        self.fields = fields  # its fields, encoded
        self.detail = detail  # (desk, zone, DeskState, since_ms) or (door, reader, granted, reason) or None


def read(site: str, kind: Kind, name: str | None, payload: bytes) -> Fast | None:
    """The event in `payload`, received on a topic of `kind` about `name`, if canonical; None otherwise."""
    reader = _READERS.get(kind)
    if reader is None or len(payload) > MAX_EVENT_BYTES:
        return None
    try:
        values = from_json(payload)
        if type(values) is not dict:
            return None
        return reader(site, values, name, _envelope_time(values))
    except (_Defer, ValueError, KeyError):
        return None


def _envelope_time(values: dict[str, Any]) -> int:
    v, event_id, node, seq = values["v"], values["id"], values["node"], values["seq"]
    if type(v) is not int or v != SCHEMA_VERSION:
        raise _Defer
    if type(event_id) is not str or not _ID(event_id) or type(node) is not str or not _NAME(node):
        raise _Defer
    if type(seq) is not int or not 0 <= seq < _MAX_INT:
        raise _Defer
    return _time_us(values["ts"])


def _time_us(text: object) -> int:
    if type(text) is not str or not _TIME(text):
        raise _Defer
    return (datetime.fromisoformat(text) - _EPOCH) // _ONE_US


def _name(value: object) -> str:
    if type(value) is not str or not _NAME(value):
        raise _Defer
    return value


def _count(value: object) -> int:
    if type(value) is not int or not 0 <= value < _MAX_INT:
        raise _Defer
    return value


def _desk(site: str, values: dict[str, Any], name: str | None, ts_us: int) -> Fast:
    desk, zone, state = _name(values["desk"]), _name(values["zone"]), values["state"]
    if type(state) is not str or state not in _DESK_STATES or desk != name:
        raise _Defer
    since_us = _time_us(values["since"])
    transition = ts_us // 1000 == since_us // 1000  # a change has ts = since, to the ms (schema.is_transition)
    series = _desk_series(site, zone, desk, values["node"])
    detail = (desk, zone, _DESK_STATES[state], since_us // 1000)
    return Fast(Kind.DESK_OCCUPANCY, values, ts_us, desk, series, _DESK_FIELDS[state, transition], detail)


def _zone(site: str, values: dict[str, Any], name: str | None, ts_us: int) -> Fast:
    zone = _name(values["zone"])
    if zone != name:
        raise _Defer
    counts: dict[str, FieldValue] = {key: _count(values[key]) for key in ("occupied", "vacant", "unknown", "total")}
    series = encode_series("zone_state", {"site": site, "zone": zone, "node": values["node"]})
    return Fast(Kind.ZONE_OCCUPANCY, values, ts_us, zone, series, encode_fields(counts), None)


def _access(site: str, values: dict[str, Any], name: str | None, ts_us: int) -> Fast:
    door, reader, token = _name(values["door"]), _name(values["reader"]), values["token"]
    member, granted, reason, latency = values["member"], values["granted"], values["reason"], values["latency_ms"]
    if door != name or type(token) is not str or not _TOKEN(token) or type(granted) is not bool:
        raise _Defer
    if member is not None and (type(member) is not str or not 1 <= len(member) <= 64 or not member.isascii()):
        raise _Defer
    if type(reason) is not str or reason not in _REASONS:
        raise _Defer
    if type(latency) is int and 0 <= latency <= _MAX_LATENCY_MS:
        latency = float(latency)  # a strict float field takes a JSON integer as a float
    elif type(latency) is not float or not 0 <= latency <= _MAX_LATENCY_MS:
        raise _Defer
    tags = {"site": site, "door": door, "reader": reader, "reason": reason, "node": values["node"]}
    fields: dict[str, FieldValue] = {"granted": int(granted), "denied": int(not granted), "latency_ms": latency}
    series = encode_series("door_access", tags)
    detail = (door, reader, granted, reason)
    return Fast(Kind.DOOR_ACCESS, values, ts_us, door, series, encode_fields(fields), detail)


_READERS: dict[Kind, Callable[[str, dict[str, Any], str | None, int], Fast]] = {
    Kind.DESK_OCCUPANCY: _desk,
    Kind.ZONE_OCCUPANCY: _zone,
    Kind.DOOR_ACCESS: _access,
}
_DESK_FIELDS = {
    (state.value, transition): encode_fields(
        {
            "occupied": int(state is DeskState.OCCUPIED),
            "vacant": int(state is DeskState.VACANT),
            "unknown": int(state is DeskState.UNKNOWN),
            "transition": int(transition),
        }
    )
    for state in DeskState
    for transition in (False, True)
}


@functools.lru_cache(maxsize=4096)
def _desk_series(site: str, zone: str, desk: str, node: str) -> str:
    # a site has a few hundred desks, each repeating its series in every message
    return encode_series("desk_state", {"site": site, "zone": zone, "desk": desk, "node": node})
