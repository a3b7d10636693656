"""What the member file staff maintain holds: plans with weekly schedules, closures, accounts with seats, members,
policy; and the checks that span fields (known plans, unique ids and badges).

Pure: the file is read and written by `edge.staff.memberfile`; an import validates its result here too
(`validate_member_data`). Member files hold badge UIDs (or the tokens of cards enrolled at a reader,
`edge.staff.badges`) and names: they stay on the staff machine; doors only ever receive a signed snapshot made of
badge tokens (see `edge.staff.snapshot`).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from pydantic import AfterValidator, Field, ValidationError, field_validator, model_validator

from edge.config.base import Issue, Name, StrictModel, TimeZoneName
from edge.config.loader import Lines, format_issues, issue_from_error
from edge.config.schedule import ScheduleField
from edge.errors import ConfigError
from edge.schedule import Schedule
from edge.staff.badges import mask_badge, normalise_badge

_MEMBER_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:@+-]{0,63}$")
MANUAL_SOURCE = "manual"


def _check_member_id(value: str) -> str:
    if not _MEMBER_ID.match(value):
        raise ValueError("must be 1-64 characters: letters, digits and . _ : @ + - (not starting with a symbol)")
    return value


def _check_badge(value: str) -> str:
    return normalise_badge(value)


def _check_account(value: str) -> str:
    if not value or len(value) > 100 or not value.isprintable():
        raise ValueError("must be 1-100 printable characters")
    return value


def mask_uid(uid: str) -> str:
    """A badge cut to its first and last byte (`04…C4`, `token:3f…9a`) for messages; short UIDs fully masked."""
    return mask_badge(uid)


MemberId = Annotated[str, AfterValidator(_check_member_id)]
"""A member's identifier, as the coworking platform spells it; it appears in access events."""

Badge = Annotated[str, AfterValidator(_check_badge)]
"""A card: its UID in hexadecimal, stored normalised (upper case, no separators), which never leaves the staff
machine; or `token:` and its badge token when it was enrolled at a reader (`edge.staff.badges`)."""

AccountName = Annotated[str, AfterValidator(_check_account)]
"""A company or team account, as the coworking platform names it."""


class Plan(StrictModel):
    """A membership plan: when its members may enter (a weekly schedule; `always` means 24/7)."""

    description: str = ""
    schedule: ScheduleField

    @field_validator("schedule")
    @classmethod
    def _no_closed_days(cls, value: Schedule) -> Schedule:
        if value.closed:
            raise ValueError(
                "a plan's schedule has no closed days: list them under closures: (open_to names the plans that stay"
                " open)"
            )
        return value

    @property
    def is_always(self) -> bool:
        """True when the plan is open around the clock, every day."""
        return self.schedule.is_always


class Closure(StrictModel):
    """A closed day (or range of days, `until` inclusive); only the plans in `open_to` keep their schedule."""

    name: str = ""
    date: dt.date
    until: dt.date | None = None
    open_to: tuple[Name, ...] = ()

    @model_validator(mode="after")
    def _range(self) -> Closure:
        if self.until is not None:
            if self.until < self.date:
                raise ValueError("until is before date")
            if (self.until - self.date).days > 366:
                raise ValueError("a closure spans at most a year")
        return self

    def days(self) -> Iterable[dt.date]:
        """Every closed date, in order."""
        last = self.until or self.date
        for offset in range((last - self.date).days + 1):
            yield self.date + dt.timedelta(days=offset)


class Account(StrictModel):
    """A company or team account; `seats` caps how many distinct members enter per local day."""

    seats: int | None = Field(default=None, ge=1, le=100_000)


class Admit(StrictModel):
    """Who is still admitted in a degraded situation: staff badges and/or members of the listed plans."""

    staff: bool = True
    plans: tuple[Name, ...] = ()


class Policy(StrictModel):
    """Site-wide rules for degraded situations; they travel with the snapshot to every door."""

    lockdown: Admit = Admit()
    untrusted_clock: Admit = Admit()


