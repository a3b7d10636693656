"""CSV import: platform exports read through documented mappings; bad rows named; all-or-nothing."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from edge.access.members import MemberFile, parse_member_file
from edge.access.members_csv import MAPPINGS, CsvMapping, import_csv, load_mapping
from edge.errors import ConfigError

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"

BASE_YAML = """\
site: lyon
plans:
  resident: {schedule: always}
  flex: {schedule: [{days: mon-fri, from: 08:00, to: 19:00}]}
  evening: {schedule: [{days: mon-fri, from: 18:00, to: 02:00}]}
  team: {schedule: [{days: mon-fri, from: 07:00, to: 21:00}]}
  staff: {schedule: always}
members:
  - {id: S-1, plan: staff, staff: true, badges: [DEADBEEF]}
"""
BASE = parse_member_file(BASE_YAML)
PLAN_NAMES = {"Resident Desk": "resident", "Flex Monthly": "flex", "Team Plan": "team", "Evening Club": "evening"}


def mapping(name: str) -> CsvMapping:
    """A built-in mapping with the test site's plan names."""
    return MAPPINGS[name].model_copy(update={"plan_names": PLAN_NAMES})


def run(name: str, text: str, base: MemberFile = BASE) -> MemberFile:
    """Import CSV text with a built-in mapping."""
    return import_csv(text.encode("utf-8"), mapping(name), base, source="export.csv")[0]


def errors(name: str, text: str, base: MemberFile = BASE) -> list[str]:
    """The errors an import raises."""
    with pytest.raises(ConfigError) as caught:
        import_csv(text.encode("utf-8"), mapping(name), base, source="export.csv")
    return caught.value.issues


def test_the_nexudus_example_imports() -> None:
    raw = (EXAMPLES / "members-nexudus.csv").read_bytes()
    members, report = import_csv(raw, mapping("nexudus"), BASE, source="members-nexudus.csv")
    by_id = {m.id: m for m in members.members}
    assert (report.imported, report.kept, report.replaced) == (5, 1, 0)
    assert report.skipped == ("line 7: member 20486 has no plan",)
    chloe = by_id["20483"]
    assert (chloe.plan, chloe.account, chloe.badges) == ("team", "ACME SARL", ("0A1B2C3D", "0A1B2C3E"))
    assert by_id["20482"].valid_until == dt.date(2026, 12, 31)
    assert by_id["20481"].badges == ("04A23B119C8000",)
    assert by_id["20485"].suspended and not by_id["20484"].suspended
    assert all(m.source == "nexudus" for m in members.members if m.id != "S-1")


PLATFORM_FILES = {
    "generic": (
        "member_id,name,plan,badges,valid_from,valid_until,suspended,account,staff\n"
        "m-1,Ann,resident,04A1B2C3,2026-01-01,2026-12-31,no,,no\n"
        "m-2,Ben,flex,04A1B2C4;04A1B2C5,,,yes,ACME,\n"
    ),
    "officernd": (
        "Member ID,Name,Email,Company,Plan,Start Date,End Date,Status,Access Card Number\n"
        "5f1a,Ann,a@x.org,,Resident Desk,2026-01-01T00:00:00.000Z,2026-12-31,active,04A1B2C3\n"
        "5f1b,Ben,b@x.org,ACME,Flex Monthly,2026-01-01,,inactive,04A1B2C4 04A1B2C5\n"
    ),
    "cobot": (
        "Membership ID,Name,Email,Company,Plan,Starts At,Canceled To,Paused,Access Tokens\n"
        "c-1,Ann,a@x.org,,Resident Desk,2026/01/01,2026-12-31,false,04A1B2C3\n"
        'c-2,Ben,b@x.org,ACME,Flex Monthly,2026-01-01,,true,"04A1B2C4,04A1B2C5"\n'
    ),
    "nexudus": (
        "Coworker Id;Full Name;Email;Tariff;Access Card Id;Company Name;Start Date;End Date;Active\n"
        "1;Ann;a@x.org;Resident Desk;04A1B2C3;;01/01/2026;31/12/2026;True\n"
        "2;Ben;b@x.org;Flex Monthly;04A1B2C4|04A1B2C5;ACME;01/01/2026;;False\n"
    ),
}


