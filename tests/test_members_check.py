"""The dry run: who a door admits at a local time and why, the door's mode from its config, DST in `--at`."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from edge.config import parse_config
from edge.contract.payloads import DoorMode
from edge.errors import ConfigError
from edge.staff.check import CheckRow, check_members, door_situation, parse_at, schedule_text
from edge.staff.memberfile import parse_member_file
from tests.access_support import PARIS, SITE_YAML, paris

MEMBERS = parse_member_file(SITE_YAML + "  - {id: nobadge, plan: resident}\n")
NODE = parse_config(
    """\
site: lyon
node: door-1
badge_key_file: badge.key
access: {snapshot_keys: [snapshot-signing.pub]}
doors:
  - name: front
    relay: {pin: 5, lock_type: fail_safe}
    unlocked_schedule:
      - {days: [mon, tue, wed, thu, fri], start: "09:00", end: "12:00"}
  - name: vault
    relay: {pin: 6, lock_type: fail_secure}
    mode: lockdown
""",
    check_secrets=False,
)


def rows_at(local: str, door: str = "front", **situation: object) -> dict[str | None, CheckRow]:
    """Every member's row at Paris wall-clock time `local` at `door`."""
    at = paris(local)
    result = check_members(MEMBERS, door_situation(NODE, door, at, **situation), at)  # type: ignore[arg-type]
    return {row.member: row for row in result.rows}


# 2026-11-26 is a Thursday.
REASONS = [
    ("flex in hours", "2026-11-26 18:59", "flex", True, "granted", "flex: mon-fri 08:00-19:00"),
    ("flex at 19:30", "2026-11-26 19:30", "flex", False, "outside_schedule", "flex: mon-fri 08:00-19:00"),
    ("resident at night", "2026-11-26 03:00", "res", True, "granted", "resident: 24/7"),
    ("suspended", "2026-11-26 14:00", "susp", False, "suspended", "suspended"),
    ("not yet valid", "2026-11-26 14:00", "future", False, "not_yet_valid", "valid from 2026-12-01"),
    ("expired", "2026-11-26 14:00", "gone", False, "expired", "valid until 2026-10-31"),
    ("closure", "2026-12-25 14:00", "flex", False, "outside_schedule", "closed: Christmas (open to resident, staff)"),
    ("open on the closure", "2026-12-25 14:00", "res", True, "granted", "resident: 24/7"),
    ("night plan past midnight", "2026-11-28 01:30", "owl", True, "granted", "night: fri,sat 22:00-02:00"),
    ("no badge", "2026-11-26 14:00", "nobadge", False, "no_badge", "the member has no badge"),
]


@pytest.mark.parametrize(("case", "local", "member", "admitted", "reason", "why"), REASONS, ids=[r[0] for r in REASONS])
def test_each_member_gets_the_rules_reason_and_a_plain_why(
    case: str, local: str, member: str, admitted: bool, reason: str, why: str
) -> None:
    row = rows_at(local)[member]
    assert (row.admitted, row.reason, row.why) == (admitted, reason, why)


def test_the_unlocked_schedule_admits_everyone_with_a_badge() -> None:
    rows = rows_at("2026-11-26 10:00")
    assert rows["susp"].admitted and rows["susp"].why == "door unlocked (unlocked schedule)"
    assert not rows["nobadge"].admitted


def test_a_door_configured_in_lockdown_admits_staff_only() -> None:
    rows = rows_at("2026-11-26 10:00", door="vault")
    assert {m for m, r in rows.items() if r.admitted} == {"boss"}
    assert rows["res"].why == "door in lockdown; it admits staff"
    assert rows["boss"].why == "door in lockdown, it admits staff; staff: 24/7"


def test_an_untrusted_clock_admits_the_policy_plans_and_ignores_the_unlocked_schedule() -> None:
    rows = rows_at("2026-11-26 10:00", clock_trusted=False)
    assert {m for m, r in rows.items() if r.admitted} == {"res", "boss", "two-cards", "future", "gone"}
    assert rows["flex"].reason == "clock_untrusted"


