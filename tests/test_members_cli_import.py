"""`edge members import` run as the real CLI: the removal guard, the preview, and French Excel exports."""

from __future__ import annotations

from pathlib import Path

import pytest

from edge.staff.memberfile import load_member_file
from tests.access_support import PLANS_HEAD
from tests.rig.fixtures import run_edge

MEMBER_FILE = (
    PLANS_HEAD
    + """\
members:
  - {id: M-1, name: Ann Resident, plan: resident, badges: ["04:A2:3B:11:9C:80:00"]}
  - {id: S-1, name: Front desk, plan: staff, staff: true, badges: ["DEADBEEF01"]}
"""
)
PLAN_MAP = "plan_names: {Resident Desk: resident, Flex Monthly: flex}\n"
NEXUDUS_HEAD = "Coworker Id,Full Name,Email,Tariff,Access Card Id,Company Name,Start Date,End Date,Active\n"
FIVE = [
    "20481,Alice Martin,a@x.org,Resident Desk,04AA0001,,01/03/2025,,True\n",
    "20482,Bruno Petit,b@x.org,Flex Monthly,04AA0002,,01/09/2026,31/12/2026,True\n",
    "20483,Chloé Roux,c@x.org,Flex Monthly,04AA0003,ACME SARL,15/01/2026,,True\n",
    "20484,David Leroy,d@x.org,Flex Monthly,04AA0004,ACME SARL,15/01/2026,,True\n",
    "20485,Emma Girard,e@x.org,Resident Desk,04AA0005,,01/02/2026,,False\n",
]


@pytest.fixture
def site(tmp_path: Path) -> Path:
    """A staff folder whose member file holds two manual members and five imported from Nexudus."""
    (tmp_path / "members.yaml").write_text(MEMBER_FILE)
    (tmp_path / "nexudus.yaml").write_text(PLAN_MAP)
    (tmp_path / "export.csv").write_text(NEXUDUS_HEAD + "".join(FIVE))
    code, _, err = import_(tmp_path)
    assert code == 0, err
    assert len(load_member_file(tmp_path / "members.yaml").members) == 7
    return tmp_path


def import_(site: Path, *extra: str, csv: bytes | str | None = None, lang: str = "en") -> tuple[int, str, str]:
    """Write `csv` as the export (if given) and run `edge members import` on it with the Nexudus mapping.

    In English unless `lang` says otherwise (`""`: the default language, French).
    """
    if isinstance(csv, str):
        csv = csv.encode("utf-8")
    if csv is not None:
        (site / "export.csv").write_bytes(csv)
    result = run_edge(
        "members", "import", str(site / "export.csv"), "--format", "nexudus",
        "--mapping", str(site / "nexudus.yaml"), "--members", str(site / "members.yaml"), *extra,
        EDGE_LANG=lang,
    )  # fmt: skip
    return result.returncode, result.stdout, result.stderr


def nexudus_ids(site: Path) -> list[str]:
    """Ids of the members imported from Nexudus, as the member file now holds them."""
    return sorted(m.id for m in load_member_file(site / "members.yaml").members if m.source == "nexudus")


def assert_untouched(site: Path, before: bytes) -> None:
    """The member file is byte for byte what it was, and no temporary file was left beside it."""
    assert (site / "members.yaml").read_bytes() == before
    assert sorted(p.name for p in site.iterdir()) == ["export.csv", "members.yaml", "nexudus.yaml"]


# --- removals ---------------------------------------------------------------------------------------------


def test_a_header_only_export_is_refused_and_changes_nothing(site: Path) -> None:
    before = (site / "members.yaml").read_bytes()
    code, out, err = import_(site, csv=NEXUDUS_HEAD)
    assert code == 2
    assert "error: this import removes all 5 members imported from nexudus, leaving none" in err
    assert "the export has no member to import" in err
    assert "run the import again with --confirm-removals 5" in err
    for line in ("20481  Alice Martin", "20483  Chloé Roux", "20485  Emma Girard"):
        assert line in out
    assert_untouched(site, before)


def test_the_refusal_is_in_french_by_default(site: Path) -> None:
    before = (site / "members.yaml").read_bytes()
    code, out, err = import_(site, csv=NEXUDUS_HEAD, lang="")
    assert code == 2
    assert "error: cet import retire les 5 membres importés de nexudus, il n'en reste aucun" in err
    assert "relancez l'import avec --confirm-removals 5" in err
    assert "retirés (5 membres) :\n  20481  Alice Martin" in out
    assert "non importé : 0 membre de nexudus (nouveaux : 0, modifiés : 0, inchangés : 0, retirés : 5)" in out
    assert_untouched(site, before)


def test_an_unsupported_language_is_refused_naming_the_variable(site: Path) -> None:
    code, _, err = import_(site, lang="de")
    assert code == 2 and "error: EDGE_LANG: unsupported language 'de': choose one of fr, en" in err


def test_removing_more_than_a_fifth_is_refused_and_names_who_and_how_many(site: Path) -> None:
    before = (site / "members.yaml").read_bytes()
    code, out, err = import_(site, csv=NEXUDUS_HEAD + FIVE[0] + FIVE[1] + FIVE[4])
    assert code == 2
    assert "this import removes 2 of the 5 members imported from nexudus (40%), more than the 20%" in err
    assert "--confirm-removals 2" in err
    assert "removed (2 members):" in out and "20483  Chloé Roux" in out and "20484  David Leroy" in out
    assert "20481" not in out.split("removed (2 members):")[1]
    assert_untouched(site, before)


