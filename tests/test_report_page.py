"""The report page and its CSV: self-contained, with the plots, the figures, the withheld marks — and nothing that
names a person, even when the store it was made from is full of member ids and badge tokens.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from pathlib import Path

import pytest

from edge.collector.store import Store
from edge.report import csvfile, page
from edge.report.build import csv_path, write_report
from edge.report.figures import compute
from edge.report.period import Period
from edge.schedule import parse_schedule
from tests.report_support import ASSUMPTIONS, DAY, HOURS, MEMBERS, PERIOD, TOKENS, TZ, data, write_members_store


@pytest.fixture(scope="module")
def hand() -> tuple[str, str]:
    """Page (in English) and CSV of the hand-computed dataset of tests/report_support.py (k = 2)."""
    figures = compute(data(), PERIOD, HOURS, ASSUMPTIONS)
    ctx = page.Context("site", PERIOD, HOURS, ASSUMPTIONS, "test", 3600, "now")
    return page.render(figures, ctx, "en"), csvfile.render(figures, ctx)


@pytest.fixture(scope="module")
def french() -> str:
    """The same page in French, the default language."""
    figures = compute(data(), PERIOD, HOURS, ASSUMPTIONS)
    return page.render(figures, page.Context("site", PERIOD, HOURS, ASSUMPTIONS, "test", 3600, "now"))


def test_the_page_holds_its_plots_as_inline_svg(hand) -> None:
    html, _ = hand
    svgs = re.findall(r"<svg\b[^>]*>", html)
    assert len(svgs) >= 6  # heatmap, utilisation, peak vs average, daily peaks, members per day, time on site
    assert all('xmlns="http://www.w3.org/2000/svg"' in s and 'role="img"' in s for s in svgs)
    assert html.count('class="cell"') == 8  # one coloured heatmap cell per weekday x hour with data
    assert "<rect" in html and "<text" in html


@pytest.mark.parametrize(
    "heading",
    [
        "When the space is used",
        "Utilisation per zone within opening hours",
        "Peak and average concurrent occupancy",
        "Members: unique per day and week, member-days",
        "Average visit length",
        "Commuting avoided (estimate)",
        "How complete the evidence is",
        "Method, assumptions and privacy",
    ],
)
def test_the_page_has_every_section(hand, heading) -> None:
    assert f"<h2>{heading}" in hand[0].replace("&amp;", "&")


def test_the_page_is_self_contained(hand) -> None:
    html, _ = hand
    assert "<script" not in html
    assert not re.search(r"\b(src|href)=", html)
    assert "url(" not in html
    assert set(re.findall(r"https?://[^\s\"'<]+", html)) == {"http://www.w3.org/2000/svg"}


def test_the_page_prints_every_assumption(hand) -> None:
    html, _ = hand
    for text in ("withheld (&lt;2)", "every 60 min", "Mon-Fri 09:00-12:00"):
        assert text in html


def test_the_page_shows_each_modes_arithmetic_and_the_source_of_its_factor(hand) -> None:
    html = hand[0].replace("&#39;", "'")
    assert "6 × 50.00% × 10.0 km × 2 × 1.0 = 60 km" in html  # car
    assert "60 km × 0.2 kg/km = 12.0 kg CO₂e" in html
    assert "6 × 50.00% × 20.0 km × 2 × 1.0 = 120 km" in html  # regional train
    assert "120 km × 0.0277 kg/km = 3.3 kg CO₂e" in html
    sources = html[html.index("Sources of the emission factors") :]
    assert "figure given by the site" in sources  # the car's 0.2, given without a source
    impact_co2 = "ADEME, Impact CO2 (Base Empreinte®), impactco2.fr transport data, commit 2d15480 of 2026-06-01"
    assert f"{impact_co2} (2026)" in sources


def test_a_factor_changed_by_the_site_no_longer_carries_ademes_name(hand) -> None:
    sources = hand[0][hand[0].index("Sources of the emission factors") :]
    car_row = re.search(r"<tr><td>car \(thermal\)</td>.*?</tr>", sources, re.S)
    assert car_row is not None
    assert "figure given by the site" in car_row.group(0) and "ADEME" not in car_row.group(0)


def test_the_page_shows_the_hand_computed_figures(hand) -> None:
    html, _ = hand
    assert "60%" in html  # site utilisation 9/15
    assert "3 h 38 min" in html  # average time on site 13050 s
    assert "180 km" in html  # 60 km by car + 120 km by train
    assert "93%" in html  # 28 of 30 events received
    assert "67%" in html  # occupancy data for 6 of 9 open instants
    assert "&lt;2" in html  # Wednesday's lone member


def test_the_page_is_french_by_default(french) -> None:
    assert '<html lang="fr">' in french
    for text in (
        "Rapport d'occupation et d'impact",
        "Quand l'espace est utilisé",
        "Trajets domicile-travail évités (estimation)",
        "Méthode, hypothèses et confidentialité",
        "chiffre donné par le site",
        "train régional (TER)",
        "lun.-ven. 09:00-12:00",
        "du 23 novembre 2026 au 25 novembre 2026",
    ):
        assert text in french.replace("&#39;", "'"), text


def test_french_numbers_dates_and_plurals(french) -> None:
    nbsp, nnbsp = "\u00a0", "\u202f"
    assert f"60{nbsp}%" in french  # site utilisation, French spacing
    assert "1,5" in french  # the site's average while open, decimal comma
    assert "lun. 23 nov. 09:00" in french  # the site's peak
    assert "3 jours d'ouverture" in french.replace("&#39;", "'")  # plural
    assert "120 km × 0,0277 kg/km = 3,3 kg CO₂e" in french
    assert "Occupancy" not in french and "Commuting" not in french
    assert nnbsp not in french or "1" + nnbsp in french  # thousands (none here) use a narrow space


def test_one_opening_day_is_singular_in_french() -> None:
    period = Period(DAY, DAY, TZ)
    ctx = page.Context("site", period, HOURS, ASSUMPTIONS, "test", 3600, "now")
    html = page.render(compute(data(), period, HOURS, ASSUMPTIONS), ctx, "fr").replace("&#39;", "'")
    assert "1 jour d'ouverture." in html


def csv_rows(text: str) -> dict[tuple[str, str, str], tuple[str, str]]:
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0] == csvfile.HEADER
    return {(r[0], r[1], r[2]): (r[3], r[5]) for r in rows[1:]}


@pytest.mark.parametrize(
    ("key", "value", "note"),
    [
        (("occupancy", "site", "utilisation_open"), "0.6", ""),
        (("occupancy", "site", "peak_occupied"), "2", "2026-11-23T09:00+01:00"),
        (("occupancy", "a", "unknown_share_open"), "0.166667", ""),
        (("members", "site", "member_days"), "6", "counted"),
        (("members", "site", "unique_members"), "3", ""),
        (("day", "2026-11-25", "unique_members"), "", "withheld (<2)"),
        (("day", "2026-11-25", "peak_occupied"), "", "no data"),
        (("week", "2026-W48", "unique_members"), "3", "2026-11-23 to 2026-11-25"),
        (("visits", "site", "average_length"), "13050", "measured"),
        (("visit_length", "2–4 h", "member_days"), "", "withheld (<2)"),
        (("commuting", "site", "km_avoided"), "180", "estimate"),
        (("commuting", "site", "kg_co2e_avoided"), "15.3228", "estimate"),
        (("commuting", "mode:car", "km_avoided"), "60", "estimate"),
        (("commuting", "mode:train_ter", "kg_co2e_avoided"), "3.3228", "estimate"),
        (("completeness", "desks", "missing"), "2", ""),
        (("completeness", "all", "occupancy_coverage_open"), "0.666667", ""),
        (("assumption", "commuting:car", "kg_co2e_per_km"), "0.2", "figure given by the site"),
        (("assumption", "commuting:car", "share"), "0.5", ""),
        (("assumption", "commuting:train_ter", "one_way_km"), "20", ""),
        (
            ("assumption", "commuting:train_ter", "kg_co2e_per_km"),
            "0.02769",
            "ADEME, Impact CO2 (Base Empreinte®); impactco2.fr transport data, commit 2d15480 of 2026-06-01; 2026",
        ),
    ],
)
def test_the_csv_holds_the_figures(hand, key, value, note) -> None:
    assert csv_rows(hand[1])[key] == (value, note)


def test_the_excel_dialect_has_the_same_rows_with_semicolons_and_decimal_commas() -> None:
    figures = compute(data(), PERIOD, HOURS, ASSUMPTIONS)
    ctx = page.Context("site", PERIOD, HOURS, ASSUMPTIONS, "test", 3600, "now")
    standard = list(csv.reader(io.StringIO(csvfile.render(figures, ctx))))
    text = csvfile.render(figures, ctx, "excel-fr")
    assert text.startswith("\ufeffsection;subject;metric;value;unit;note\r\n")
    excel = list(csv.reader(io.StringIO(text.removeprefix("\ufeff")), delimiter=";"))
    assert len(excel) == len(standard)
    for a, b in zip(standard, excel, strict=True):
        assert a[:3] == b[:3] and a[4:] == b[4:]
        assert b[3] == a[3].replace(".", ",") if a[3][:1].isdigit() else b[3] == a[3]
    assert ["commuting", "site", "kg_co2e_avoided", "15,3228", "kg", "estimate"] in excel


@pytest.fixture(scope="module")
def written(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, str]:
    tmp = tmp_path_factory.mktemp("report-page")
    write_members_store(tmp / "c.sqlite3")
    out = write_report(
        tmp / "c.sqlite3", tmp / "out" / "report.html", day=DAY, directions={"front-out": "out"}, lang="en"
    )
    return out.read_text(encoding="utf-8"), csv_path(out).read_text(encoding="utf-8")


@pytest.mark.parametrize("what", ["html", "csv"])
def test_no_member_id_or_badge_token_reaches_the_report(written, what) -> None:
    text = written[0] if what == "html" else written[1]
    for member in MEMBERS:
        assert member not in text
        assert member.split("-")[1] not in text  # not even a part of it
        assert TOKENS[member] not in text
    assert "f" * 32 not in text
    assert not re.search(r"[0-9a-f]{32}", text)  # nothing shaped like a token
    assert not re.search(r"\b(door|desks)-\d+\b", text)  # no event id


def test_the_written_report_counts_those_members(written) -> None:
    rows = csv_rows(written[1])
    assert rows[("members", "testsite", "unique_members")] == ("6", "")
    assert rows[("visits", "testsite", "method")] == ("measured", "")
    assert rows[("visits", "testsite", "average_length")] == (str(8 * 3600), "measured")  # 4 h + 4 h each


def test_write_report_writes_the_csv_next_to_the_page(tmp_path: Path) -> None:
    store = Store(tmp_path / "c.sqlite3")
    store.close()
    out = write_report(
        tmp_path / "c.sqlite3", tmp_path / "r.html", start=DAY, end=DAY + dt.timedelta(days=2), lang="en"
    )
    assert out == tmp_path / "r.html"
    assert sorted(p.name for p in tmp_path.iterdir() if p.suffix in (".html", ".csv")) == ["r.csv", "r.html"]
    assert "No member-days in the period" in out.read_text()


@pytest.mark.parametrize(
    ("hours", "outlines"),
    [
        ("mon-fri 09:00-12:00", [(0, 9, 11), (1, 9, 11), (2, 9, 11)]),
        ("mon,wed 08:30-12:00,14:00-18:00", [(0, 8, 11), (0, 14, 17), (2, 8, 11), (2, 14, 17)]),
        ("mon 22:00-02:00", [(0, 22, 23), (1, 0, 1)]),  # the night runs into Tuesday's row
    ],
)
def test_the_heatmap_outlines_every_window_of_the_opening_hours(
    hours: str, outlines: list[tuple[int, int, int]]
) -> None:
    ctx = page.Context("site", PERIOD, parse_schedule(hours), ASSUMPTIONS, "test", 3600, "now")
    html = page.render(compute(data(), PERIOD, ctx.hours, ASSUMPTIONS), ctx)
    # outlines are (row, first hour, last hour); the heatmap's cells are 40 x 28 from (44, 22)
    drawn = re.findall(r'<rect x="(\d+)" y="(\d+)" width="(\d+)" height="28" fill="none"', html)
    assert sorted(drawn) == sorted(
        (str(44 + first * 40), str(22 + row * 28), str((last - first + 1) * 40)) for row, first, last in outlines
    )