@pytest.mark.parametrize("name", sorted(PLATFORM_FILES))
def test_each_platform_mapping_reads_its_export(name: str) -> None:
    members = [m for m in run(name, PLATFORM_FILES[name]).members if m.source == name]
    ann, ben = members
    assert (ann.plan, ann.badges, ann.valid_until, ann.suspended) == (
        "resident",
        ("04A1B2C3",),
        dt.date(2026, 12, 31),
        False,
    )
    assert (ben.plan, ben.badges, ben.account, ben.suspended) == ("flex", ("04A1B2C4", "04A1B2C5"), "ACME", True)


GENERIC_HEAD = "member_id,name,plan,badges,valid_from,valid_until,suspended,account,staff\n"
BAD_ROWS = [
    ("unknown plan", "m-1,Ann,gold,04A1,,,no,,no\n", "line 2, column 'plan': unknown plan 'gold'"),
    ("bad badge", "m-1,Ann,flex,XYZ,,,no,,no\n", "line 2, column 'badges': 'XYZ': a UID"),
    ("bad date", "m-1,Ann,flex,04A1,2026-02-30,,no,,no\n", "line 2, column 'valid_from': '2026-02-30' is not a date"),
    ("dates reversed", "m-1,Ann,flex,04A1,2026-12-31,2026-01-01,no,,no\n", "line 2: valid_until is before valid_from"),
    ("bad flag", "m-1,Ann,flex,04A1,,,maybe,,no\n", "line 2, column 'suspended': 'maybe' is not one of"),
    ("bad id", "-m,Ann,flex,04A1,,,no,,no\n", "line 2, column 'member_id': must be 1-64"),
    ("empty id", ",Ann,flex,04A1,,,no,,no\n", "line 2, column 'member_id':"),
    ("short row", "m-1,Ann,flex\n", "line 2: 3 fields where the header has 9"),
    (
        "badge of the member file",
        "m-1,Ann,flex,DEAD:BEEF,,,no,,no\n",
        "line 2, column 'badges': badge DE…EF is already given to member S-1",
    ),
    (
        "id of the member file",
        "S-1,Ann,flex,04A1,,,no,,no\n",
        "line 2, column 'member_id': member S-1 already appears in the member file",
    ),
    (
        "duplicate id",
        "m-1,Ann,flex,04A1,,,no,,no\nm-1,Bob,flex,04A2,,,no,,no\n",
        "line 3, column 'member_id': member m-1 already appears in line 2",
    ),
    (
        "duplicate badge",
        "m-1,Ann,flex,04A1,,,no,,no\nm-2,Bob,flex,04:a1,,,no,,no\n",
        "line 3, column 'badges': badge … is already given to member m-1 at line 2",
    ),
    (
        "multi-line cell shifts line numbers",
        'm-1,"Ann\nMarie",flex,04A1,,,no,,no\nm-2,Bob,gold,04A2,,,no,,no\n',
        "line 4, column 'plan': unknown plan 'gold'",
    ),
    ("unclosed quote", 'm-1,"Ann,flex,04A1,,,no,,no\n', "line 2: not a readable CSV record: unexpected end of data"),
]


@pytest.mark.parametrize(("case", "rows", "expected"), BAD_ROWS, ids=[b[0] for b in BAD_ROWS])
def test_a_bad_row_is_named_by_line_column_and_reason(case: str, rows: str, expected: str) -> None:
    found = errors("generic", GENERIC_HEAD + rows)
    assert any(issue.startswith(f"export.csv, {expected}") or issue.startswith(expected) for issue in found), found


def test_a_missing_column_is_named_with_the_columns_found() -> None:
    found = errors("nexudus", "Coworker Id,Full Name,Tariff\n1,Ann,Resident Desk\n")
    columns = "'Coworker Id', 'Full Name', 'Tariff'"
    assert f"export.csv, line 1, column 'Access Card Id': column is missing (columns found: {columns})" in found


def test_every_bad_row_is_reported_at_once() -> None:
    rows = "m-1,Ann,gold,04A1,,,no,,no\nm-2,Bob,flex,04A2,,,no,,no\nm-3,Cy,flex,ZZ,,,maybe,,no\n"
    found = errors("generic", GENERIC_HEAD + rows)
    assert [issue.split(":")[0] for issue in found] == [
        "export.csv, line 2, column 'plan'",
        "export.csv, line 4, column 'badges'",
        "export.csv, line 4, column 'suspended'",
    ]


