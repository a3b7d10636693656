"""Staff edits of the member file: each returns a validated file, a summary with masked UIDs, and warnings."""

from __future__ import annotations

import datetime as dt

import pytest

from edge.errors import ConfigError
from edge.staff.edits import add_member, remove_member, revoke_badge, set_suspended
from edge.staff.memberfile import parse_member_file
from edge.staff.members import mask_uid

MEMBERS = parse_member_file(
    """\
site: lyon
plans:
  resident: {schedule: always}
  flex: {schedule: [{days: mon-fri, from: 08:00, to: 19:00}]}
members:
  - {id: M-1, plan: resident, badges: ["04A23B119C8000", "0A1B2C3D"]}
  - {id: M-2, plan: flex, badges: ["5B00A1C2D3"]}
  - {id: N-7, plan: flex, badges: ["7E00112233"], source: nexudus}
"""
)


@pytest.mark.parametrize(
    ("uid", "masked"),
    [
        ("04:A2:3B:11:9C:80:00", "04…00"),
        ("0a1b2c3d", "0A…3D"),
        ("04A1B2", "04…B2"),
        ("04A1", "…"),
        ("A1", "…"),
        ("not hex", "…"),
    ],
)
def test_a_masked_uid_shows_only_its_first_and_last_byte(uid: str, masked: str) -> None:
    assert mask_uid(uid) == masked


def test_add_appends_a_manual_member_with_normalised_badges() -> None:
    edit = add_member(
        MEMBERS,
        member_id="M-3",
        plan="flex",
        badges=("04:aa:bb:cc",),
        name="Zoé",
        valid_until=dt.date(2026, 12, 31),
    )
    added = edit.members.members[-1]
    assert (added.id, added.plan, added.badges, added.source, added.valid_until) == (
        "M-3",
        "flex",
        ("04AABBCC",),
        "manual",
        dt.date(2026, 12, 31),
    )
    assert edit.summary == "added member M-3 (flex, 1 badge)"
    assert len(MEMBERS.members) == 3  # the input is never modified


@pytest.mark.parametrize(
    ("case", "kwargs", "message"),
    [
        ("known id", {"member_id": "M-1"}, "--id: member M-1 already exists"),
        ("unknown plan", {"plan": "gold"}, "--plan: unknown plan 'gold' (plans: flex, resident)"),
        ("taken badge", {"badges": ("0a:1b:2c:3d",)}, "--badge: badge 0A…3D already belongs to member M-1"),
        ("bad badge", {"badges": ("XYZ",)}, "--badge: a UID is 1 to 16 bytes written in hexadecimal"),
        ("bad id", {"member_id": "-x"}, "--id: must be 1-64 characters"),
        ("dates reversed", {"valid_from": dt.date(2026, 2, 1), "valid_until": dt.date(2026, 1, 1)}, "valid_until is"),
    ],
)
def test_add_refuses_with_the_option_to_fix(case: str, kwargs: dict[str, object], message: str) -> None:
    arguments: dict[str, object] = {"member_id": "M-3", "plan": "flex", "badges": ("04AABBCC",), **kwargs}
    with pytest.raises(ConfigError) as caught:
        add_member(MEMBERS, **arguments)  # type: ignore[arg-type]
    assert any(message in issue for issue in caught.value.issues), caught.value.issues
    assert not any("0A1B2C3D" in issue for issue in caught.value.issues)


def test_suspend_and_unsuspend_flip_the_flag() -> None:
    suspended = set_suspended(MEMBERS, "M-2", True)
    assert suspended.members.members[1].suspended and suspended.summary == "suspended member M-2"
    lifted = set_suspended(suspended.members, "M-2", False)
    assert not lifted.members.members[1].suspended
    assert lifted.summary == "lifted the suspension of member M-2"


def test_suspending_a_suspended_member_changes_nothing() -> None:
    twice = set_suspended(set_suspended(MEMBERS, "M-2", True).members, "M-2", True)
    assert not twice.changed and twice.summary == "member M-2 is already suspended; nothing changed"


def test_revoke_removes_one_badge_and_keeps_the_others() -> None:
    edit = revoke_badge(MEMBERS, "0a 1b 2c 3d")
    assert edit.members.members[0].badges == ("04A23B119C8000",)
    assert edit.summary == "revoked badge 0A…3D of member M-1 (1 badge left)"


def test_revoking_the_last_badge_says_so() -> None:
    assert revoke_badge(MEMBERS, "5B00A1C2D3").summary == "revoked badge 5B…D3 of member M-2 (no badge left)"


@pytest.mark.parametrize(
    ("uid", "message"), [("04FFFFFF", "badge 04…FF belongs to no member"), ("zz", "UID: a UID is 1 to 16 bytes")]
)
def test_revoking_an_unknown_or_malformed_badge_is_refused(uid: str, message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        revoke_badge(MEMBERS, uid)
    assert caught.value.issues == [message] or message in caught.value.issues[0]


def test_remove_drops_the_member_and_counts_the_badges_revoked() -> None:
    edit = remove_member(MEMBERS, "M-1")
    assert [m.id for m in edit.members.members] == ["M-2", "N-7"]
    assert edit.summary == "removed member M-1 (2 badges revoked)"


@pytest.mark.parametrize("member_id", ["M-9", "m-1"])
def test_editing_an_unknown_member_is_refused(member_id: str) -> None:
    with pytest.raises(ConfigError, match=f"no member with id '{member_id}'"):
        set_suspended(MEMBERS, member_id, True)
    with pytest.raises(ConfigError):
        remove_member(MEMBERS, member_id)


def test_editing_an_imported_member_warns_that_the_next_import_undoes_it() -> None:
    edit = set_suspended(MEMBERS, "N-7", True)
    assert edit.warnings == (
        "member N-7 comes from the nexudus import: change it there too, or the next import from nexudus will undo this",
    )
    assert set_suspended(MEMBERS, "M-2", True).warnings == ()
