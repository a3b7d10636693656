"""`edge members` on the staff machine, run as the real CLI: keys, CSV import, edits, list and dry runs."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from edge.config.keyfiles import load_public_key
from edge.staff.keys import load_signing_key
from edge.staff.memberfile import load_member_file
from edge.staff.signing import public_key_of
from tests.access_support import PLANS_HEAD
from tests.rig.fixtures import run_edge

MEMBER_FILE = (
    PLANS_HEAD
    + """\
members:
  - {id: M-1, name: Ann Resident, plan: resident, badges: ["04:A2:3B:11:9C:80:00"]}
  - {id: M-2, name: Ben Flex, plan: flex, badges: ["5B00A1C2D3"]}
  - {id: M-3, name: Cat Suspended, plan: resident, badges: ["0A1B2C3D"], suspended: true}
  - {id: S-1, name: Front desk, plan: staff, staff: true, badges: ["DEADBEEF01"]}
"""
)
RAW_UIDS = ("04A23B119C8000", "04:A2:3B:11:9C:80:00", "5B00A1C2D3", "0A1B2C3D", "DEADBEEF01", "04AABBCC")

DOOR_NODE = """\
site: lyon
node: door-front
badge_key_file: badge.key
access: {snapshot_keys: [snapshot-signing.pub]}
doors:
  - name: front
    relay: {pin: 5, lock_type: fail_safe}
"""

NEXUDUS_HEAD = "Coworker Id,Full Name,Email,Tariff,Access Card Id,Company Name,Start Date,End Date,Active\n"
NEXUDUS_GOOD = (
    NEXUDUS_HEAD
    + "20481,Dana Desk,d@x.org,Resident Desk,04:AA:BB:CC,,01/03/2025,,True\n"
    + "20482,Eli Flex,e@x.org,Flex Monthly,04AABBCD,,01/09/2026,31/12/2026,False\n"
    + "20483,Lead Only,l@x.org,,,,,,True\n"
)
PLAN_MAP = "plan_names: {Resident Desk: resident, Flex Monthly: flex}\n"


@pytest.fixture
def site(tmp_path: Path) -> Path:
    """A staff folder with a member file, the plan-name mapping and a door's node config."""
    (tmp_path / "members.yaml").write_text(MEMBER_FILE)
    (tmp_path / "nexudus.yaml").write_text(PLAN_MAP)
    (tmp_path / "door.yaml").write_text(DOOR_NODE)
    return tmp_path


def members(site: Path, *args: str) -> tuple[int, str, str]:
    """Run `edge members ARGS --members site/members.yaml`-style commands, in English; code, stdout, stderr."""
    result = run_edge("members", *args, EDGE_LANG="en")
    return result.returncode, result.stdout, result.stderr


def assert_no_raw_uid(*texts: str) -> None:
    """No full badge UID in any of the texts."""
    for text in texts:
        for uid in RAW_UIDS:
            assert uid.lower() not in text.lower(), uid


# --- keygen -----------------------------------------------------------------------------------------------


def test_keygen_creates_both_signing_pairs_and_the_badge_key_private_ones_0600(tmp_path: Path) -> None:
    code, out, _ = members(tmp_path, "keygen", "--dir", str(tmp_path / "keys"))
    assert code == 0
    keys = tmp_path / "keys"
    assert sorted(p.name for p in keys.iterdir()) == [
        "badge.key",
        "command-signing.key",
        "command-signing.pub",
        "snapshot-signing.key",
        "snapshot-signing.pub",
    ]
    for private in ("snapshot-signing.key", "command-signing.key", "badge.key"):
        assert stat.S_IMODE((keys / private).stat().st_mode) == 0o600
    assert stat.S_IMODE(keys.stat().st_mode) == 0o700
    pair = load_signing_key(keys / "snapshot-signing.key")
    assert public_key_of(pair) == load_public_key(keys / "snapshot-signing.pub")
    assert out.count("created") == 3


