"""Badges held by their token (a card enrolled by tapping it at a reader): read, passed to the doors unchanged,
never given twice — a UID and the token it hashes to being the same card — and kept by imports."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from edge.contract.token import badge_token
from edge.errors import ConfigError
from edge.staff.badges import card_holders, mask_badge, normalise_badge, same_cards
from edge.staff.csv_import import import_csv
from edge.staff.csv_mapping import MAPPINGS
from edge.staff.edits import CardHeld, add_member, enrol_token, restore_member, revoke_badge, update_member
from edge.staff.memberfile import parse_member_file
from edge.staff.snapshot import build_snapshot
from tests.rig.fixtures import run_edge

KEY = b"test-badge-key-0123456789abcdef"
UID = "04A23B119C8000"
TOKEN = badge_token(KEY, UID)
OTHER = badge_token(KEY, "0A1B2C3D4E")
CREATED = dt.datetime(2026, 12, 1, 9, 0, tzinfo=dt.UTC)

FILE = f"""\
site: lyon
plans:
  resident: {{schedule: always}}
members:
  - {{id: M-1, name: Alice Martin, plan: resident, badges: ["{UID}"]}}
  - {{id: M-2, name: Bob Durand, plan: resident, badges: ["token:{OTHER.upper()}"]}}
  - {{id: N-7, name: Nina Nexudus, plan: resident, source: nexudus, badges: ["token:{"ab" * 16}"]}}
