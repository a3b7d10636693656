"""CSV import: platform exports read through documented mappings; bad rows named; all-or-nothing."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from edge.errors import ConfigError
from edge.i18n import Formatter
from edge.staff.csv_import import import_csv
from edge.staff.csv_mapping import MAPPINGS, CsvMapping, load_mapping
from edge.staff.memberfile import parse_member_file
from edge.staff.members import MemberFile

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
EN = Formatter("en")

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
    """A built-in mapping with the test site's plan names; `generic_min` reads only id, name, plan and badges."""
    if name == "generic_min":
        return CsvMapping(source="generic", id="member_id", name="name", plan="plan", badges="badges")
    return MAPPINGS[name].model_copy(update={"plan_names": PLAN_NAMES})


def run(name: str, text: str, base: MemberFile = BASE) -> MemberFile:
    """Import CSV text with a built-in mapping."""
    return import_csv(text.encode("utf-8"), mapping(name), base, source="export.csv")[0]


def errors(name: str, text: str, base: MemberFile = BASE) -> list[str]:
    """The errors an import of UTF-8 text raises."""
    return errors_raw(name, text.encode("utf-8"), base)


def errors_raw(name: str, raw: bytes, base: MemberFile = BASE, fmt: Formatter = EN) -> list[str]:
    """The errors an import of bytes raises, in English unless `fmt` says otherwise."""
    with pytest.raises(ConfigError) as caught:
        import_csv(raw, mapping(name), base, source="export.csv", fmt=fmt)
    return caught.value.issues


def test_the_nexudus_example_imports() -> None:
    raw = (EXAMPLES / "members-nexudus.csv").read_bytes()
    members, report = import_csv(raw, mapping("nexudus"), BASE, source="members-nexudus.csv", fmt=EN)
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


# --- French Excel and encodings ---------------------------------------------------------------------------

FRENCH_GENERIC = (
    "member_id;name;plan;badges;valid_from;valid_until;suspended;account;staff\r\n"
    "m-1;Zoë Lœuvre;flex;04A1;01/09/2026;31/12/2026;FAUX;Café L’Étable;NON\r\n"
    "m-2;Benoît Ça;resident;04A2;2026-01-01;;VRAI;;OUI\r\n"
    "m-3;Ana;flex;04A3;;;Faux;;vrai\r\n"
)


def test_a_generic_sheet_saved_by_french_excel_imports_as_it_is() -> None:
    # Windows-1252 (œ and ’ exist there, not in Latin-1), semicolons, CRLF, VRAI/FAUX and OUI/NON, dd/mm/yyyy.
    members, _ = import_csv(FRENCH_GENERIC.encode("cp1252"), mapping("generic"), BASE, source="export.csv")
    by_id = {m.id: m for m in members.members}
    zoe, benoit, ana = by_id["m-1"], by_id["m-2"], by_id["m-3"]
    assert (zoe.name, zoe.account) == ("Zoë Lœuvre", "Café L’Étable")
    assert (zoe.valid_from, zoe.valid_until) == (dt.date(2026, 9, 1), dt.date(2026, 12, 31))
    assert (zoe.suspended, zoe.staff) == (False, False)
    assert (benoit.name, benoit.suspended, benoit.staff) == ("Benoît Ça", True, True)
    assert (ana.suspended, ana.staff) == (False, True)


def test_the_same_sheet_reads_the_same_in_utf8_with_and_without_bom_and_utf16() -> None:
    cp1252 = import_csv(FRENCH_GENERIC.encode("cp1252"), mapping("generic"), BASE)[0]
    for raw in (
        FRENCH_GENERIC.encode("utf-8"),
        FRENCH_GENERIC.encode("utf-8-sig"),
        FRENCH_GENERIC.replace(";", "\t").encode("utf-16"),  # Excel's "Unicode text"
    ):
        assert import_csv(raw, mapping("generic"), BASE)[0] == cp1252


@pytest.mark.parametrize(
    ("true", "false"), [("VRAI", "FAUX"), ("vrai", "faux"), ("True", "False"), ("1", "0"), ("yes", "no")]
)
def test_nexudus_active_reads_french_and_english_flags(true: str, false: str) -> None:
    header = "Coworker Id;Full Name;Email;Tariff;Access Card Id;Company Name;Start Date;End Date;Active\n"
    rows = f"1;Ann;;Resident Desk;04A1;;;;{true}\n2;Ben;;Resident Desk;04A2;;;;{false}\n"
    active, inactive = (m for m in run("nexudus", header + rows).members if m.source == "nexudus")
    assert (active.suspended, inactive.suspended) == (False, True)


