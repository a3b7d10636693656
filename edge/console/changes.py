"""What a change of the member file does, shown before it is saved: who is added, changed, removed, and where.

Pure (no Django): `diff_members` compares two member files member by member, by id; `Preview` adds the doors
the change reaches. Every door receives the whole member snapshot when staff publish, so a change reaches every
door of the site; the doors are the ones that reported their state to the console's broker link.
"""

from __future__ import annotations

from dataclasses import dataclass

from edge.staff.members import Member, MemberFile

COMPARED = tuple(name for name in Member.model_fields if name not in ("id",))


@dataclass(frozen=True)
class MemberChange:
    """One member a change touches: who, and which fields change (values not shown: badges are secret)."""

    id: str
    name: str
    fields: tuple[str, ...] = ()


@dataclass(frozen=True)
class Diff:
    """Members added, changed and removed between two member files; whether plans, accounts or policy changed."""

    added: tuple[MemberChange, ...]
    changed: tuple[MemberChange, ...]
    removed: tuple[MemberChange, ...]
    site_rules: tuple[str, ...] = ()

    @property
    def empty(self) -> bool:
        """True when nothing changes."""
        return not (self.added or self.changed or self.removed or self.site_rules)


def diff_members(before: MemberFile, after: MemberFile) -> Diff:
    """Compare two member files by member id (order does not matter)."""
    old = {m.id: m for m in before.members}
    new = {m.id: m for m in after.members}
    added = tuple(MemberChange(m.id, m.name) for i, m in new.items() if i not in old)
    removed = tuple(MemberChange(m.id, m.name) for i, m in old.items() if i not in new)
    changed = []
    for member_id, member in new.items():
        previous = old.get(member_id)
        if previous is not None and previous != member:
            fields = tuple(f for f in COMPARED if getattr(previous, f) != getattr(member, f))
            changed.append(MemberChange(member.id, member.name, fields))
    rules = tuple(
        section
        for section in ("plans", "closures", "accounts", "policy")
        if getattr(before, section) != getattr(after, section)
    )
    return Diff(added, tuple(changed), removed, rules)


@dataclass(frozen=True)
class Preview:
    """A change before it is saved: the diff, and the doors it will reach on the next publish."""

    diff: Diff
    doors: tuple[str, ...]