def test_keygen_never_overwrites_and_fills_in_what_is_missing(tmp_path: Path) -> None:
    keys = tmp_path / "keys"
    assert members(tmp_path, "keygen", "--dir", str(keys))[0] == 0
    before = {p.name: p.read_bytes() for p in keys.iterdir()}
    (keys / "badge.key").unlink()
    code, out, _ = members(tmp_path, "keygen", "--dir", str(keys))
    assert code == 0
    after = {p.name: p.read_bytes() for p in keys.iterdir()}
    assert {n: b for n, b in after.items() if n != "badge.key"} == {n: b for n, b in before.items() if n != "badge.key"}
    assert after["badge.key"] != before["badge.key"]
    assert "kept snapshot-signing key" in out and "created badge key" in out


def test_keygen_refuses_half_a_pair(tmp_path: Path) -> None:
    keys = tmp_path / "keys"
    members(tmp_path, "keygen", "--dir", str(keys))
    (keys / "command-signing.pub").unlink()
    private = (keys / "command-signing.key").read_bytes()
    code, _, err = members(tmp_path, "keygen", "--dir", str(keys))
    assert code == 2 and "only one of them exists" in err
    assert (keys / "command-signing.key").read_bytes() == private


# --- import -----------------------------------------------------------------------------------------------


def test_import_adds_the_platforms_members_and_keeps_the_others(site: Path) -> None:
    (site / "export.csv").write_text(NEXUDUS_GOOD)
    code, out, err = members(
        site,
        "import", str(site / "export.csv"), "--format", "nexudus", "--mapping", str(site / "nexudus.yaml"),
        "--members", str(site / "members.yaml"),
    )  # fmt: skip
    assert code == 0, err
    assert "imported 2 members from nexudus (2 new, 0 changed, 0 unchanged, 0 removed), 4 other members kept" in out
    assert "skipped line 4: member 20483 has no plan" in out
    result = {m.id: m for m in load_member_file(site / "members.yaml").members}
    assert result["20481"].badges == ("04AABBCC",) and result["20481"].source == "nexudus"
    assert result["20482"].suspended and "M-1" in result
    assert_no_raw_uid(out, err)


BAD_ROWS = [
    ("unknown plan", "1,A,a@x,Gold,04A1B2C3,,01/01/2026,,True\n", "line 3, column 'Tariff': unknown plan 'Gold'"),
    ("bad badge", "1,A,a@x,Resident Desk,XYZ,,01/01/2026,,True\n", "line 3, column 'Access Card Id': 'XYZ'"),
    (
        "bad date",
        "1,A,a@x,Resident Desk,04A1B2C3,,32/01/2026,,True\n",
        "line 3, column 'Start Date': '32/01/2026' is not a date",
    ),
    ("bad flag", "1,A,a@x,Resident Desk,04A1B2C3,,,,maybe\n", "line 3, column 'Active': 'maybe' is not one of"),
    (
        "badge of a member",
        "1,A,a@x,Resident Desk,0a1b2c3d,,,,True\n",
        "line 3, column 'Access Card Id': badge 0A…3D is already given to member M-3",
    ),
    ("short row", "1,A,a@x\n", "line 3: 3 fields where the header has 9"),
]


@pytest.mark.parametrize(("case", "row", "message"), BAD_ROWS, ids=[b[0] for b in BAD_ROWS])
def test_a_bad_row_is_reported_with_line_column_and_reason_and_nothing_changes(
    site: Path, case: str, row: str, message: str
) -> None:
    # The bad row comes after a good one: the good one must not be imported either.
    (site / "export.csv").write_text(NEXUDUS_HEAD + "9,Good,g@x,Flex Monthly,04EEEEEE,,,,True\n" + row)
    before = (site / "members.yaml").read_bytes()
    code, out, err = members(
        site,
        "import", str(site / "export.csv"), "--format", "nexudus", "--mapping", str(site / "nexudus.yaml"),
        "--members", str(site / "members.yaml"),
    )  # fmt: skip
    assert code == 2
    assert f"error: {site / 'export.csv'}, {message}" in err
    assert (site / "members.yaml").read_bytes() == before
    assert sorted(p.name for p in site.iterdir()) == ["door.yaml", "export.csv", "members.yaml", "nexudus.yaml"]
    assert_no_raw_uid(out, err)


