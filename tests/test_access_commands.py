"""Signed door commands: obeyed once when fresh, signed, addressed here and not retained; refused otherwise."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import given, settings
from hypothesis import strategies as st

from edge.access.commands import MAX_VALID_FOR_S, Action, Command, ReplayGuard, verify_command
from edge.access.signed import TrustedKeys
from edge.clock import ManualClock
from edge.errors import PayloadError
from edge.staff.command import make_command, sign_command
from edge.staff.signing import public_key_of, sign

STAFF = Ed25519PrivateKey.generate()
TRUSTED = TrustedKeys([public_key_of(STAFF)])
START = dt.datetime(2026, 11, 26, 9, 0, tzinfo=dt.UTC)


def command(
    action: Action = Action.UNLOCK_ONCE,
    *,
    door: str = "front",
    site: str = "lyon",
    at: dt.datetime = START,
    valid_for_s: int = 30,
) -> Command:
    """A command issued at `at`."""
    return make_command(site, door, action, now=at, valid_for_s=valid_for_s)


def verify(
    raw: bytes,
    *,
    now: dt.datetime = START,
    guard: ReplayGuard | None = None,
    retained: bool = False,
    max_skew_s: float = 5.0,
) -> Command:
    """Verify as the front door of lyon would, with `max_skew_s` of clock skew allowed."""
    return verify_command(
        raw,
        retained=retained,
        trusted=TRUSTED,
        site="lyon",
        door="front",
        now=now,
        guard=guard if guard is not None else ReplayGuard(),
        max_skew_s=max_skew_s,
    )


def refusal(raw: bytes, **kwargs) -> str:
    """The reason a command is refused."""
    with pytest.raises(PayloadError) as caught:
        verify(raw, **kwargs)
    return caught.value.reason


@pytest.mark.parametrize("action", list(Action))
def test_a_fresh_signed_command_is_obeyed(action: Action) -> None:
    issued = command(action)
    assert verify(sign_command(issued, STAFF)) == issued


def test_a_retained_command_never_acts_even_when_valid() -> None:
    assert refusal(sign_command(command(), STAFF), retained=True) == "retained"


def test_a_replayed_command_is_refused() -> None:
    guard = ReplayGuard()
    raw = sign_command(command(), STAFF)
    verify(raw, guard=guard)
    assert refusal(raw, guard=guard, now=START + dt.timedelta(seconds=1)) == "replayed"


def test_a_refused_command_does_not_burn_its_nonce() -> None:
    guard = ReplayGuard()
    raw = sign_command(command(), STAFF)
    assert refusal(raw, guard=guard, retained=True) == "retained"
    assert verify(raw, guard=guard).action == Action.UNLOCK_ONCE


@pytest.mark.parametrize(
    ("offset_s", "ok"),
    [(-5, True), (-5.001, False), (-60, False), (0, True), (30, True), (35, True), (35.001, False), (3600, False)],
)
def test_the_validity_window_with_five_seconds_of_clock_skew(offset_s: float, ok: bool) -> None:
    raw = sign_command(command(valid_for_s=30), STAFF)
    now = START + dt.timedelta(seconds=offset_s)
    if ok:
        verify(raw, now=now)
    else:
        assert refusal(raw, now=now) == "stale"


@pytest.mark.parametrize(("offset_s", "ok"), [(-30, True), (-30.001, False), (60, True), (60.001, False)])
def test_the_validity_window_widens_with_the_skew_it_is_given(offset_s: float, ok: bool) -> None:
    raw = sign_command(command(valid_for_s=30), STAFF)
    now = START + dt.timedelta(seconds=offset_s)
    if ok:
        verify(raw, now=now, max_skew_s=30)
    else:
        assert refusal(raw, now=now, max_skew_s=30) == "stale"


def test_a_command_for_another_door_or_site_is_refused() -> None:
    assert refusal(sign_command(command(door="back"), STAFF)) == "wrong_door"
    assert refusal(sign_command(command(site="paris"), STAFF)) == "wrong_door"


def test_a_forged_command_is_refused() -> None:
    message = json.loads(sign_command(command(Action.LOCKDOWN), STAFF))
    message["payload"]["action"] = "unlocked"
    assert refusal(json.dumps(message).encode()) == "forged"


def test_a_command_signed_by_an_unknown_key_is_refused() -> None:
    assert refusal(sign_command(command(), Ed25519PrivateKey.generate())) == "unknown_key"


def test_an_unsigned_command_is_refused() -> None:
    unsigned = {"kind": "edge-door-command/1", "payload": command().to_payload()}
    assert refusal(json.dumps(unsigned).encode()) == "unsigned"


def test_a_signed_snapshot_is_not_a_command() -> None:
    assert refusal(sign("edge-members-snapshot/1", command().to_payload(), STAFF)) == "wrong_kind"


@pytest.mark.parametrize(
    ("case", "edit"),
    [
        ("unknown action", {"action": "open_sesame"}),
        ("short nonce", {"nonce": "abc"}),
        ("window too long", {"valid_for_s": MAX_VALID_FOR_S + 1}),
        ("window zero", {"valid_for_s": 0}),
        ("window not an integer", {"valid_for_s": "30"}),
        ("no time zone", {"issued_at": "2026-11-26T09:00:00"}),
        ("door not a name", {"door": "Front Door"}),
        ("missing field", {"nonce": None}),
    ],
)
def test_a_signed_but_malformed_command_is_refused(case: str, edit: dict) -> None:
    payload = {**command().to_payload(), **edit}
    payload = {k: v for k, v in payload.items() if v is not None}
    assert refusal(sign("edge-door-command/1", payload, STAFF)) == "malformed"


@pytest.mark.parametrize("raw", [b"", b"{", b"\xff", b"[]", b"x" * 5000])
def test_garbage_is_refused(raw: bytes) -> None:
    assert refusal(raw) in {"not_json", "malformed", "too_large"}


def test_the_guard_is_bounded_and_never_forgets_unsafely() -> None:
    clock = ManualClock(START)
    guard = ReplayGuard(capacity=3)
    raws = []
    for _ in range(5):
        raw = sign_command(command(at=clock.now(), valid_for_s=MAX_VALID_FOR_S), STAFF)
        verify(raw, now=clock.now(), guard=guard)
        raws.append(raw)
        clock.advance(1)
    assert len(guard) == 3
    for raw in raws:  # the two forgotten ones are below the floor, the others remembered
        assert refusal(raw, now=clock.now(), guard=guard) == "replayed"
    newer = sign_command(command(at=clock.now()), STAFF)
    assert verify(newer, now=clock.now(), guard=guard)


def test_the_guard_survives_a_restart() -> None:
    guard = ReplayGuard(capacity=2)
    raws = [sign_command(command(at=START + dt.timedelta(seconds=i)), STAFF) for i in range(3)]
    for i, raw in enumerate(raws):
        verify(raw, now=START + dt.timedelta(seconds=i), guard=guard)
    restored = ReplayGuard.from_dict(json.loads(json.dumps(guard.to_dict())), capacity=2)
    for raw in raws:
        assert refusal(raw, now=START + dt.timedelta(seconds=3), guard=restored) == "replayed"


@pytest.mark.parametrize(
    "data", [None, [], {"seen": 1}, {"seen": [["a"]]}, {"seen": [[1, 2]]}, {"seen": [5]}, {"seen": [], "floor": "x"}]
)
def test_a_corrupt_persisted_guard_is_refused(data: object) -> None:
    with pytest.raises(ValueError):
        ReplayGuard.from_dict(data)


@settings(max_examples=100, deadline=None)
@given(st.sampled_from(["site", "door", "action", "issued_at", "valid_for_s", "nonce"]), st.data())
def test_changing_any_signed_field_is_refused(field: str, data: st.DataObject) -> None:
    message = json.loads(sign_command(command(), STAFF))
    replacement = {
        "site": data.draw(st.sampled_from(["paris", "lyon2"])),
        "door": data.draw(st.sampled_from(["back", "front2"])),
        "action": data.draw(st.sampled_from([a.value for a in Action if a != Action.UNLOCK_ONCE])),
        "issued_at": "2026-11-26T09:00:01.000Z",
        "valid_for_s": data.draw(st.integers(31, MAX_VALID_FOR_S)),
        "nonce": "f" * 32,
    }[field]
    message["payload"][field] = replacement
    assert refusal(json.dumps(message).encode()) == "forged"
