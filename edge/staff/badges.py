"""Badges in the member file: a card's UID, or the card's badge token when it was enrolled by tapping it.

A member's `badges` list holds either form:

* a UID in hexadecimal (`04A23B9C`), typed from the card supplier's list or a platform's export; the staff tools
  turn it into its badge token with the site badge key when they build a snapshot;
* `token:` followed by the 32 hexadecimal characters of a badge token (`token:3f0c…`), as a reader publishes it
  when a card is tapped at the console's enrolment page: the raw UID never left the reader's node, so it is not
  known anywhere off it, and the snapshot carries the token unchanged.

A UID and the token it hashes to are the same card: `card_holders` compares cards by token (it needs the badge
key), so the same card can never be given to two members in two forms.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

from edge.contract.token import TOKEN_LENGTH, badge_token, normalise_uid

if TYPE_CHECKING:
    from edge.staff.members import MemberFile

TOKEN_PREFIX = "token:"
_TOKEN = re.compile(rf"^[0-9a-f]{{{TOKEN_LENGTH}}}$")


def normalise_badge(text: str) -> str:
    """A badge as the member file stores it: `token:<32 lower-case hex>`, or the UID normalised; ValueError else."""
    stripped = text.strip()
    if stripped[: len(TOKEN_PREFIX)].lower() == TOKEN_PREFIX:
        token = stripped[len(TOKEN_PREFIX) :].strip().lower()
        if not _TOKEN.match(token):
            raise ValueError(f"a badge token is {TOKEN_PREFIX} followed by {TOKEN_LENGTH} hexadecimal characters")
        return TOKEN_PREFIX + token
    return normalise_uid(stripped)


def is_token(badge: str) -> bool:
    """True for a badge held by its token (enrolled at a reader), False for a UID."""
    return badge.startswith(TOKEN_PREFIX)


def token_badge(token: str) -> str:
    """The member-file form of a badge token as readers publish it (32 hex characters)."""
    return normalise_badge(TOKEN_PREFIX + token)


def card_token(badge: str, badge_key: bytes) -> str:
    """The badge token of a badge in either form: a token as is, a UID hashed with the site badge key."""
    return badge[len(TOKEN_PREFIX) :] if is_token(badge) else badge_token(badge_key, badge)


def mask_badge(badge: str) -> str:
    """A badge cut to its first and last byte for messages: `04…C4` for a UID, `token:3f…9a` for a token."""
    if is_token(badge):
        return f"{TOKEN_PREFIX}{badge[len(TOKEN_PREFIX) :][:2]}…{badge[-2:]}"
    try:
        text = normalise_uid(badge)
    except ValueError:
        return "…"
    return f"{text[:2]}…{text[-2:]}" if len(text) >= 6 else "…"


@dataclass(frozen=True)
class Holder:
    """Who holds a card: the member (id, name) and where the badge sits in the file."""

    member_id: str
    name: str
    member_index: int
    badge_index: int

    @property
    def path(self) -> str:
        """The key path of the badge in the member file (`members[3].badges[0]`)."""
        return f"members[{self.member_index}].badges[{self.badge_index}]"

    @property
    def label(self) -> str:
        """The member as staff read it: `Alice Martin (M-0001)`, or the id alone."""
        return f"{self.name} ({self.member_id})" if self.name else self.member_id


@dataclass(frozen=True)
class SameCard:
    """One card given twice (a UID and its token, or the same badge twice): the second place and the first."""

    second: Holder
    first: Holder

    def __str__(self) -> str:
        return (
            f"{self.second.path} (member {self.second.member_id}) is the same card as {self.first.path} "
            f"(member {self.first.member_id})"
        )


def _badges(members: MemberFile, badge_key: bytes) -> Iterator[tuple[str, Holder]]:
    for index, member in enumerate(members.members):
        for position, badge in enumerate(member.badges):
            yield card_token(badge, badge_key), Holder(member.id, member.name, index, position)


def card_holders(members: MemberFile, badge_key: bytes) -> dict[str, Holder]:
    """Every card of the member file by its badge token (the first holder when a card is given twice)."""
    holders: dict[str, Holder] = {}
    for token, holder in _badges(members, badge_key):
        holders.setdefault(token, holder)
    return holders


def same_cards(members: MemberFile, badge_key: bytes) -> list[SameCard]:
    """Cards given more than once, a UID and its token counting as one card."""
    holders: dict[str, Holder] = {}
    found = []
    for token, holder in _badges(members, badge_key):
        first = holders.setdefault(token, holder)
        if first is not holder:
            found.append(SameCard(holder, first))
    return found