def test_a_missing_column_is_reported_on_line_1(site: Path) -> None:
    (site / "export.csv").write_text("Coworker Id,Full Name,Tariff\n1,A,Resident Desk\n")
    code, _, err = members(
        site, "import", str(site / "export.csv"), "--format", "nexudus", "--members", str(site / "members.yaml")
    )
    assert code == 2 and "line 1, column 'Access Card Id': column is missing" in err


def test_a_dry_run_import_reports_and_writes_nothing(site: Path) -> None:
    (site / "export.csv").write_text(NEXUDUS_GOOD)
    before = (site / "members.yaml").read_bytes()
    code, out, _ = members(
        site,
        "import", str(site / "export.csv"), "--format", "nexudus", "--mapping", str(site / "nexudus.yaml"),
        "--members", str(site / "members.yaml"), "--dry-run",
    )  # fmt: skip
    assert code == 0 and "dry run: would import 2 members from nexudus" in out
    assert (site / "members.yaml").read_bytes() == before


def test_import_needs_a_format_or_a_mapping(site: Path) -> None:
    (site / "export.csv").write_text(NEXUDUS_GOOD)
    code, _, err = members(site, "import", str(site / "export.csv"), "--members", str(site / "members.yaml"))
    assert code == 2 and "give --format" in err


# --- edits ------------------------------------------------------------------------------------------------


def edit(site: Path, *args: str) -> tuple[int, str, str]:
    """Run an edit action on the site's member file."""
    return members(site, *args[:1], "--members", str(site / "members.yaml"), *args[1:])


def test_add_suspend_revoke_and_remove_rewrite_the_file_atomically(site: Path) -> None:
    path = site / "members.yaml"
    os.chmod(path, 0o640)
    steps = [
        (("add", "--id", "M-9", "--plan", "flex", "--badge", "04:aa:bb:cc", "--name", "Zoé"), "added member M-9"),
        (("suspend", "M-2"), "suspended member M-2"),
        (("unsuspend", "M-3"), "lifted the suspension of member M-3"),
        (("revoke-badge", "04 A2 3B 11 9C 80 00"), "revoked badge 04…00 of member M-1 (no badge left)"),
        (("remove", "S-1"), "removed member S-1 (1 badge revoked)"),
    ]
    for args, expected in steps:
        inode = path.stat().st_ino
        code, out, err = edit(site, *args)
        assert code == 0, err
        assert expected in out
        assert_no_raw_uid(out, err)
        # Replaced by rename (a new inode), never rewritten in place; mode kept; no temporary file left.
        assert path.stat().st_ino != inode
        assert stat.S_IMODE(path.stat().st_mode) == 0o640
        assert sorted(p.name for p in site.iterdir()) == ["door.yaml", "members.yaml", "nexudus.yaml"]
    result = {m.id: m for m in load_member_file(path).members}
    assert result["M-9"].badges == ("04AABBCC",) and result["M-9"].name == "Zoé"
    assert result["M-2"].suspended and not result["M-3"].suspended
    assert result["M-1"].badges == () and "S-1" not in result


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("add", "--id", "M-1", "--plan", "flex"), "--id: member M-1 already exists"),
        (("add", "--id", "M-9", "--plan", "gold"), "--plan: unknown plan 'gold'"),
        (("add", "--id", "M-9", "--plan", "flex", "--badge", "5b00a1c2d3"), "5B…D3 already belongs to member M-2"),
        (("suspend", "M-404"), "no member with id 'M-404'"),
        (("revoke-badge", "04FFFFFF"), "badge 04…FF belongs to no member"),
        (("remove", "nobody"), "no member with id 'nobody'"),
    ],
)
def test_a_refused_edit_exits_2_and_leaves_the_file_untouched(site: Path, args: tuple[str, ...], message: str) -> None:
    before = (site / "members.yaml").read_bytes()
    code, out, err = edit(site, *args)
    assert code == 2 and message in err
    assert (site / "members.yaml").read_bytes() == before
    assert_no_raw_uid(out, err)