class Member(StrictModel):
    """A member: plan, badges and validity; `valid_from`/`valid_until` are inclusive local dates."""

    id: MemberId
    name: str = Field(default="", max_length=200)
    # Staff side only (search, contact), never in a snapshot.
    email: str | None = Field(default=None, max_length=254, pattern=r"^[^@\s]+@[^@\s]+$")
    plan: Name
    badges: tuple[Badge, ...] = ()
    valid_from: dt.date | None = None
    valid_until: dt.date | None = None
    suspended: bool = False
    account: AccountName | None = None
    staff: bool = False
    source: Name = MANUAL_SOURCE

    @field_validator("id", mode="before")
    @classmethod
    def _numeric_id(cls, value: Any) -> Any:
        return str(value) if isinstance(value, int) and not isinstance(value, bool) else value

    @field_validator("badges", mode="before")
    @classmethod
    def _one_or_many(cls, value: Any) -> Any:
        if isinstance(value, (str, int)) and not isinstance(value, bool):
            value = (value,)
        if isinstance(value, (list, tuple)):
            return tuple(str(v) if isinstance(v, int) and not isinstance(v, bool) else v for v in value)
        return value

    @model_validator(mode="after")
    def _dates(self) -> Member:
        if self.valid_from and self.valid_until and self.valid_until < self.valid_from:
            raise ValueError("valid_until is before valid_from")
        return self


class MemberFile(StrictModel):
    """The whole member file of one site."""

    site: Name
    timezone: TimeZoneName = "Europe/Paris"
    plans: dict[Name, Plan]
    closures: tuple[Closure, ...] = ()
    accounts: dict[AccountName, Account] = Field(default_factory=dict)
    policy: Policy = Policy()
    members: tuple[Member, ...] = ()

    @property
    def tz(self) -> ZoneInfo:
        """The site's time zone, in which schedules, validity dates and closures are read."""
        return ZoneInfo(self.timezone)


def check_member_file(members: MemberFile) -> list[Issue]:
    """Cross-field rules: known plans, unique member ids and badges."""
    issues: list[Issue] = []
    known = ", ".join(sorted(members.plans)) or "none defined"

    def plan_issue(path: str, plan: str) -> None:
        if plan not in members.plans:
            issues.append(Issue(path, f"unknown plan {plan!r} (plans: {known})"))

    for index, closure in enumerate(members.closures):
        for position, plan in enumerate(closure.open_to):
            plan_issue(f"closures[{index}].open_to[{position}]", plan)
    for section in ("lockdown", "untrusted_clock"):
        for position, plan in enumerate(getattr(members.policy, section).plans):
            plan_issue(f"policy.{section}.plans[{position}]", plan)
    ids: dict[str, int] = {}
    badges: dict[str, tuple[int, int]] = {}
    for index, member in enumerate(members.members):
        plan_issue(f"members[{index}].plan", member.plan)
        if member.id in ids:
            issues.append(
                Issue(f"members[{index}].id", f"duplicate member id, already used by members[{ids[member.id]}]")
            )
        else:
            ids[member.id] = index
        for position, uid in enumerate(member.badges):
            owner = badges.get(uid)
            if owner is not None:
                where = f"members[{owner[0]}].badges[{owner[1]}]"
                issues.append(Issue(f"members[{index}].badges[{position}]", f"badge already given at {where}"))
            else:
                badges[uid] = (index, position)
    return issues


def validate_member_data(data: dict[str, Any], *, source: str, lines: Lines | None = None) -> MemberFile:
    """Validate already-parsed data (from YAML or an import) into a MemberFile; raise ConfigError otherwise.

    `lines` places each issue on its line: the key paths' lines, or how to work them out when there is an issue.
    """
    try:
        members = MemberFile.model_validate(data)
    except ValidationError as exc:
        issues = [issue_from_error(err, data) for err in exc.errors()]
        raise ConfigError(format_issues(issues, lines or {}, source)) from None
    issues = check_member_file(members)
    if issues:
        raise ConfigError(format_issues(issues, lines or {}, source))
    return members
