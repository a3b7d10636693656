"""`edge members check`: who a door would admit at a given local time, and why — a dry run of the real rules.

The member file is turned into a snapshot index exactly as `edge members push` does (with a throwaway badge
key: only the answers matter here) and every member's first badge goes through `edge.access.rules.decide`
with the door's situation taken from its node config: its configured mode, or `unlocked` while its unlocked
schedule runs. Nothing is recorded, so seat limits and anti-passback start from an empty day.
"""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Iterable
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from edge.access.index import SnapshotIndex
from edge.access.rules import AccessRequest, DoorContext, decide
from edge.config import NodeConfig
from edge.config.doors import DoorConfig
from edge.contract.payloads import DoorMode, Reason
from edge.errors import ConfigError
from edge.staff.badges import card_token, normalise_badge
from edge.staff.members import Admit, Closure, Member, MemberFile, Plan, mask_uid
from edge.staff.snapshot import build_snapshot

NO_BADGE = "no_badge"
"""Reason shown for a member without any badge: they cannot present one at a door."""


@dataclass(frozen=True)
class DoorSituation:
    """The door as the rules see it: its mode, where that mode comes from, and whether its clock is trusted."""

    door: str
    mode: DoorMode
    mode_source: str
    clock_trusted: bool = True


@dataclass(frozen=True)
class CheckRow:
    """One member's answer: admitted or not, the rules' reason code, and a plain explanation."""

    member: str | None
    name: str
    plan: str | None
    admitted: bool
    reason: str
    why: str
    badge: str | None = None


@dataclass(frozen=True)
class CheckResult:
    """A dry run at one instant: when (UTC and local), the door's situation, one row per member, notes."""

    at: dt.datetime
    local: dt.datetime
    timezone: str
    situation: DoorSituation
    rows: tuple[CheckRow, ...]
    notes: tuple[str, ...] = field(default=())


def parse_at(text: str | None, tz: ZoneInfo, now: dt.datetime) -> tuple[dt.datetime, tuple[str, ...]]:
    """Read `--at`: local wall-clock time in the site's zone unless it has an offset; notes explain DST cases."""
    if text is None:
        return now, ()
    try:
        value = dt.datetime.fromisoformat(text.strip())
    except ValueError:
        raise ConfigError([f"--at: {text!r} is not a time such as 2026-11-26T19:30 (local) or with +01:00"]) from None
    if value.tzinfo is not None:
        return value.astimezone(dt.UTC), ()
    first = value.replace(tzinfo=tz, fold=0)
    second = value.replace(tzinfo=tz, fold=1)
    notes: list[str] = []
    if first.utcoffset() != second.utcoffset():
        # Two offsets for one wall-clock time: either it happens twice (fall back) or never (spring forward).
        round_trip = first.astimezone(dt.UTC).astimezone(tz).replace(tzinfo=None)
        if round_trip == value:
            notes.append(
                f"{value:%H:%M} happens twice that night (clocks go back); checked its first occurrence "
                f"({first:%z}); give an offset for the second ({second:%z})"
            )
        else:
            notes.append(f"{value:%H:%M} does not exist that night (clocks go forward); checked {round_trip:%H:%M}")
    return first.astimezone(dt.UTC), tuple(notes)


def find_door(node: NodeConfig, door: str) -> DoorConfig:
    """The door's config on its node; ConfigError listing the node's doors when it is not there."""
    for candidate in node.doors:
        if candidate.name == door:
            return candidate
    known = ", ".join(d.name for d in node.doors) or "none"
    raise ConfigError([f"--door: no door {door!r} on node {node.node} (doors: {known})"])


def door_situation(
    node: NodeConfig,
    door: str,
    at: dt.datetime,
    *,
    mode: DoorMode | None = None,
    clock_trusted: bool = True,
    closures: Iterable[Closure] = (),
) -> DoorSituation:
    """The mode the door would be in at `at`: an explicit `mode`, else its config, its unlocked schedule included
    (suspended on the member file's closed days, as the door does)."""
    config = find_door(node, door)
    if mode is not None:
        return DoorSituation(door, mode, "as asked", clock_trusted)
    configured = DoorMode(config.mode)
    closed = frozenset(day.toordinal() for closure in closures for day in closure.days())
    # The door never applies its unlocked schedule on an untrusted clock: a wrong clock would unlock it.
    if configured is DoorMode.NORMAL and clock_trusted and config.unlocked_schedule.active_at(at, node.tz, closed):
        return DoorSituation(door, DoorMode.UNLOCKED, "unlocked schedule", clock_trusted)
    return DoorSituation(door, configured, "door config", clock_trusted)