def test_an_invalid_member_file_is_refused_with_its_key_path(site: Path) -> None:
    (site / "members.yaml").write_text(MEMBER_FILE.replace("plan: flex, badges", "plan: gold, badges"))
    code, _, err = edit(site, "suspend", "M-1")
    assert code == 2 and "members[1].plan: unknown plan 'gold'" in err


# --- list -------------------------------------------------------------------------------------------------


def test_list_shows_plan_validity_status_and_badge_count_never_uids(site: Path) -> None:
    code, out, err = members(site, "list", "--members", str(site / "members.yaml"), "--on", "2026-11-26")
    assert code == 0, err
    lines = {line.split()[0]: line for line in out.splitlines() if line[:2] in ("M-", "S-")}
    assert lines["M-3"].split()[-3:] == ["suspended", "1", "manual"]
    assert "resident" in lines["M-1"] and "always" in lines["M-1"]
    assert "4 members: 3 active, 1 suspended" in out
    assert_no_raw_uid(out, err)


def test_list_as_json(site: Path) -> None:
    import json

    code, out, _ = members(site, "list", "--members", str(site / "members.yaml"), "--json", "--on", "2026-11-26")
    rows = {row["id"]: row for row in json.loads(out)}
    assert code == 0 and rows["S-1"]["staff"] is True and rows["M-2"]["badges"] == 1
    assert rows["M-3"]["status"] == "suspended"
    assert_no_raw_uid(out)


# --- check ------------------------------------------------------------------------------------------------


def check(site: Path, *args: str) -> tuple[int, str, str]:
    """Run a dry run at the site's front door."""
    return members(
        site,
        "check", "--members", str(site / "members.yaml"), "--node", str(site / "door.yaml"), "--door", "front",
        *args,
    )  # fmt: skip


def test_check_gives_each_member_the_reason_at_a_local_time(site: Path) -> None:
    code, out, err = check(site, "--at", "2026-11-26T19:30", "--json")
    assert code == 0, err
    import json

    result = json.loads(out)
    reasons = {row["member"]: (row["admitted"], row["reason"]) for row in result["members"]}
    assert reasons == {
        "M-1": (True, "granted"),
        "M-2": (False, "outside_schedule"),
        "M-3": (False, "suspended"),
        "S-1": (True, "granted"),
    }
    assert result["local"] == "2026-11-26T19:30:00+01:00" and result["at"] == "2026-11-26T18:30:00.000Z"
    assert_no_raw_uid(out, err)


def test_check_in_hours_admits_the_flex_member(site: Path) -> None:
    code, out, _ = check(site, "--at", "2026-11-26T18:59")
    assert code == 0
    flex = next(line for line in out.splitlines() if line.startswith("M-2"))
    assert flex.split()[2:4] == ["admitted", "granted"]
    assert "door front at Thu 2026-11-26 18:59 Europe/Paris" in out and "3 of 4 admitted" in out


def test_check_one_badge_prints_it_masked(site: Path) -> None:
    code, out, err = check(site, "--at", "2026-11-26T19:30", "--badge", "5b:00:a1:c2:d3")
    assert code == 0, err
    row = next(line for line in out.splitlines() if line.startswith("5B…D3"))
    assert row.split()[1:5] == ["M-2", "flex", "refused", "outside_schedule"]
    assert_no_raw_uid(out, err)


def test_check_in_lockdown_admits_staff_only(site: Path) -> None:
    code, out, _ = check(site, "--at", "2026-11-26T10:00", "--mode", "lockdown", "--json")
    import json

    admitted = [row["member"] for row in json.loads(out)["members"] if row["admitted"]]
    assert code == 0 and admitted == ["S-1"]


def test_check_refuses_a_door_of_another_site(site: Path) -> None:
    (site / "door.yaml").write_text(DOOR_NODE.replace("site: lyon", "site: paris"))
    code, _, err = check(site, "--at", "2026-11-26T10:00")
    assert code == 2 and "site 'paris' is not the member file's site 'lyon'" in err