def test_an_import_with_one_bad_row_changes_nothing(tmp_path: Path) -> None:
    first = run("generic", GENERIC_HEAD + "m-1,Ann,flex,04A1,,,no,,no\n")
    with pytest.raises(ConfigError):
        run("generic", GENERIC_HEAD + "m-1,Ann,resident,04A1,,,no,,no\nm-2,Bob,gold,04A2,,,no,,no\n", base=first)
    assert first.members[-1].plan == "flex"  # the base is immutable: nothing to undo


def test_a_new_import_replaces_the_same_source_and_keeps_the_rest() -> None:
    first = run("generic", GENERIC_HEAD + "m-1,Ann,flex,04A1,,,no,,no\nm-2,Bob,flex,04A2,,,no,,no\n")
    header = "Coworker Id,Full Name,Email,Tariff,Access Card Id,Company Name,Start Date,End Date,Active\n"
    nexudus = run("nexudus", header + "9,Zoe,,Resident Desk,0909,,,,True\n", base=first)
    second = import_csv((GENERIC_HEAD + "m-2,Bob,resident,04A2,,,no,,no\n").encode(), mapping("generic"), nexudus)
    members, report = second
    assert sorted(m.id for m in members.members) == ["9", "S-1", "m-2"]
    assert (report.imported, report.replaced, report.kept) == (1, 2, 2)


def test_a_badge_moved_between_members_of_the_same_source_is_fine() -> None:
    first = run("generic", GENERIC_HEAD + "m-1,Ann,flex,04A1,,,no,,no\n")
    second = run("generic", GENERIC_HEAD + "m-2,Bob,flex,04A1,,,no,,no\n", base=first)
    assert [(m.id, m.badges) for m in second.members if m.source == "generic"] == [("m-2", ("04A1",))]


def test_excel_bom_and_semicolons_are_read() -> None:
    header = "\ufeffmember_id;name;plan;badges;valid_from;valid_until;suspended;account;staff\n"
    text = header + "m-1;Ann;flex;04A1;;;non;;non\n"
    members = run("generic", text)
    assert members.members[-1].id == "m-1"


def test_wrong_encoding_says_how_to_fix_it() -> None:
    raw = (GENERIC_HEAD + "m-1,Zoë,flex,04A1,,,no,,no\n").encode("cp1252")
    with pytest.raises(ConfigError, match="encoding"):
        import_csv(raw, mapping("generic"), BASE)
    cp1252 = mapping("generic").model_copy(update={"encoding": "cp1252"})
    assert import_csv(raw, cp1252, BASE)[0].members[-1].name == "Zoë"


def test_an_empty_file_is_an_error() -> None:
    assert errors("generic", "") == ["export.csv, line 1: the file is empty (a header line is needed)"]


def test_a_mapping_file_can_rename_columns(tmp_path: Path) -> None:
    path = tmp_path / "mapping.yaml"
    path.write_text(
        "source: hub\nid: Badge holder\nplan: Formule\nbadges: Carte\n"
        "valid_until: Fin\ndate_formats: ['%d.%m.%Y']\nplan_names: {Résident: resident}\n",
        encoding="utf-8",
    )
    hub = load_mapping(path)
    members, _ = import_csv("Badge holder,Formule,Carte,Fin\nh1,Résident,0101,31.12.2026\n".encode(), hub, BASE)
    assert (members.members[-1].source, members.members[-1].valid_until) == ("hub", dt.date(2026, 12, 31))


def test_a_bad_mapping_file_names_the_key(tmp_path: Path) -> None:
    path = tmp_path / "mapping.yaml"
    path.write_text("source: hub\nid: x\nplan: y\nbadges: z\ndelimiter: '|'\ncolor: red\n")
    with pytest.raises(ConfigError) as caught:
        load_mapping(path)
    assert any(issue.startswith("delimiter:") for issue in caught.value.issues)
    assert any(issue.startswith("color: unknown key") for issue in caught.value.issues)


@settings(max_examples=150, deadline=None)
@given(st.text(alphabet=st.sampled_from(list(',;"\n\r\t aAbBm-01:,yesno\x00é')), max_size=300))
def test_any_text_either_imports_or_raises_a_config_error(body: str) -> None:
    try:
        members, report = import_csv((GENERIC_HEAD + body).encode("utf-8"), mapping("generic"), BASE)
    except ConfigError as exc:
        assert exc.issues and all(issue.startswith("export.csv") or issue.startswith("<csv>") for issue in exc.issues)
    else:
        assert len(members.members) == 1 + report.imported
