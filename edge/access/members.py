"""The member file staff maintain: plans with weekly schedules, closures, accounts with seats, members, policy.

`load_member_file` is the only way in; every problem is reported with its key path and line, like the node
config. Member files hold badge UIDs (or the tokens of cards enrolled at a reader, `edge.access.badges`) and
names: they stay on the staff machine; doors only ever receive a signed snapshot made of badge tokens (see
`edge.access.snapshot`).

A 10,000-member file is read in about half a second and written in a fraction of that: the YAML line index
that error messages need is built only when there is an error, the garbage collector is paused while the
many small objects of a parse or a dump are made (it would otherwise walk them again and again), and
`dump_member_file` reuses the text of members that did not change since the last dump it was given a cache for.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import gc
import re
from collections.abc import Callable, Iterable, Iterator, MutableMapping
from pathlib import Path
from typing import Annotated, Any
from zoneinfo import ZoneInfo

import yaml
from pydantic import AfterValidator, Field, ValidationError, field_validator, model_validator

from edge.access.badges import mask_badge, normalise_badge
from edge.config.base import Issue, Name, StrictModel, TimeZoneName
from edge.config.loader import format_issues, issue_from_error, line_index
from edge.config.schedule import ScheduleField
from edge.errors import ConfigError
from edge.files import write_atomic
from edge.schedule import Schedule

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
machine; or `token:` and its badge token when it was enrolled at a reader (`edge.access.badges`)."""

BadgeUid = Badge
"""The former name of `Badge` (a badge was always a UID before tokens could be held)."""

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


_INT = "tag:yaml.org,2002:int"


class _Loader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):  # type: ignore[misc]
    """Safe YAML whose integers are plain decimals (YAML 1.1 reads an unquoted 19:00 as 1140) and dates text."""


# Dates stay text too: pydantic reads them and names the key of an impossible date such as 2026-02-30.
_Loader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag not in (_INT, "tag:yaml.org,2002:timestamp")]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
# Only plain decimal integers: `0123` and `1_000` stay strings, so str() of any int gives back what was written.
_Loader.add_implicit_resolver(_INT, re.compile(r"^[-+]?(?:0|[1-9][0-9]*)$"), list("-+0123456789"))


def load_member_file(path: str | Path) -> MemberFile:
    """Read and validate a member file; raise ConfigError listing every issue as `path: message (file, line N)`."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError([f"{path}: cannot read: {getattr(exc, 'strerror', None) or exc}"]) from None
    return parse_member_file(text, source=str(path))


@contextlib.contextmanager
def _collector_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector while a parse or a dump makes its many small, acyclic objects."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


def parse_member_file(text: str, *, source: str = "<members>") -> MemberFile:
    """Validate YAML text into a MemberFile."""
    loader = _Loader(text)
    with _collector_paused():
        try:
            node = loader.get_single_node()
            data = loader.construct_document(node) if node is not None else None
        except (yaml.YAMLError, ValueError) as exc:
            mark = getattr(exc, "problem_mark", None)
            where = f" (line {mark.line + 1})" if mark is not None else ""
            raise ConfigError([f"{source}{where}: not valid YAML: {getattr(exc, 'problem', exc)}"]) from None
        finally:
            loader.dispose()
        if not isinstance(data, dict):
            raise ConfigError([f"{source}: the file must be a YAML mapping (site:, plans:, members:, ...)"])
        # The line of each key is only needed to point at a problem: worked out only when there is one.
        return validate_member_data(data, source=source, lines=lambda: line_index(node))


Lines = dict[str, int] | Callable[[], dict[str, int]] | None
"""The line of each key path, for messages: a mapping, a function that works it out when needed, or none."""


def _lines(lines: Lines) -> dict[str, int]:
    return (lines() if callable(lines) else lines) or {}


def validate_member_data(data: dict[str, Any], *, source: str, lines: Lines = None) -> MemberFile:
    """Validate already-parsed data (from YAML or an import) into a MemberFile; raise ConfigError otherwise."""
    try:
        members = MemberFile.model_validate(data)
    except ValidationError as exc:
        issues = [issue_from_error(err, data) for err in exc.errors()]
        raise ConfigError(format_issues(issues, _lines(lines), source)) from None
    issues = check_member_file(members)
    if issues:
        raise ConfigError(format_issues(issues, _lines(lines), source))
    return members


_DUMPER = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
_DUMP_OPTIONS: dict[str, Any] = {"Dumper": _DUMPER, "sort_keys": False, "allow_unicode": True, "width": 120}


def dump_member_file(members: MemberFile, cache: MutableMapping[Member, str] | None = None) -> str:
    """Render a member file as YAML that `parse_member_file` reads back to the same model.

    With `cache` (kept by the caller between saves), each member's text is taken from it when that member did
    not change; the cache is refilled with exactly this file's members.
    """
    with _collector_paused():
        head = members.model_dump(mode="json", by_alias=True, exclude_defaults=True, exclude={"members"})
        data = {"site": head.pop("site"), "timezone": members.timezone, **head}
        text: str = yaml.dump(data, **_DUMP_OPTIONS)
        if not members.members:
            return text
        # The members are a block sequence at the top level of the "members:" key: each item dumps on its own to
        # the very text the whole document would have.
        known = dict(cache) if cache is not None else {}
        missing = [m for m in members.members if m not in known]
        known.update(zip(missing, _member_texts(missing), strict=True))
        if cache is not None:
            cache.clear()
            cache.update((m, known[m]) for m in members.members)
        parts = [text, "members:\n", *(known[m] for m in members.members)]
        return "".join(parts)


_ITEM = re.compile(r"^(?=- )", re.MULTILINE)


def _member_texts(members: list[Member]) -> list[str]:
    """Each member's YAML text as an item of the file's `members:` sequence, from one dump of them all."""
    if not members:
        return []
    dumped = [m.model_dump(mode="json", by_alias=True, exclude_defaults=True) for m in members]
    text: str = yaml.dump(dumped, **_DUMP_OPTIONS)
    # Block style: each item starts with "- " at the start of a line, and nothing else does (nested lines are
    # indented); a count that does not match would be a surprise of the emitter, so dump those one by one.
    items = [item for item in _ITEM.split(text) if item]
    if len(items) == len(members):
        return items
    return [yaml.dump([data], **_DUMP_OPTIONS) for data in dumped]


def save_member_file(path: str | Path, members: MemberFile) -> None:
    """Write a member file atomically (the old file stays whole until the new one is on disk), keeping its mode."""
    path = Path(path)
    mode = path.stat().st_mode & 0o777 if path.exists() else 0o600
    write_atomic(path, dump_member_file(members).encode("utf-8"), mode)