def test_removing_a_fifth_or_less_goes_through_and_lists_who(site: Path) -> None:
    code, out, err = import_(site, csv=NEXUDUS_HEAD + "".join(FIVE[:4]))
    assert code == 0, err
    assert "imported 4 members from nexudus (0 new, 0 changed, 4 unchanged, 1 removed)" in out
    assert "removed (1 member):" in out and "20485  Emma Girard" in out
    assert nexudus_ids(site) == ["20481", "20482", "20483", "20484"]


def test_a_confirmed_removal_of_every_member_goes_through(site: Path) -> None:
    code, out, err = import_(site, "--confirm-removals", "5", csv=NEXUDUS_HEAD)
    assert code == 0, err
    assert "removed (5 members):" in out
    assert nexudus_ids(site) == []
    assert {m.id for m in load_member_file(site / "members.yaml").members} == {"M-1", "S-1"}


def test_a_confirmation_of_another_number_is_refused(site: Path) -> None:
    before = (site / "members.yaml").read_bytes()
    code, _, err = import_(site, "--confirm-removals", "3", csv=NEXUDUS_HEAD)
    assert code == 2
    assert "the removal of 3 members was confirmed, but this import removes 5" in err
    assert_untouched(site, before)


def test_the_share_an_import_may_remove_is_an_option(site: Path) -> None:
    code, _, err = import_(site, "--max-removed", "40", csv=NEXUDUS_HEAD + FIVE[0] + FIVE[1] + FIVE[4])
    assert code == 0, err
    assert nexudus_ids(site) == ["20481", "20482", "20485"]


def test_removing_all_is_refused_whatever_share_is_allowed(site: Path) -> None:
    before = (site / "members.yaml").read_bytes()
    code, _, err = import_(site, "--max-removed", "100", csv=NEXUDUS_HEAD)
    assert code == 2 and "removes all 5 members" in err
    assert_untouched(site, before)


@pytest.mark.parametrize("value", ["-1", "101", "lots"])
def test_a_bad_share_is_refused(site: Path, value: str) -> None:
    code, _, err = import_(site, "--max-removed", value)
    assert code == 2 and f"argument --max-removed: {value!r} is not a percentage from 0 to 100" in err


def test_a_dry_run_lists_adds_changes_and_removals_and_says_it_would_be_refused(site: Path) -> None:
    before = (site / "members.yaml").read_bytes()
    changed = FIVE[1].replace("Flex Monthly", "Resident Desk")
    new = "20490,Zoé Martin,z@x.org,Flex Monthly,04AA0010,,,,True\n"
    code, out, err = import_(site, "--dry-run", csv=NEXUDUS_HEAD + FIVE[0] + changed + new)
    assert code == 2
    assert "dry run: would import 3 members from nexudus (1 new, 1 changed, 1 unchanged, 3 removed)" in out
    assert "added (1 member):\n  20490  Zoé Martin" in out
    assert "changed (1 member):\n  20482  Bruno Petit  (plan)" in out
    assert "removed (3 members):\n  20483  Chloé Roux\n  20484  David Leroy\n  20485  Emma Girard" in out
    assert "removes 3 of the 5 members" in err and "--confirm-removals 3" in err
    assert_untouched(site, before)


def test_a_dry_run_that_would_go_through_exits_0(site: Path) -> None:
    before = (site / "members.yaml").read_bytes()
    code, out, err = import_(site, "--dry-run", "--confirm-removals", "5", csv=NEXUDUS_HEAD)
    assert code == 0, err
    assert "dry run: would import 0 members from nexudus" in out and "removed (5 members):" in out
    assert_untouched(site, before)


# --- French Excel -----------------------------------------------------------------------------------------


def french_excel(text: str) -> bytes:
    """The export as Excel in French saves it: semicolons, CRLF, VRAI/FAUX, Windows-1252."""
    text = text.replace(",", ";").replace(";True\n", ";VRAI\n").replace(";False\n", ";FAUX\n")
    return text.replace("\n", "\r\n").encode("cp1252")


def test_the_export_saved_again_by_french_excel_imports_as_the_same_members(site: Path) -> None:
    before = {m.id: m for m in load_member_file(site / "members.yaml").members}
    code, out, err = import_(site, csv=french_excel(NEXUDUS_HEAD + "".join(FIVE)))
    assert code == 0, err
    assert "imported 5 members from nexudus (0 new, 0 changed, 5 unchanged, 0 removed)" in out
    after = {m.id: m for m in load_member_file(site / "members.yaml").members}
    assert after == before
    assert after["20483"].name == "Chloé Roux" and after["20485"].suspended


def test_a_french_excel_export_with_an_unreadable_byte_names_line_and_column(site: Path) -> None:
    before = (site / "members.yaml").read_bytes()
    raw = french_excel(NEXUDUS_HEAD + "".join(FIVE)).replace(b"David", b"Da\x8fvid")
    code, _, err = import_(site, csv=raw)
    assert code == 2
    assert f"error: {site / 'export.csv'}, line 5, column 'Full Name': byte 0x8F is not UTF-8 nor Windows-1252" in err
    assert "'CSV UTF-8 (Comma delimited)'" in err
    assert_untouched(site, before)
