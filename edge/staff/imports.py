"""The plan of a member import (who is added, changed, removed) and the guard that refuses mass removals.

Pure: no I/O. `edge members import` and the staff console's import preview both diff the member file
before and after the import with `plan_import`, show the plan, and save the new file only when
`judge_removals` allows it. An import replaces every member of its source, so a header-only or filtered
export would silently remove members: the guard refuses an import that removes all of a platform's members,
or more than a share of them, unless the number removed is confirmed explicitly.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from edge.i18n import Formatter
from edge.staff.members import Member, MemberFile

DEFAULT_MAX_REMOVED_SHARE = 0.2
"""Largest share of a platform's members an import removes without confirmation.

Members leave a coworking space at a few percent a month; an import run weekly or monthly removes far fewer
than one in five. Exports that would remove more are the ones to stop: filtered (one location, one plan,
active members only), cut short (one page of a paginated export) or from the wrong account.
"""


@dataclass(frozen=True)
class MemberRef:
    """A member named for staff: id and name (never a badge)."""

    id: str
    name: str


@dataclass(frozen=True)
class MemberChange:
    """A member the import changes, and the fields that change (by name, values not shown)."""

    id: str
    name: str
    fields: tuple[str, ...]


@dataclass(frozen=True)
class ImportPlan:
    """What an import from one source does to the member file, member by member."""

    source: str
    added: tuple[MemberRef, ...]
    changed: tuple[MemberChange, ...]
    unchanged: int
    removed: tuple[MemberRef, ...]
    kept: int
    """Members of other sources (manual or other platforms), which an import never touches."""

    @property
    def before(self) -> int:
        """Members of the source before the import."""
        return len(self.changed) + self.unchanged + len(self.removed)

    @property
    def after(self) -> int:
        """Members of the source after the import."""
        return len(self.added) + len(self.changed) + self.unchanged


_COMPARED = tuple(name for name in Member.model_fields if name not in ("id", "source"))


def plan_import(base: MemberFile, result: MemberFile, source: str) -> ImportPlan:
    """Compare the members of `source` in `base` (before) and `result` (after), by member id."""
    before = {m.id: m for m in base.members if m.source == source}
    after = {m.id: m for m in result.members if m.source == source}
    added = tuple(MemberRef(m.id, m.name) for member_id, m in after.items() if member_id not in before)
    removed = tuple(MemberRef(m.id, m.name) for member_id, m in before.items() if member_id not in after)
    changed: list[MemberChange] = []
    unchanged = 0
    for member_id, new in after.items():
        old = before.get(member_id)
        if old is None:
            continue
        fields = tuple(name for name in _COMPARED if getattr(old, name) != getattr(new, name))
        if fields:
            changed.append(MemberChange(new.id, new.name, fields))
        else:
            unchanged += 1
    kept = sum(1 for m in result.members if m.source != source)
    return ImportPlan(source, added, tuple(changed), unchanged, removed, kept)


class Refusal(enum.StrEnum):
    """Why the guard refuses an import."""

    ALL = "removes_all"
    SHARE = "removes_too_many"
    MISMATCH = "confirmation_mismatch"


@dataclass(frozen=True)
class RemovalVerdict:
    """The guard's answer: may the import be saved; if not, why, and what number confirms it."""

    allowed: bool
    needs_confirmation: bool
    removed: int
    before: int
    max_share: float
    confirmed: int | None = None
    refusal: Refusal | None = None

    def reasons(self, plan: ImportPlan, fmt: Formatter) -> list[str]:
        """The refusal in words for staff (empty when allowed); the caller adds how to confirm."""
        if self.refusal is None:
            return []
        if self.refusal is Refusal.MISMATCH:
            assert self.confirmed is not None
            lines = [
                fmt.ngettext(
                    "the removal of %(n)s member was confirmed, but this import removes %(count)s: check the list",
                    "the removal of %(n)s members was confirmed, but this import removes %(count)s: check the list",
                    self.confirmed,
                    count=fmt.number(self.removed),
                )
            ]
        elif self.refusal is Refusal.ALL:
            lines = [
                fmt.ngettext(
                    "this import removes the only member imported from %(source)s, leaving none",
                    "this import removes all %(n)s members imported from %(source)s, leaving none",
                    self.removed,
                    source=plan.source,
                )
            ]
        else:
            lines = [
                fmt.gettext(
                    "this import removes %(count)s of the %(before)s members imported from %(source)s (%(share)s), "
                    "more than the %(limit)s an import may remove without confirmation",
                    count=fmt.number(self.removed),
                    before=fmt.number(self.before),
                    source=plan.source,
                    share=percent(fmt, self.removed / self.before),
                    limit=percent(fmt, self.max_share),
                )
            ]
        if plan.after == 0 and self.removed:
            lines.append(
                fmt.gettext("the export has no member to import: was it filtered, or exported from the wrong view?")
            )
        return lines


def judge_removals(
    plan: ImportPlan, *, max_share: float = DEFAULT_MAX_REMOVED_SHARE, confirmed: int | None = None
) -> RemovalVerdict:
    """Allow the plan, or refuse it when it removes all or more than `max_share` of its source's members.

    Such a plan is allowed only when `confirmed` is exactly the number of members it removes, so a
    confirmation given for one preview never covers a different import. A confirmation that does not match
    is refused even when none was needed: the person confirming expected another result.
    """
    if not 0.0 <= max_share <= 1.0:
        raise ValueError(f"max_share must be between 0 and 1, not {max_share}")
    removed, before = len(plan.removed), plan.before
    removes_all = removed > 0 and removed == before
    # The tolerance keeps a share given in percent exact: 7 of 10 is not more than 70 % (0.7 is 0.69999... as a float).
    over = removed > 0 and removed - max_share * before > 1e-9
    needs = removes_all or over
    refusal: Refusal | None = None
    if confirmed is not None and confirmed != removed:
        refusal = Refusal.MISMATCH
    elif needs and confirmed is None:
        refusal = Refusal.ALL if removes_all else Refusal.SHARE
    return RemovalVerdict(
        allowed=refusal is None,
        needs_confirmation=needs,
        removed=removed,
        before=before,
        max_share=max_share,
        confirmed=confirmed,
        refusal=refusal,
    )


def percent(fmt: Formatter, share: float) -> str:
    """A share as staff read it, to a tenth of a percent when that matters: `20 %`, `12,5 %` in French."""
    tenths = round(share * 1000)
    return fmt.percent(tenths / 1000, places=0 if tenths % 10 == 0 else 1)