def test_an_asked_mode_overrides_the_config() -> None:
    situation = door_situation(NODE, "front", paris("2026-11-26 10:00"), mode=DoorMode.LOCKDOWN)
    assert (situation.mode, situation.mode_source) == (DoorMode.LOCKDOWN, "as asked")


def test_the_unlocked_schedule_is_suspended_on_a_closed_day() -> None:
    friday = paris("2026-12-25 10:00")  # Christmas, a closure in the member file
    assert door_situation(NODE, "front", paris("2026-12-18 10:00"), closures=MEMBERS.closures).mode == "unlocked"
    assert door_situation(NODE, "front", friday).mode == DoorMode.UNLOCKED
    assert door_situation(NODE, "front", friday, closures=MEMBERS.closures).mode == DoorMode.NORMAL


def test_one_badge_is_checked_and_shown_masked() -> None:
    at = paris("2026-11-26 19:30")
    situation = door_situation(NODE, "front", at)
    (row,) = check_members(MEMBERS, situation, at, badge="c2").rows
    assert (row.member, row.reason, row.badge) == ("two-cards", "granted", "…")
    (unknown,) = check_members(MEMBERS, situation, at, badge="04:ff:ee:dd").rows
    assert (unknown.member, unknown.admitted, unknown.reason, unknown.badge) == (None, False, "unknown_badge", "04…DD")


def test_an_unknown_door_names_the_doors_of_the_node() -> None:
    with pytest.raises(ConfigError, match=r"--door: no door 'back' on node door-1 \(doors: front, vault\)"):
        door_situation(NODE, "back", paris("2026-11-26 10:00"))


@pytest.mark.parametrize(
    ("text", "utc", "note"),
    [
        ("2026-11-26T19:30", "2026-11-26T18:30:00+00:00", None),
        ("2026-11-26 19:30", "2026-11-26T18:30:00+00:00", None),
        ("2026-07-01T19:30", "2026-07-01T17:30:00+00:00", None),
        ("2026-11-26T19:30+00:00", "2026-11-26T19:30:00+00:00", None),
        ("2026-10-25T02:30", "2026-10-25T00:30:00+00:00", "02:30 happens twice that night"),
        ("2026-10-25T02:30+01:00", "2026-10-25T01:30:00+00:00", None),
        ("2026-03-29T02:30", "2026-03-29T01:30:00+00:00", "02:30 does not exist that night"),
    ],
)
def test_at_is_local_time_in_the_site_zone(text: str, utc: str, note: str | None) -> None:
    at, notes = parse_at(text, PARIS, dt.datetime(2026, 1, 1, tzinfo=dt.UTC))
    assert at.isoformat() == utc
    assert notes[0].startswith(note) if note else notes == ()


def test_at_defaults_to_now_and_refuses_nonsense() -> None:
    now = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    assert parse_at(None, PARIS, now) == (now, ())
    with pytest.raises(ConfigError, match="--at: 'tomorrow' is not a time"):
        parse_at("tomorrow", PARIS, now)


@pytest.mark.parametrize(
    ("plan", "text"), [("resident", "24/7"), ("flex", "mon-fri 08:00-19:00"), ("night", "fri,sat 22:00-02:00")]
)
def test_schedules_read_as_written(plan: str, text: str) -> None:
    assert schedule_text(MEMBERS.plans[plan]) == text


@given(st.text(max_size=40))
def test_any_at_text_is_a_time_or_a_config_error(text: str) -> None:
    try:
        at, notes = parse_at(text, PARIS, dt.datetime(2026, 1, 1, tzinfo=dt.UTC))
    except ConfigError as exc:
        assert exc.issues[0].startswith("--at: ")
    else:
        assert at.tzinfo is not None and all(isinstance(n, str) for n in notes)
