"""Staff edits of the member file: add, suspend, unsuspend, enrol or revoke a badge, remove or restore a member.

Each edit takes a validated `MemberFile` and returns a new validated one (the caller saves it atomically with
`save_member_file`) with a one-line summary. Summaries name members by id and badges by a masked UID
(`04…C4`): the terminal, shell history of outputs and support tickets never get a full card number.

Edits that give out a card take the site badge key when the caller has it (the console always does): a UID and
the badge token it hashes to are then recognised as the same card (`edge.staff.badges`). Without the key only
identical badges are caught here, and `edge members push` (which has the key) refuses the rest.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from edge.config.loader import format_issues, issue_from_error
from edge.errors import ConfigError
from edge.staff.badges import Holder, card_holders, card_token, normalise_badge, token_badge
from edge.staff.members import MANUAL_SOURCE, Member, MemberFile, check_member_file, mask_uid, validate_member_data

_OPTIONS = {"id": "--id", "plan": "--plan", "badges": "--badge", "name": "--name", "account": "--account"}


class CardHeld(ConfigError):
    """The card is already given to another member (named in the message and in `holder`); nothing changed."""

    def __init__(self, badge: str, holder: Holder) -> None:
        super().__init__([f"badge {mask_uid(badge)} already belongs to member {holder.member_id}"])
        self.holder = holder


@dataclass(frozen=True)
class Edit:
    """The result of an edit: the new member file, what happened, whether anything changed, and warnings."""

    members: MemberFile
    summary: str
    changed: bool = True
    warnings: tuple[str, ...] = ()


def add_member(
    members: MemberFile,
    *,
    member_id: str,
    plan: str,
    badges: tuple[str, ...] = (),
    name: str = "",
    valid_from: dt.date | None = None,
    valid_until: dt.date | None = None,
    account: str | None = None,
    staff: bool = False,
    email: str | None = None,
    badge_key: bytes | None = None,
) -> Edit:
    """Add a new member written by hand (source `manual`); refuse a known id, an unknown plan or a taken badge."""
    data: dict[str, Any] = {"id": member_id, "plan": plan, "badges": badges, "name": name, "staff": staff}
    if email is not None:
        data["email"] = email
    data.update({k: v for k, v in (("valid_from", valid_from), ("valid_until", valid_until)) if v is not None})
    if account is not None:
        data["account"] = account
    try:
        member = Member.model_validate(data)
    except ValidationError as exc:
        raise ConfigError([_option_issue(err, data) for err in exc.errors()]) from None
    problems: list[str] = []
    if _find(members, member.id) is not None:
        problems.append(f"--id: member {member.id} already exists")
    if member.plan not in members.plans:
        problems.append(f"--plan: unknown plan {member.plan!r} (plans: {', '.join(sorted(members.plans))})")
    problems.extend(_taken(members, member, badge_key))
    if problems:
        raise ConfigError(problems)
    result = _revalidate(members, [*members.members, member])
    badge_count = f"{len(member.badges)} badge" + ("" if len(member.badges) == 1 else "s")
    return Edit(result, f"added member {member.id} ({member.plan}, {badge_count})")


def set_suspended(members: MemberFile, member_id: str, suspended: bool) -> Edit:
    """Suspend a member (refused at every door, badges kept) or lift a suspension."""
    index, member = _require(members, member_id)
    word = "suspended" if suspended else "not suspended"
    if member.suspended == suspended:
        return Edit(members, f"member {member.id} is already {word}; nothing changed", changed=False)
    updated = member.model_copy(update={"suspended": suspended})
    result = _revalidate(members, [*members.members[:index], updated, *members.members[index + 1 :]])
    verb = "suspended" if suspended else "lifted the suspension of"
    return Edit(result, f"{verb} member {member.id}", warnings=_import_warning(member))


def revoke_badge(members: MemberFile, uid: str, *, badge_key: bytes | None = None) -> Edit:
    """Take a badge (a lost or returned card) away from whoever holds it; the member keeps their other badges.

    `uid` is a UID or a `token:` badge; with the badge key, a UID also finds the card enrolled by its token.
    """
    try:
        wanted = normalise_badge(uid)
    except ValueError as exc:
        raise ConfigError([f"UID: {exc}"]) from None
    same = (lambda b: b == wanted) if badge_key is None else _same_card(wanted, badge_key)
    for index, member in enumerate(members.members):
        if any(same(b) for b in member.badges):
            left = tuple(b for b in member.badges if not same(b))
            updated = member.model_copy(update={"badges": left})
            result = _revalidate(members, [*members.members[:index], updated, *members.members[index + 1 :]])
            rest = f"{len(left)} badge{'' if len(left) == 1 else 's'} left" if left else "no badge left"
            summary = f"revoked badge {mask_uid(wanted)} of member {member.id} ({rest})"
            return Edit(result, summary, warnings=_import_warning(member))
    raise ConfigError([f"badge {mask_uid(wanted)} belongs to no member"])


def enrol_token(members: MemberFile, member_id: str, token: str, *, badge_key: bytes) -> Edit:
    """Give a member the card tapped at a reader, held by its badge token (the reader kept the UID to itself).

    Refused with CardHeld when another member holds that card, by its token or by its UID; a card the member
    already holds changes nothing.
    """
    try:
        badge = token_badge(token)
    except ValueError as exc:
        raise ConfigError([f"token: {exc}"]) from None
    index, member = _require(members, member_id)
    holder = card_holders(members, badge_key).get(card_token(badge, badge_key))
    if holder is not None and holder.member_id != member.id:
        raise CardHeld(badge, holder)
    if holder is not None:
        return Edit(members, f"member {member.id} already holds badge {mask_uid(badge)}", changed=False)
    updated = member.model_copy(update={"badges": (*member.badges, badge)})
    result = _revalidate(members, [*members.members[:index], updated, *members.members[index + 1 :]])
    return Edit(result, f"enrolled badge {mask_uid(badge)} for member {member.id} (by its token)")


def restore_member(members: MemberFile, record: dict[str, Any], *, badge_key: bytes | None = None) -> Edit:
    """Put back a removed member from the record the removal kept (the audit log's copy of the whole member).

    Refused when the id is in use again, the plan no longer exists, or a badge was given to someone else since.
    """
    try:
        member = Member.model_validate(record)
    except ValidationError as exc:
        raise ConfigError([_option_issue(err, record) for err in exc.errors()]) from None
    problems: list[str] = []
    if _find(members, member.id) is not None:
        problems.append(f"--id: member {member.id} already exists")
    if member.plan not in members.plans:
        problems.append(f"--plan: unknown plan {member.plan!r} (plans: {', '.join(sorted(members.plans))})")
    problems.extend(_taken(members, member, badge_key))
    if problems:
        raise ConfigError(problems)
    result = _revalidate(members, [*members.members, member])
    count = len(member.badges)
    summary = f"restored member {member.id} ({count} badge{'' if count == 1 else 's'})"
    return Edit(result, summary, warnings=_import_warning(member))


def remove_member(members: MemberFile, member_id: str) -> Edit:
    """Remove a member and all their badges."""
    index, member = _require(members, member_id)
    result = _revalidate(members, [*members.members[:index], *members.members[index + 1 :]])
    count = len(member.badges)
    summary = f"removed member {member.id} ({count} badge{'' if count == 1 else 's'} revoked)"
    return Edit(result, summary, warnings=_import_warning(member))


def update_member(members: MemberFile, member_id: str, *, badge_key: bytes | None = None, **changes: Any) -> Edit:
    """Change some fields of a member (name, email, plan, badges, validity, account, staff); the id and the source
    stay. Refuse an unknown plan or a badge another member holds, naming that member."""
    allowed = {"name", "email", "plan", "badges", "valid_from", "valid_until", "account", "staff"}
    unknown = sorted(set(changes) - allowed)
    if unknown:
        raise ValueError(f"cannot change {', '.join(unknown)}")
    index, member = _require(members, member_id)
    data = {**member.model_dump(mode="python"), **changes}
    try:
        updated = Member.model_validate(data)
    except ValidationError as exc:
        raise ConfigError([_option_issue(err, data) for err in exc.errors()]) from None
    problems: list[str] = []
    if updated.plan not in members.plans:
        problems.append(f"--plan: unknown plan {updated.plan!r} (plans: {', '.join(sorted(members.plans))})")
    problems.extend(_taken(members, updated, badge_key))
    if problems:
        raise ConfigError(problems)
    if updated == member:
        return Edit(members, f"member {member.id} unchanged", changed=False)
    fields = sorted(name for name in allowed if getattr(updated, name) != getattr(member, name))
    result = _revalidate(members, [*members.members[:index], updated, *members.members[index + 1 :]])
    return Edit(result, f"changed {', '.join(fields)} of member {member.id}", warnings=_import_warning(member))


def set_account_seats(members: MemberFile, account: str, seats: int | None) -> Edit:
    """Set (or, with None, lift) the seat limit of a company or team account, adding the account if needed."""
    current = members.accounts.get(account)
    if current is not None and current.seats == seats:
        return Edit(members, f"account {account} unchanged", changed=False)
    data = members.model_dump(mode="python", by_alias=True)
    data["accounts"] = {**data["accounts"], account: {"seats": seats}}
    result = validate_member_data(data, source="the edited member file")
    limit = f"{seats} seats" if seats is not None else "no seat limit"
    return Edit(result, f"account {account}: {limit}")


def _find(members: MemberFile, member_id: str) -> tuple[int, Member] | None:
    for index, member in enumerate(members.members):
        if member.id == member_id:
            return index, member
    return None


def _require(members: MemberFile, member_id: str) -> tuple[int, Member]:
    found = _find(members, str(member_id))
    if found is None:
        raise ConfigError([f"no member with id {member_id!r}"])
    return found


def _same_card(wanted: str, badge_key: bytes) -> Any:
    token = card_token(wanted, badge_key)
    return lambda badge: card_token(badge, badge_key) == token


def _taken(members: MemberFile, member: Member, badge_key: bytes | None) -> list[str]:
    """The badges of `member` (new or changed) that another member holds, or that it holds twice, as problems."""
    problems: list[str] = []
    if badge_key is None:
        owners = {b: m.id for m in members.members for b in m.badges}
        same = {b: b for b in member.badges}
    else:
        owners = {token: h.member_id for token, h in card_holders(members, badge_key).items()}
        same = {b: card_token(b, badge_key) for b in member.badges}
    seen: set[str] = set()
    for badge, card in same.items():
        owner = owners.get(card, member.id)
        if owner != member.id:
            problems.append(f"--badge: badge {mask_uid(badge)} already belongs to member {owner}")
        elif card in seen:
            problems.append(f"--badge: badge {mask_uid(badge)} is the same card as another badge of this member")
        seen.add(card)
    return problems


def _revalidate(members: MemberFile, new_members: list[Member]) -> MemberFile:
    """The file with `new_members`, checked by the file's cross-member rules (known plans, ids and badges once).

    Each member is a validated `Member` already (edits validate the one they make), so only the rules that span
    members run again: the other 9,999 members of a large file are not validated once more.
    """
    result = members.model_copy(update={"members": tuple(new_members)})
    issues = check_member_file(result)
    if issues:
        raise ConfigError(format_issues(issues, {}, "the edited member file"))
    return result


def _option_issue(err: Any, data: dict[str, Any]) -> str:
    issue = issue_from_error(err, data)
    field = str(err["loc"][0]) if err["loc"] else ""
    option = _OPTIONS.get(field, "--" + field.replace("_", "-"))
    return f"{option}: {issue.message}"


def _import_warning(member: Member) -> tuple[str, ...]:
    if member.source == MANUAL_SOURCE:
        return ()
    return (
        f"member {member.id} comes from the {member.source} import: change it there too, or the next import "
        f"from {member.source} will undo this",
    )
