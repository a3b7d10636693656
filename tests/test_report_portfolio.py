"""The network's portfolio: figures from a hand-checkable small network written into a real central store
(VictoriaMetrics behind vmauth), read back by the real `edge report --network`, in French and in English.

The case, one local day (Tuesday 24 November 2026, Europe/Paris), every figure worked out in the comments:

* la-ruche: 10 desks every hour; open 08:00-18:00 (10 h); 5 desks occupied each open hour but 12:00-13:00 (8);
  peak 9 desks at 12:30; its desk node numbered events 101..300 during the day, all received.
* le-hangar: figures for 00:00-12:00 only (12 of 24 hours); 4 desks, open 09:00-12:00 (3 h), 2 occupied each open
  hour, one desk's state unknown from 09:00 to 10:00; peak 3 at 10:00; its node numbered 50 events, 45 received.
* la-fabrique: in the network's list, sent nothing.
* member aggregates (written as a site's collector writes them, issue 16): la-ruche had 23 members that day, 31
  entries, 20 measured visits of 3 h each; 45 different members in November, an estimated 120 ± 4 in 2026;
  le-hangar 3 members and 4 entries that day, 2 measured visits, 4 members in November: all withheld (below 5).
* le-garage: sent figures but is not in the network's list.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import subprocess
from collections.abc import Iterator
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from edge.collector.schema import (
    Completeness,
    SiteUsage,
    StateCounts,
    completeness_point,
    site_hourly_point,
    site_occupancy_point,
)
from edge.config.loader import load_network_config
from edge.report.central import SiteReadings
from edge.report.portfolio import Flag, compute, hours_expected
from tests.rig.central import Central
from tests.rig.fixtures import REPO, run_edge

PARIS = ZoneInfo("Europe/Paris")
DAY = dt.date(2026, 11, 24)
HOUR_MS = 3_600_000
SITES = ["la-ruche", "le-hangar", "la-fabrique", "le-garage"]


def local_ms(hour: int, minute: int = 0, day: dt.date = DAY) -> int:
    return int(dt.datetime.combine(day, dt.time(hour, minute), PARIS).timestamp() * 1000)


def ruche_lines() -> list[str]:
    lines = []
    for hour in range(24):
        is_open = 8 <= hour < 18
        occupied = (8 if hour == 12 else 5) if is_open else 0
        usage = SiteUsage(
            desks=10,
            open_s=3600 if is_open else 0,
            occupied_s=occupied * 3600,
            known_s=36000,
            open_occupied_s=occupied * 3600,
            open_known_s=36000 if is_open else 0,
            open_desk_s=36000 if is_open else 0,
        )
        lines.append(site_hourly_point("la-ruche", local_ms(hour), usage).line())
    lines.append(site_occupancy_point("la-ruche", local_ms(10), StateCounts(5, 5, 0)).line())
    lines.append(site_occupancy_point("la-ruche", local_ms(12, 30), StateCounts(9, 1, 0)).line())
    before, end = local_ms(0, 0, DAY - dt.timedelta(days=1)), local_ms(23, 59)
    lines.append(completeness_point("la-ruche", "desks-1", before, Completeness(100, 100, 0)).line())
    lines.append(completeness_point("la-ruche", "desks-1", end, Completeness(300, 300, 0)).line())
    return lines


def hangar_lines() -> list[str]:
    lines = []
    for hour in range(12):
        is_open = 9 <= hour < 12
        known = (3 if hour == 9 else 4) * 3600 if is_open else 0
        usage = SiteUsage(
            desks=4,
            open_s=3600 if is_open else 0,
            occupied_s=7200 if is_open else 0,
            known_s=known if is_open else 14400,
            open_occupied_s=7200 if is_open else 0,
            open_known_s=known,
            open_desk_s=14400 if is_open else 0,
        )
        lines.append(site_hourly_point("le-hangar", local_ms(hour), usage).line())
    lines.append(site_occupancy_point("le-hangar", local_ms(10), StateCounts(3, 1, 0)).line())
    lines.append(completeness_point("le-hangar", "desks-1", local_ms(11), Completeness(50, 45, 1)).line())
    return lines


def member_lines() -> dict[str, list[str]]:
    ns = 1_000_000  # line protocol times in nanoseconds
    midnight, november = local_ms(0) * ns, local_ms(0, 0, dt.date(2026, 11, 1)) * ns
    new_year = local_ms(0, 0, dt.date(2026, 1, 1)) * ns
    return {
        "la-ruche": [
            f"members_daily,site=la-ruche members=23i,entries=31i,measured=20i,visit_s={20 * 3 * 3600}i {midnight}",
            f"members_monthly,site=la-ruche members=45i,member_days=300i,days=30i {november}",
            f"members_yearly,site=la-ruche members=120i,error=4i,member_days=2000i,days=334i,final=0i {new_year}",
        ],
        "le-hangar": [
            f"members_daily,site=le-hangar members=3i,entries=4i,measured=2i,visit_s=7200i {midnight}",
            f"members_monthly,site=le-hangar members=4i,member_days=9i,days=30i {november}",
        ],
    }


def garage_lines() -> list[str]:
    return [site_hourly_point("le-garage", local_ms(hour), SiteUsage(desks=3, open_s=0)).line() for hour in range(24)]


@pytest.fixture(scope="module")
def central(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Central]:
    server = Central(tmp_path_factory.mktemp("central"), SITES)
    server.start()
    members = member_lines()
    for site, lines in (("la-ruche", ruche_lines()), ("le-hangar", hangar_lines()), ("le-garage", garage_lines())):
        assert server.write_as(site, "\n".join(lines + members.get(site, []))) == 204
    server.flush()
    yield server
    server.kill()


def network_file(folder: Path, central: Central, *, extra: str = "") -> Path:
    (folder / "portfolio.password").write_text(central.reader[1] + "\n")
    path = folder / "network.yaml"
    path.write_text(
        f"""network:
  name: Réseau des tiers-lieux du Diois
  url: {central.url}
  password_file: portfolio.password
  ca_file: {central.ca}
  sites:
    - {{id: la-ruche, name: "La Ruche (Crest)"}}
    - {{id: le-hangar, name: "Le Hangar (Die)"}}
    - {{id: la-fabrique, name: "La Fabrique (Saillans)"}}
{extra}"""
    )
    return path


def report(folder: Path, central: Central, *args: str, **env: str) -> tuple[str, list[dict[str, str]]]:
    config = network_file(folder, central)
    out = folder / "portfolio.html"
    period = args or ("--day", str(DAY))
    done = run_edge("report", "--network", "-c", str(config), *period, "-o", str(out), **env)
    assert done.returncode == 0, done.stdout + done.stderr
    text = (folder / "portfolio.csv").read_text(encoding="utf-8")
    delimiter = ";" if env.get("EDGE_LANG", "fr") == "fr" else ","
    return out.read_text(encoding="utf-8"), list(csv.DictReader(io.StringIO(text), delimiter=delimiter))


@pytest.fixture(scope="module")
def french(central: Central, tmp_path_factory: pytest.TempPathFactory) -> tuple[str, list[dict[str, str]]]:
    return report(tmp_path_factory.mktemp("fr"), central, EDGE_LANG="fr")


def row(rows: list[dict[str, str]], site: str) -> dict[str, str]:
    return next(r for r in rows if r["Identifiant du site"] == site)


def test_each_site_gets_its_utilisation_average_desk_hours_and_peak_within_its_own_opening_hours(
    french: tuple[str, list[dict[str, str]]],
) -> None:
    _html, rows = french
    ruche = row(rows, "la-ruche")
    # 10 open hours: 9 x 5 + 8 occupied desks = 53 desk-hours of 100 known; 53 / 10 h = 5.3 desks on average
    assert (ruche["Postes de travail"], ruche["Heures d'ouverture"]) == ("10", "10,0")
    assert (ruche["Taux d'occupation"], ruche["Postes occupés en moyenne"]) == ("0,5300", "5,30")
    assert ruche["Heures-poste occupées"] == "53,0"
    assert (ruche["Pic"], ruche["Heure du pic"]) == ("9", "2026-11-24T12:30:00+01:00")
    hangar = row(rows, "le-hangar")
    # 3 open hours, 2 occupied each: 6 desk-hours of 11 known (3 + 4 + 4); 12 desk-hours open, 1 unknown
    assert (hangar["Taux d'occupation"], hangar["Postes occupés en moyenne"]) == ("0,5455", "2,00")
    assert hangar["Temps-poste à l'état inconnu"] == "0,0833"
    assert (hangar["Pic"], hangar["Heure du pic"]) == ("3", "2026-11-24T10:00:00+01:00")


def test_the_network_row_adds_desks_and_desk_hours_and_recomputes_utilisation_from_the_sums(
    french: tuple[str, list[dict[str, str]]],
) -> None:
    _html, rows = french
    network = row(rows, "")
    assert network["Site"] == "Réseau"
    assert network["Postes de travail"] == "14"  # 10 + 4 + 0: le-garage is not in the network's list
    assert network["Taux d'occupation"] == "0,5315"  # (190,800 + 21,600) / (360,000 + 39,600) desk-seconds
    assert network["Heures-poste occupées"] == "59,0"
    assert (network["Pic"], network["Postes occupés en moyenne"]) == ("", "")  # peaks and averages do not add up
    assert (network["Heures avec données"], network["Heures attendues"]) == ("36", "72")
    assert (network["Événements reçus"], network["Événements attendus"]) == ("245", "250")


def test_sites_without_complete_data_are_flagged_with_the_reason(french: tuple[str, list[dict[str, str]]]) -> None:
    html, rows = french
    assert row(rows, "la-ruche")["Données incomplètes"] == ""
    assert (row(rows, "la-ruche")["Événements reçus"], row(rows, "la-ruche")["Événements attendus"]) == ("200", "200")
    hangar = row(rows, "le-hangar")["Données incomplètes"]
    assert "12 heures sur 24 sans données" in hangar
    assert "5 événements sur 50 non reçus" in hangar
    assert row(rows, "la-fabrique")["Données incomplètes"] == "aucune donnée pour les 24 heures de la période"
    assert row(rows, "le-garage")["Données incomplètes"] == "absent de la liste des sites du réseau"
    assert "3 sites ont des données incomplètes pour cette période" in html
    assert "dernières données : 24 nov. 2026, 11:00" in html


def test_member_days_entries_and_visits_come_from_each_sites_daily_aggregates_small_counts_withheld(
    french: tuple[str, list[dict[str, str]]],
) -> None:
    html, rows = french
    ruche, hangar, network = row(rows, "la-ruche"), row(rows, "le-hangar"), row(rows, "")
    assert (ruche["Journées-membres"], ruche["Entrées"], ruche["Visite moyenne (secondes)"]) == ("23", "31", "10800")
    assert (hangar["Journées-membres"], hangar["Entrées"], hangar["Visite moyenne (secondes)"]) == ("", "", "")
    assert "comptes de membres inférieurs à 5 non publiés" in hangar["Données incomplètes"]
    # the network adds member-days (23 + 3) and entries (31 + 4); its visit is 20 x 3 h + 2 h over 22 visits
    assert (network["Journées-membres"], network["Entrées"], network["Visite moyenne (secondes)"]) == (
        "26",
        "35",
        "10145",
    )
    assert ruche["Membres distincts"] == "" and "choisissez un mois ou une année" in html  # one day: not counted
    assert "3 h 00" in html and "&lt;5" in html


def test_a_calendar_month_shows_each_sites_unique_members_and_never_a_network_total(
    central: Central, tmp_path: Path
) -> None:
    html, rows = report(tmp_path, central, "--from", "2026-11-01", "--to", "2026-11-30", EDGE_LANG="fr")
    assert (row(rows, "la-ruche")["Membres distincts"], row(rows, "le-hangar")["Membres distincts"]) == ("45", "")
    assert row(rows, "")["Membres distincts"] == ""
    assert "Les membres distincts du mois sont comptés par chaque site." in html


def test_a_calendar_year_shows_each_sites_estimate_with_its_error(central: Central, tmp_path: Path) -> None:
    html, rows = report(tmp_path, central, "--from", "2026-01-01", "--to", "2026-12-31", EDGE_LANG="fr")
    ruche = row(rows, "la-ruche")
    assert (ruche["Membres distincts"], ruche["Membres distincts : erreur type"]) == ("120", "4")
    assert "≈ 120 ± 4" in html


def test_the_page_is_french_with_french_numbers_and_names_no_member(french: tuple[str, list[dict[str, str]]]) -> None:
    html, _rows = french
    assert '<html lang="fr">' in html
    assert "Rapport du réseau" in html and "Réseau des tiers-lieux du Diois" in html
    assert "24 novembre 2026" in html
    assert "53\u00a0%" in html  # la-ruche's utilisation, French percent spacing
    assert "La Ruche (Crest)" in html and "La Fabrique (Saillans)" in html
    assert "portfolio" not in html.lower().replace("portfolio.css", "")  # not the reader's name, nor its password


def test_the_same_portfolio_in_english(central: Central, tmp_path: Path) -> None:
    html, rows = report(tmp_path, central, EDGE_LANG="en")
    assert '<html lang="en">' in html and "Network portfolio" in html
    ruche = next(r for r in rows if r["Site id"] == "la-ruche")
    assert ruche["Utilisation"] == "0.5300"


def test_a_central_store_that_cannot_be_reached_exits_1_naming_it(central: Central, tmp_path: Path) -> None:
    config = network_file(tmp_path, central)
    config.write_text(config.read_text().replace(central.url, "https://127.0.0.1:9"))
    done = run_edge("report", "--network", "-c", str(config), "--day", str(DAY), "-o", str(tmp_path / "p.html"))
    assert done.returncode == 1
    assert "cannot read VictoriaMetrics https://127.0.0.1:9" in done.stderr


def test_a_wrong_reader_password_exits_1_with_the_servers_answer(central: Central, tmp_path: Path) -> None:
    config = network_file(tmp_path, central)
    (tmp_path / "portfolio.password").write_text("guess\n")
    done = run_edge("report", "--network", "-c", str(config), "--day", str(DAY), "-o", str(tmp_path / "p.html"))
    assert done.returncode == 1
    assert "answered 40" in done.stderr


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (("url: https://127.0.0.1", "url: http://central.example.org"), "network.url: must be https://"),
        (("password_file: portfolio.password", "password_file: missing.password"), "network.password_file"),
        (("  sites:", "  colour: blue\n  sites:"), "network.colour: unknown key"),
    ],
)
def test_a_bad_network_file_exits_2_naming_the_key(
    central: Central, tmp_path: Path, change: tuple[str, str], message: str
) -> None:
    config = network_file(tmp_path, central)
    config.write_text(config.read_text().replace(*change, 1))
    done = run_edge("report", "--network", "-c", str(config), "--day", str(DAY), "-o", str(tmp_path / "p.html"))
    assert done.returncode == 2, done.stderr
    assert message in done.stderr


def test_options_that_read_one_site_are_refused_with_the_network(central: Central, tmp_path: Path) -> None:
    config = network_file(tmp_path, central)
    done = run_edge("report", "--network", "-c", str(config), "--day", str(DAY), "--store", "x.sqlite3")
    assert done.returncode == 2
    assert "--store" in done.stderr


def test_the_example_network_file_is_valid() -> None:
    config = load_network_config(REPO / "examples" / "network.yaml", check_secrets=False)
    assert [site.id for site in config.sites] == ["la-ruche", "le-hangar", "la-fabrique"]
    assert config.url.startswith("https://")


# -- the arithmetic alone ------------------------------------------------------------------------------------------


def test_hours_are_expected_only_once_they_ended_long_enough_ago() -> None:
    start = local_ms(0)
    assert hours_expected(start, start + 24 * HOUR_MS, start + 30 * HOUR_MS) == 24
    assert hours_expected(start, start + 24 * HOUR_MS, start + 5 * HOUR_MS + 1800_000) == 5
    assert hours_expected(start, start + 24 * HOUR_MS, start - HOUR_MS) == 0


def test_events_count_from_the_figures_just_before_the_period_to_those_at_its_end() -> None:
    readings = SiteReadings(
        hourly={"open_s": 3600, "open_occupied_s": 3600, "open_known_s": 7200, "open_desk_s": 7200},
        hours_with_data=1,
        desks=2,
        completeness_start={"a": (100, 90, 1)},
        completeness_end={"a": (150, 140, 1), "b": (10, 10, 0)},
    )
    [site] = compute({"s": readings}, [("s", "S")], 0, HOUR_MS, HOUR_MS).sites
    assert (site.events_expected, site.events_received) == (60, 60)
    assert site.flags == ()


def test_desks_unknown_beyond_the_threshold_are_flagged() -> None:
    readings = SiteReadings(
        hourly={"open_s": 3600, "open_known_s": 7200, "open_desk_s": 10800}, hours_with_data=1, desks=3
    )
    [site] = compute({"s": readings}, [("s", "S")], 0, HOUR_MS, HOUR_MS, max_unknown_share=0.3).sites
    assert site.flags == (Flag("unknown_desks", share=pytest.approx(1 / 3)),)
    [lenient] = compute({"s": readings}, [("s", "S")], 0, HOUR_MS, HOUR_MS, max_unknown_share=0.5).sites
    assert lenient.flags == ()


def test_a_site_without_desk_sensors_expects_no_hourly_desk_figures_but_a_silent_site_is_flagged() -> None:
    doors_only = SiteReadings(completeness_end={"door-1": (40, 40, 0)})
    silent = SiteReadings()
    portfolio = compute({"doors": doors_only, "quiet": silent}, [("doors", "D"), ("quiet", "Q")], 0, HOUR_MS, HOUR_MS)
    doors, quiet = portfolio.sites
    assert (doors.hours_expected, doors.flags) == (0, ())
    assert quiet.flags == (Flag("no_data", total=1),)


def test_without_a_list_every_site_of_the_store_is_a_member_of_the_network() -> None:
    readings = {
        "b": SiteReadings(hours_with_data=1, desks=3, desk_site=True),
        "a": SiteReadings(hours_with_data=1, desks=4, desk_site=True),
    }
    portfolio = compute(readings, [], 0, HOUR_MS, HOUR_MS)
    assert [s.id for s in portfolio.sites] == ["a", "b"]
    assert portfolio.network.desks == 7 and portfolio.flagged == []


def test_the_portfolio_prints_to_a_french_pdf_like_the_site_report(central: Central, tmp_path: Path) -> None:
    config = network_file(tmp_path, central)
    pdf = tmp_path / "portfolio.pdf"
    done = run_edge(
        "report", "--network", "-c", str(config), "--day", str(DAY), "-o", str(tmp_path / "p.html"), "--pdf", str(pdf)
    )
    assert done.returncode == 0, done.stdout + done.stderr
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    assert "Rapport du réseau" in text and "La Ruche (Crest)" in text