def test_a_mapping_file_with_english_flags_accepts_their_french_counterparts(tmp_path: Path) -> None:
    path = tmp_path / "mapping.yaml"
    path.write_text(
        "source: hub\nid: id\nplan: plan\nbadges: card\nsuspended: {column: off, true: [yes], false: [no]}\n"
    )
    hub = load_mapping(path)
    members, _ = import_csv(b"id;plan;card;off\nh1;flex;0101;OUI\nh2;flex;0102;Non\n", hub, BASE)
    assert [m.suspended for m in members.members if m.source == "hub"] == [True, False]


@pytest.mark.parametrize("name", sorted(MAPPINGS))
def test_every_built_in_mapping_reads_the_dates_french_excel_writes_back(name: str) -> None:
    assert {"%d/%m/%Y", "%d/%m/%Y %H:%M"} <= set(MAPPINGS[name].date_formats)


def test_a_file_neither_utf8_nor_cp1252_is_named_by_line_and_column_with_the_fix() -> None:
    raw = (GENERIC_HEAD + "m-1,Zoé,flex,04A1,,,no,,no\n").encode("cp1252") + b"m-2,Ab\x81c,flex,04A2,,,no,,no\n"
    assert errors_raw("generic", raw) == [
        "export.csv, line 3, column 'name': byte 0x81 is not UTF-8 nor Windows-1252 (cp1252) text; in Excel, open "
        "it and use File > Save As > 'CSV UTF-8 (Comma delimited)', then import that file"
    ]


def test_messages_are_in_french_by_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("EDGE_LANG", raising=False)
    raw = (GENERIC_HEAD + "m-1,Zoé,flex,04A1,,,no,,no\n").encode("cp1252") + b"m-2,Ab\x81c,flex,04A2,,,no,,no\n"
    with pytest.raises(ConfigError) as caught:
        import_csv(raw, mapping("generic"), BASE, source="export.csv")
    assert caught.value.issues == [
        "export.csv, ligne 3, colonne 'name' : l'octet 0x81 n'est ni du texte UTF-8 ni du Windows-1252 (cp1252) ; "
        "dans Excel, ouvrez-le puis Fichier > Enregistrer sous > « CSV UTF-8 (délimité par des virgules) », et "
        "importez ce fichier"
    ]


def test_a_file_mixing_utf8_and_cp1252_is_refused_naming_both_lines() -> None:
    raw = (GENERIC_HEAD + "m-1,Chloé,flex,04A1,,,no,,no\n").encode() + "m-2,José,flex,04A2,,,no,,no\n".encode("cp1252")
    (issue,) = errors_raw("generic", raw)
    assert issue.startswith("export.csv, line 3, column 'name': this line is not UTF-8 while line 2 is")
    assert "CSV UTF-8" in issue


def test_a_utf8_bom_followed_by_other_bytes_is_refused() -> None:
    raw = b"\xef\xbb\xbf" + (GENERIC_HEAD + "m-1,Zoé,flex,04A1,,,no,,no\n").encode("cp1252")
    (issue,) = errors_raw("generic", raw)
    assert issue.startswith("export.csv, line 2, column 'name': the file starts with a UTF-8 byte-order mark but")


def test_an_encoding_set_in_the_mapping_is_used_strictly() -> None:
    raw = (GENERIC_HEAD + "m-1,Zoë,flex,04A1,,,no,,no\n").encode("cp1252")
    utf8 = mapping("generic").model_copy(update={"encoding": "utf-8"})
    with pytest.raises(ConfigError) as caught:
        import_csv(raw, utf8, BASE, source="export.csv", fmt=EN)
    assert caught.value.issues[0].startswith(
        "export.csv, line 2, column 'name': byte 0xEB is not utf-8 text, the encoding the mapping sets"
    )
    cp1252 = mapping("generic").model_copy(update={"encoding": "cp1252"})
    assert import_csv(raw, cp1252, BASE)[0].members[-1].name == "Zoë"


def test_a_wrong_encoding_set_in_the_mapping_is_caught_by_its_control_characters() -> None:
    # Read as Latin-1, Windows-1252's ’ (0x92) becomes the control character U+0092: refused, not imported.
    raw = (GENERIC_HEAD + "m-1,L’Ane,flex,04A1,,,no,,no\n").encode("cp1252")
    latin1 = mapping("generic").model_copy(update={"encoding": "latin-1"})
    with pytest.raises(ConfigError, match=r"line 2, column 'name': control character U\+0092"):
        import_csv(raw, latin1, BASE, source="export.csv", fmt=EN)


def test_an_unknown_encoding_in_a_mapping_file_is_named(tmp_path: Path) -> None:
    path = tmp_path / "mapping.yaml"
    path.write_text("source: hub\nid: x\nplan: y\nbadges: z\nencoding: klingon\n")
    with pytest.raises(ConfigError) as caught:
        load_mapping(path)
    assert any(issue.startswith("encoding: unknown encoding 'klingon'") for issue in caught.value.issues)