"""
MEMBERS = parse_member_file(FILE)


def test_a_token_badge_reads_and_is_stored_in_lower_case_with_its_prefix() -> None:
    assert MEMBERS.members[1].badges == (f"token:{OTHER}",)
    assert normalise_badge(f" TOKEN:{OTHER.upper()} ") == f"token:{OTHER}"


@pytest.mark.parametrize("badge", ["token:abc", f"token:{'g' * 32}", f"token:{OTHER}00", "token:"])
def test_a_malformed_token_is_refused_naming_its_key_path(badge: str) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_member_file(FILE.replace(f"token:{OTHER.upper()}", badge))
    assert any("members[1].badges[0]" in issue and "32 hexadecimal" in issue for issue in caught.value.issues)


def test_a_token_is_masked_like_a_uid() -> None:
    assert mask_badge(f"token:{OTHER}") == f"token:{OTHER[:2]}…{OTHER[-2:]}"


def test_the_snapshot_carries_the_token_unchanged_and_the_uid_hashed() -> None:
    payload = build_snapshot(MEMBERS, version=1, badge_key=KEY, created_at=CREATED)
    tokens = {m["id"]: m["tokens"] for m in payload["members"]}
    assert tokens["M-1"] == [TOKEN] and tokens["M-2"] == [OTHER]
    assert "token:" not in str(payload)


def test_a_uid_and_its_token_given_to_two_members_are_one_card_given_twice() -> None:
    twice = MEMBERS.model_copy(update={"members": (*MEMBERS.members[:1], MEMBERS.members[1].model_copy(
        update={"badges": (f"token:{TOKEN}",)}))})  # fmt: skip
    [same] = same_cards(twice, KEY)
    assert (same.second.member_id, same.first.member_id) == ("M-2", "M-1")
    with pytest.raises(ConfigError) as caught:
        build_snapshot(twice, version=1, badge_key=KEY, created_at=CREATED)
    assert "members[1].badges[0] (member M-2) is the same card as members[0].badges[0] (member M-1)" in str(
        caught.value.issues
    )


def test_card_holders_find_a_member_by_the_token_of_either_form() -> None:
    holders = card_holders(MEMBERS, KEY)
    assert holders[TOKEN].label == "Alice Martin (M-1)" and holders[OTHER].member_id == "M-2"


def test_enrolling_a_tapped_card_adds_it_by_its_token() -> None:
    new = badge_token(KEY, "5B00A1C2D3")
    edit = enrol_token(MEMBERS, "M-1", new, badge_key=KEY)
    assert edit.members.members[0].badges == (UID, f"token:{new}")
    assert f"token:{new[:2]}…" in edit.summary and new not in edit.summary


def test_enrolling_a_card_someone_else_holds_by_its_uid_is_refused_naming_them() -> None:
    with pytest.raises(CardHeld) as caught:
        enrol_token(MEMBERS, "M-2", TOKEN, badge_key=KEY)
    assert caught.value.holder.label == "Alice Martin (M-1)"
    assert "already belongs to member M-1" in caught.value.issues[0]


def test_enrolling_a_card_the_member_already_holds_changes_nothing() -> None:
    assert not enrol_token(MEMBERS, "M-1", TOKEN, badge_key=KEY).changed


def test_with_the_badge_key_typing_the_uid_of_an_enrolled_card_is_refused() -> None:
    uid_of_other = "0A1B2C3D4E"
    with pytest.raises(ConfigError, match="already belongs to member M-2"):
        add_member(MEMBERS, member_id="M-9", plan="resident", badges=(uid_of_other,), badge_key=KEY)
    with pytest.raises(ConfigError, match="already belongs to member M-2"):
        update_member(MEMBERS, "M-1", badges=(UID, uid_of_other), badge_key=KEY)
    # Without the key the two forms cannot be compared here; the push (which has the key) refuses it.
    added = add_member(MEMBERS, member_id="M-9", plan="resident", badges=(uid_of_other,))
    with pytest.raises(ConfigError, match="same card"):
        build_snapshot(added.members, version=1, badge_key=KEY, created_at=CREATED)


def test_revoking_by_uid_with_the_key_takes_back_the_card_enrolled_by_token() -> None:
    edit = revoke_badge(MEMBERS, "0A:1B:2C:3D:4E", badge_key=KEY)
    assert edit.members.members[1].badges == ()
    assert revoke_badge(MEMBERS, f"token:{OTHER}").members.members[1].badges == ()


def test_an_import_keeps_the_cards_enrolled_for_its_members() -> None:
    export = (
        "Coworker Id,Full Name,Email,Tariff,Access Card Id,Company Name,Start Date,End Date,Active\n"
        "N-7,Nina Nexudus,n@x.org,Resident,04AABBCC,,,,True\n"
    )
    mapping = MAPPINGS["nexudus"].model_copy(update={"plan_names": {"Resident": "resident"}})
    result, _report = import_csv(export.encode(), mapping, MEMBERS)
    nina = next(m for m in result.members if m.id == "N-7")
    assert nina.badges == ("04AABBCC", f"token:{'ab' * 16}")


def test_a_removed_member_is_restored_from_its_record_unless_its_card_was_given_away() -> None:
    record = MEMBERS.members[1].model_dump(mode="json")
    without = revoke_badge(MEMBERS, f"token:{OTHER}").members
    gone = without.model_copy(update={"members": (without.members[0], without.members[2])})
    restored = restore_member(gone, record, badge_key=KEY)
    assert restored.members.members[-1] == MEMBERS.members[1]
    taken = enrol_token(gone, "M-1", OTHER, badge_key=KEY).members
    with pytest.raises(ConfigError, match="already belongs to member M-1"):
        restore_member(taken, record, badge_key=KEY)


def test_the_cli_adds_a_token_badge_and_with_the_key_refuses_its_uid_elsewhere(tmp_path: Path) -> None:
    path = tmp_path / "members.yaml"
    path.write_text(FILE)
    (tmp_path / "badge.key").write_bytes(KEY)
    (tmp_path / "badge.key").chmod(0o600)
    token = badge_token(KEY, "5B00A1C2D3")
    added = run_edge("members", "add", "--members", str(path), "--id", "M-9", "--plan", "resident",
                     "--badge", f"token:{token}", EDGE_LANG="en")  # fmt: skip
    assert added.returncode == 0, added.stderr
    assert parse_member_file(path.read_text()).members[-1].badges == (f"token:{token}",)
    key = str(tmp_path / "badge.key")
    refused = run_edge("members", "add", "--members", str(path), "--id", "M-10", "--plan", "resident",
                       "--badge", "5B:00:A1:C2:D3", "--badge-key", key, EDGE_LANG="en")  # fmt: skip
    assert refused.returncode == 2 and "already belongs to member M-9" in refused.stderr