def check_members(
    members: MemberFile, situation: DoorSituation, at: dt.datetime, *, badge: str | None = None
) -> CheckResult:
    """Decide for every member (on their first badge), or for one badge when `badge` is given."""
    key = secrets.token_bytes(32)
    index = SnapshotIndex.from_payload(build_snapshot(members, version=0, badge_key=key, created_at=at))
    context = DoorContext(mode=situation.mode, clock_trusted=situation.clock_trusted)
    by_id = {m.id: m for m in members.members}
    explain = _Explainer(members, situation, at.astimezone(members.tz))
    rows: list[CheckRow] = []
    if badge is not None:
        try:
            uid = normalise_badge(badge)
        except ValueError as exc:
            raise ConfigError([f"--badge: {exc}"]) from None
        decision = decide(AccessRequest(card_token(uid, key), at), index, context)
        member = by_id[decision.member.id] if decision.member is not None else None
        rows.append(explain.row(member, decision.granted, decision.reason, badge=mask_uid(uid)))
    else:
        for member in members.members:
            if not member.badges:
                rows.append(explain.row(member, False, NO_BADGE))
                continue
            decision = decide(AccessRequest(card_token(member.badges[0], key), at), index, context)
            rows.append(explain.row(member, decision.granted, decision.reason))
    notes: list[str] = []
    if any(m.account in members.accounts and members.accounts[m.account].seats for m in members.members):
        notes.append("seat limits are checked as if nobody had entered yet that day")
    return CheckResult(at, at.astimezone(members.tz), members.timezone, situation, tuple(rows), tuple(notes))


class _Explainer:
    """Plain-language reasons, from the member file (the snapshot index has no names or closure labels)."""

    def __init__(self, members: MemberFile, situation: DoorSituation, local: dt.datetime) -> None:
        self.members = members
        self.situation = situation
        self.local = local

    def row(self, member: Member | None, admitted: bool, reason: str, *, badge: str | None = None) -> CheckRow:
        return CheckRow(
            member=member.id if member else None,
            name=member.name if member else "",
            plan=member.plan if member else None,
            admitted=admitted,
            reason=str(reason),
            why=self.why(member, reason),
            badge=badge,
        )

    def why(self, member: Member | None, reason: str) -> str:
        policy = self.members.policy
        if member is None:
            unknown = "this badge is in nobody's badges"
            return f"door unlocked ({self.situation.mode_source}); {unknown}" if reason == Reason.GRANTED else unknown
        plan = self.members.plans[member.plan]
        texts = {
            NO_BADGE: "the member has no badge",
            Reason.SUSPENDED: "suspended",
            Reason.NOT_YET_VALID: f"valid from {member.valid_from}",
            Reason.EXPIRED: f"valid until {member.valid_until}",
            Reason.LOCKDOWN: f"door in lockdown; it admits {_admitted(policy.lockdown)}",
            Reason.CLOCK_UNTRUSTED: f"door clock not synchronised; it admits {_admitted(policy.untrusted_clock)}",
            Reason.OUTSIDE_SCHEDULE: self._closed(member) or f"{member.plan}: {schedule_text(plan)}",
            Reason.SEAT_LIMIT: f"account {member.account}: seats taken",
            Reason.PASSBACK: "already inside",
        }
        if reason in texts:
            return texts[reason]
        if self.situation.mode is DoorMode.UNLOCKED:
            return f"door unlocked ({self.situation.mode_source})"
        if not self.situation.clock_trusted:
            return f"door clock not synchronised; it admits {_admitted(policy.untrusted_clock)}"
        until = f", valid until {member.valid_until}" if member.valid_until else ""
        lockdown = (
            f"door in lockdown, it admits {_admitted(policy.lockdown)}; "
            if self.situation.mode is DoorMode.LOCKDOWN
            else ""
        )
        return f"{lockdown}{member.plan}: {schedule_text(plan)}{until}"

    def _closed(self, member: Member) -> str | None:
        today = self.local.date()
        for closure in self.members.closures:
            if closure.date <= today <= (closure.until or closure.date) and member.plan not in closure.open_to:
                label = closure.name or closure.date.isoformat()
                open_to = ", ".join(closure.open_to) or "no plan"
                return f"closed: {label} (open to {open_to})"
        return None


def schedule_text(plan: Plan) -> str:
    """A plan's schedule in one line: `24/7`, `never`, or `mon-fri 08:00-19:00; sat 10:00-14:00`."""
    return "24/7" if plan.is_always else str(plan.schedule)


def _admitted(rule: Admit) -> str:
    parts = (["staff"] if rule.staff else []) + [f"plan {p}" for p in rule.plans]
    return ", ".join(parts) if parts else "nobody"