@pytest.mark.parametrize(
    ("raw", "kind"), [(b"PK\x03\x04\x14\x00\x06\x00", "xlsx or ods"), (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1\x00", "xls")]
)
def test_a_workbook_given_for_a_csv_says_to_save_it_as_csv(raw: bytes, kind: str) -> None:
    (issue,) = errors_raw("generic", raw)
    assert issue.startswith(f"export.csv: this is a spreadsheet workbook ({kind}), not a CSV file: in Excel")


def test_utf16_without_its_byte_order_mark_is_refused_not_misread() -> None:
    raw = (GENERIC_HEAD + "m-1,Zoé,flex,04A1,,,no,,no\n").encode("utf-16-le")
    (issue,) = errors_raw("generic", raw)
    assert issue.startswith("export.csv, line 1: NUL bytes: the file looks like UTF-16 text without its byte-order")


def test_a_control_character_is_named_by_line_and_column() -> None:
    (issue,) = errors("generic", GENERIC_HEAD + "m-1,Ann,flex,04A1,,,no,AC\x02ME,no\n")
    assert issue.startswith("export.csv, line 2, column 'account': control character U+0002")


def test_the_delimiter_is_the_one_that_finds_the_mapping_columns() -> None:
    # More commas than semicolons on the header line: counting characters would pick the comma.
    header = 'member_id;name;plan;badges;"Notes (free text, one, two, three, four, five)"\n'
    members, _ = import_csv((header + "m-1;Ann, Marie;flex;04A1;x, y\n").encode(), mapping("generic_min"), BASE)
    assert members.members[-1].name == "Ann, Marie"


def test_tab_separated_exports_are_read() -> None:
    members = run("generic", GENERIC_HEAD.replace(",", "\t") + "m-1\tAnn\tflex\t04A1\t\t\tno\t\tno\n")
    assert members.members[-1].id == "m-1"


@pytest.mark.parametrize("cell", ["1,23457E+13", "1.23457E+13", "4,5e+09"])
def test_a_badge_excel_turned_into_a_number_says_so(cell: str) -> None:
    (issue,) = errors("generic", GENERIC_HEAD + f'm-1,Ann,flex,"{cell}",,,no,,no\n')
    assert issue.startswith(f"export.csv, line 2, column 'badges': {cell!r} is a number Excel rewrote")


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


def test_a_bad_mapping_file_names_the_line_of_the_key(tmp_path: Path) -> None:
    path = tmp_path / "mapping.yaml"
    path.write_text(
        "source: hub\nid: x\nplan: y\nbadges: z\nsuspended:\n  column: Active\n  true: [no]\n  maybe: [x]\n"
    )
    with pytest.raises(ConfigError) as caught:
        load_mapping(path)
    assert caught.value.issues == [
        f"suspended.false: required key is missing ({path}, line 5)",
        f"suspended.maybe: unknown key ({path}, line 8)",
    ]


def test_a_mapping_file_that_is_not_yaml_says_where(tmp_path: Path) -> None:
    path = tmp_path / "mapping.yaml"
    path.write_text("source: hub\nid: [x\nplan: y\n", encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_mapping(path, fmt=EN)
    assert caught.value.issues[0].startswith(f"{path}: cannot read the mapping: line 3: ")


@settings(max_examples=150, deadline=None)
@given(st.text(alphabet=st.sampled_from(list(',;"\n\r\t aAbBm-01:,yesno\x00é')), max_size=300))
def test_any_text_either_imports_or_raises_a_config_error(body: str) -> None:
    try:
        members, report = import_csv((GENERIC_HEAD + body).encode("utf-8"), mapping("generic"), BASE)
    except ConfigError as exc:
        assert exc.issues and all(issue.startswith("export.csv") or issue.startswith("<csv>") for issue in exc.issues)
    else:
        assert len(members.members) == 1 + report.imported


def test_the_mapping_example_in_the_docs_loads(tmp_path: Path) -> None:
    # YAML 1.1 would read its `true:`/`false:` keys and a cell value such as yes as booleans.
    docs = (Path(__file__).resolve().parent.parent / "docs" / "members.md").read_text(encoding="utf-8")
    example = docs.split("### Adjusting a mapping", 1)[1].split("```yaml\n", 1)[1].split("```", 1)[0]
    path = tmp_path / "nexudus.yaml"
    path.write_text(example + "suspended: {column: Active, true: [no, off], false: [yes, on]}\nname: 0123\n")
    nexudus = load_mapping(path)
    assert nexudus.suspended is not None and nexudus.suspended.true[:2] == ("no", "off")
    assert (nexudus.name, nexudus.skip_without_plan, nexudus.delimiter) == ("0123", True, ";")
    assert nexudus.plan_names["Flex Monthly"] == "flex"
