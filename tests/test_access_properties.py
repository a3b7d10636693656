"""Properties of the rules that hold for any site, member and instant (hypothesis)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from edge.access.index import SnapshotIndex
from edge.access.rules import AccessRequest, Direction, DoorContext, decide, record
from edge.access.tracking import PassbackState
from edge.contract.payloads import DoorMode, Reason
from edge.schedule import DAY_NAMES
from edge.staff.members import MemberFile
from tests.access_support import index_of, token

PLANS = ["p1", "p2", "p3"]
ACCOUNTS = {"acme": 2, "beta": 1}


def clock_time(minutes: int) -> str:
    """HH:MM from minutes since midnight."""
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


windows = st.builds(
    lambda days, start, length: {
        "days": sorted(days, key=DAY_NAMES.index),
        "from": clock_time(start),
        "to": clock_time((start + length) % 1440),
    },
    st.sets(st.sampled_from(DAY_NAMES), min_size=1),
    st.integers(0, 1439),
    st.integers(1, 1439),
)
dates = st.dates(dt.date(2026, 1, 1), dt.date(2027, 12, 31))


@st.composite
def sites(draw: st.DrawFn) -> MemberFile:
    """A random but valid member file."""
    plans = {name: {"schedule": draw(st.lists(windows, max_size=3)) or "always"} for name in PLANS}
    members: list[dict[str, Any]] = []
    for number in range(draw(st.integers(1, 8))):
        member: dict[str, Any] = {"id": f"m{number}", "plan": draw(st.sampled_from(PLANS)), "badges": [f"{number:04X}"]}
        start, end = draw(st.none() | dates), draw(st.none() | dates)
        if start and end and end < start:
            start, end = end, start
        member.update(valid_from=start, valid_until=end, suspended=draw(st.booleans()), staff=draw(st.booleans()))
        member["account"] = draw(st.none() | st.sampled_from(sorted(ACCOUNTS)))
        members.append(member)
    closures = [
        {"date": day, "open_to": draw(st.lists(st.sampled_from(PLANS), unique=True))}
        for day in draw(st.lists(dates, max_size=3, unique=True))
    ]
    admit = st.fixed_dictionaries({"staff": st.booleans(), "plans": st.lists(st.sampled_from(PLANS), unique=True)})
    return MemberFile.model_validate(
        {
            "site": "lyon",
            "plans": plans,
            "closures": closures,
            "accounts": {name: {"seats": seats} for name, seats in ACCOUNTS.items()},
            "policy": {"lockdown": draw(admit), "untrusted_clock": draw(admit)},
            "members": members,
        }
    )


instants = st.datetimes(dt.datetime(2025, 12, 1), dt.datetime(2028, 1, 31), timezones=st.just(dt.UTC))
modes = st.sampled_from(list(DoorMode))
directions = st.sampled_from(list(Direction))
SETTINGS = settings(max_examples=100, deadline=None)


def member_badge(members: MemberFile, data: st.DataObject) -> tuple[Any, str]:
    """A member of the file and the token of their badge."""
    member = data.draw(st.sampled_from(members.members))
    return member, token(member.badges[0])


def context_for(data: st.DataObject, index: SnapshotIndex, members: MemberFile) -> DoorContext:
    """A door context with some earlier grants recorded."""
    context = DoorContext(
        mode=data.draw(modes),
        clock_trusted=data.draw(st.booleans()),
        passback=data.draw(st.none() | st.just(PassbackState())),
    )
    for _ in range(data.draw(st.integers(0, 4))):
        _, badge = member_badge(members, data)
        request = AccessRequest(badge, data.draw(instants), data.draw(directions))
        record(request, decide(request, index, context), index, context)
    return context


@SETTINGS
@given(sites(), st.data())
def test_a_suspended_member_never_enters_a_door_that_is_not_unlocked(members: MemberFile, data: st.DataObject) -> None:
    index = index_of(members)
    context = context_for(data, index, members)
    member, badge = member_badge(members, data)
    decision = decide(AccessRequest(badge, data.draw(instants)), index, context)
    if member.suspended and context.mode != DoorMode.UNLOCKED:
        assert not decision.granted


@SETTINGS
@given(sites(), st.data(), st.text(alphabet="0123456789abcdef", min_size=32, max_size=32))
def test_an_unknown_badge_only_passes_an_unlocked_door(members: MemberFile, data: st.DataObject, stranger: str) -> None:
    index = index_of(members)
    context = context_for(data, index, members)
    if stranger in index.by_token:
        return
    decision = decide(AccessRequest(stranger, data.draw(instants), data.draw(directions)), index, context)
    assert decision.granted == (context.mode == DoorMode.UNLOCKED)
    assert decision.member is None


@SETTINGS
@given(sites(), st.data())
def test_granted_is_exactly_the_granted_reason(members: MemberFile, data: st.DataObject) -> None:
    index = index_of(members)
    context = context_for(data, index, members)
    _, badge = member_badge(members, data)
    decision = decide(AccessRequest(badge, data.draw(instants), data.draw(directions)), index, context)
    assert decision.granted == (decision.reason == Reason.GRANTED)


@SETTINGS
@given(sites(), st.data())
def test_with_a_trusted_clock_nobody_enters_outside_their_dates(members: MemberFile, data: st.DataObject) -> None:
    index = index_of(members)
    context = context_for(data, index, members)
    member, badge = member_badge(members, data)
    at = data.draw(instants)
    decision = decide(AccessRequest(badge, at), index, context)
    local_day = at.astimezone(members.tz).date()
    outside = (member.valid_from and local_day < member.valid_from) or (
        member.valid_until and local_day > member.valid_until
    )
    if outside and context.clock_trusted and context.mode != DoorMode.UNLOCKED:
        assert not decision.granted


@SETTINGS
@given(sites(), st.data())
def test_degraded_modes_admit_only_whom_the_policy_names(members: MemberFile, data: st.DataObject) -> None:
    index = index_of(members)
    context = context_for(data, index, members)
    member, badge = member_badge(members, data)
    decision = decide(AccessRequest(badge, data.draw(instants)), index, context)
    if not decision.granted:
        return
    if context.mode == DoorMode.LOCKDOWN:
        rule = members.policy.lockdown
        assert (rule.staff and member.staff) or member.plan in rule.plans
    if not context.clock_trusted and context.mode != DoorMode.UNLOCKED:
        rule = members.policy.untrusted_clock
        assert (rule.staff and member.staff) or member.plan in rule.plans


@SETTINGS
@given(sites(), st.data())
def test_no_account_ever_uses_more_seats_than_it_has_in_a_local_day(members: MemberFile, data: st.DataObject) -> None:
    index = index_of(members)
    context = DoorContext()
    admitted: dict[tuple[str, dt.date], set[str]] = {}
    start = data.draw(instants)
    # Badges come in time order (a door's clock does not jump back days; seat counts keep today and yesterday).
    offsets = sorted(data.draw(st.lists(st.integers(0, 3 * 1440), min_size=1, max_size=25)))
    for minutes in offsets:
        member, badge = member_badge(members, data)
        at = start + dt.timedelta(minutes=minutes)
        request = AccessRequest(badge, at)
        decision = decide(request, index, context)
        record(request, decision, index, context)
        if decision.granted and member.account:
            admitted.setdefault((member.account, at.astimezone(members.tz).date()), set()).add(member.id)
    for (account, _day), used in admitted.items():
        assert len(used) <= ACCOUNTS[account]


@SETTINGS
@given(instants)
def test_a_valid_24_7_member_on_a_normal_door_always_enters(at: dt.datetime) -> None:
    index = index_of("site: lyon\nplans: {r: {schedule: always}}\nmembers: [{id: m, plan: r, badges: ['01']}]\n")
    assert decide(AccessRequest(token("01"), at), index, DoorContext()).granted


@SETTINGS
@given(sites(), st.data())
def test_decide_is_pure(members: MemberFile, data: st.DataObject) -> None:
    index = index_of(members)
    context = context_for(data, index, members)
    _, badge = member_badge(members, data)
    request = AccessRequest(badge, data.draw(instants), data.draw(directions))
    passback_before = len(context.passback) if context.passback is not None else None
    seats_before = dict(context.seats._days)
    first = decide(request, index, context)
    assert decide(request, index, context) == first
    assert (len(context.passback) if context.passback is not None else None) == passback_before
    assert context.seats._days == seats_before


@SETTINGS
@given(sites(), st.data())
def test_the_way_out_opens_for_every_known_badge(members: MemberFile, data: st.DataObject) -> None:
    index = index_of(members)
    context = context_for(data, index, members)
    _, badge = member_badge(members, data)
    assert decide(AccessRequest(badge, data.draw(instants), Direction.OUT), index, context).granted
