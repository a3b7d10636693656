"""`edge report` as staff run it: the real CLI as a subprocess, from a store, a collector config or InfluxDB."""

from __future__ import annotations

import csv
import datetime as dt
import io
import sqlite3
from pathlib import Path

import pytest

from edge.clock import ManualClock
from edge.collector.deriver import Deriver
from edge.collector.store import Store
from tests.collector_support import SITE
from tests.report_support import DAY, TZ, write_members_store
from tests.rig.fixtures import run_edge
from tests.rig.servers import InfluxDB16, free_port


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("report-cli") / "collector.sqlite3"
    return write_members_store(path)


def csv_text(out: Path) -> str:
    return out.with_suffix(".csv").read_text(encoding="utf-8")


def test_a_report_from_a_store_file(store: Path, tmp_path: Path) -> None:
    out = tmp_path / "r.html"
    result = run_edge("report", "--store", str(store), "--day", str(DAY), "-o", str(out))
    assert result.returncode == 0, result.stderr
    assert f"report: {out}" in result.stdout
    assert "<svg" in out.read_text() and "members,testsite,member_days,6" in csv_text(out)
    assert "visits,testsite,method,estimated" in csv_text(out)  # no exit reader given: every reader is an entry


def test_opening_hours_take_the_one_schedule_syntax(store: Path, tmp_path: Path) -> None:
    out = tmp_path / "r.html"
    hours = "mon-fri 08:00-12:00,14:00-19:00; sat 09:00-13:00; closed 2026-12-25"
    result = run_edge("report", "--store", str(store), "--day", str(DAY), "--hours", hours, "-o", str(out))
    assert result.returncode == 0, result.stderr
    rows = list(csv.reader(io.StringIO(csv_text(out))))
    assert ["report", "testsite", "opening_hours", hours] in [row[:4] for row in rows]


def test_a_collector_config_gives_the_store_the_site_and_the_exit_readers(store: Path, tmp_path: Path) -> None:
    config = tmp_path / "collector.yaml"
    config.write_text(
        "site: tiers-lieu\nnode: collector\ntimezone: Europe/Paris\n"
        f"collector:\n  store_path: {store}\n  directions:\n    front-out: out\n"
    )
    out = tmp_path / "r.html"
    result = run_edge("report", "-c", str(config), "--from", str(DAY), "--to", str(DAY), "-o", str(out))
    assert result.returncode == 0, result.stderr
    assert "visits,tiers-lieu,method,measured" in csv_text(out)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--day", "2026-11-24"], "give -c with the collector's config, --store, or --influx-url"),
        (["--store", "{store}"], "a report needs a day"),
        (["--store", "{store}", "--day", "2026-11-24", "--from", "2026-11-01"], "either a day or a start"),
        (["--store", "{store}", "--from", "2026-11-30", "--to", "2026-11-01"], "before it starts"),
        (
            ["--store", "{store}", "--day", "2026-11-24", "--hours", "8h-19h"],
            '--hours: "8h-19h": write a time range as',
        ),
        (["--store", "{store}", "--day", "2026-11-24", "--days", "weekdays"], '--days: "weekdays": unknown day'),
        (
            ["--store", "{store}", "--day", "2026-11-24", "--hours", "mon-fryday 08:00-19:00"],
            '--hours: "mon-fryday": unknown day "fryday"; write days as mon, tue, ... or a range mon-fri',
        ),
        (
            ["--store", "{store}", "--day", "2026-11-24", "--hours", "mon-fri 08:00-19:00", "--days", "mon-sat"],
            "--days goes with times-only --hours",
        ),
        (["--store", "{store}", "--day", "2026-11-24", "--timezone", "Mars/Olympus"], "unknown time zone"),
        (["--store", "{store}", "--day", "2026-11-24", "--min-count", "0"], "at least 1"),
        (["--store", "{store}", "--day", "2026-11-24", "--step", "7"], "divide an hour"),
        (["--store", "/nonexistent/c.sqlite3", "--day", "2026-11-24"], "no collector store at"),
        (
            ["--influx-url", "http://127.0.0.1:1", "--day", "2026-11-24", "--site", "s"],
            "--influx-url needs --influx-db",
        ),
        (["--influx-url", "http://127.0.0.1:1", "--influx-db", "edge", "--day", "2026-11-24"], "give --site"),
        (["--store", "{store}", "--day", "24/11/2026"], "is not a date"),
        (
            [
                "--influx-url",
                "http://x:1",
                "--influx-db",
                "e",
                "--site",
                "s",
                "--day",
                "2026-11-24",
                "--influx-token-file",
                "/nope",
            ],
            "--influx-token-file: cannot read /nope",
        ),
    ],
)
def test_bad_options_exit_2_and_say_why(store: Path, tmp_path: Path, args: list[str], message: str) -> None:
    argv = [a.replace("{store}", str(store)) for a in args]
    result = run_edge("report", *argv, "-o", str(tmp_path / "r.html"))
    assert result.returncode == 2, result.stdout + result.stderr
    assert message in result.stderr
    assert not (tmp_path / "r.html").exists()


def test_an_unwritable_output_exits_2(store: Path, tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    result = run_edge("report", "--store", str(store), "--day", str(DAY), "-o", str(blocker / "r.html"))
    assert result.returncode == 2, result.stderr
    assert "cannot write" in result.stderr


def test_an_unreachable_influxdb_exits_1(tmp_path: Path) -> None:
    url = f"http://127.0.0.1:{free_port()}"
    result = run_edge(
        "report",
        "--influx-url",
        url,
        "--influx-db",
        "edge",
        "--site",
        SITE,
        "--day",
        str(DAY),
        "-o",
        str(tmp_path / "r.html"),
    )
    assert result.returncode == 1, result.stderr
    assert "cannot read InfluxDB" in result.stderr


def test_a_report_from_influxdb(store: Path, influxdb: InfluxDB16, tmp_path: Path) -> None:
    copy = tmp_path / "c.sqlite3"
    copy.write_bytes(store.read_bytes())
    s = Store(copy)
    clock = ManualClock(dt.datetime.combine(DAY, dt.time(23, 59), TZ))
    deriver = Deriver(s, site=SITE, clock=clock, tz=TZ, step_s=60)
    while deriver.run():
        pass
    s.close()
    with sqlite3.connect(copy) as db:
        lines = [r[0] for r in db.execute("SELECT line FROM derived")]
    influxdb.query("CREATE DATABASE edge_stats")
    influxdb.write("edge_stats", "\n".join(lines))
    out = tmp_path / "r.html"
    result = run_edge(
        "report",
        "--influx-url",
        influxdb.url,
        "--influx-db",
        "edge_stats",
        "--site",
        SITE,
        "--day",
        str(DAY),
        "-o",
        str(out),
    )
    assert result.returncode == 0, result.stderr
    assert "estimated from granted entries" in csv_text(out)
    assert "occupancy,site,peak_occupied,6" in csv_text(out)  # six desks taken, none left


def test_the_page_is_french_unless_english_is_asked_for(store: Path, tmp_path: Path) -> None:
    french, english = tmp_path / "fr.html", tmp_path / "en.html"
    assert run_edge("report", "--store", str(store), "--day", str(DAY), "-o", str(french), EDGE_LANG="").returncode == 0
    result = run_edge("report", "--store", str(store), "--day", str(DAY), "--lang", "en", "-o", str(english))
    assert result.returncode == 0, result.stderr
    page = french.read_text().replace("&#39;", "'")
    assert '<html lang="fr">' in page and "<h1>Rapport d'occupation et d'impact</h1>" in page
    assert '<html lang="en">' in english.read_text() and "Occupancy and impact report" in english.read_text()
    assert csv_text(french) == csv_text(english)  # the CSV is for machines: the same in every language


def test_edge_lang_chooses_the_language_and_a_wrong_one_exits_2(store: Path, tmp_path: Path) -> None:
    out = tmp_path / "r.html"
    assert run_edge("report", "--store", str(store), "--day", str(DAY), "-o", str(out), EDGE_LANG="en").returncode == 0
    assert '<html lang="en">' in out.read_text()
    result = run_edge("report", "--store", str(store), "--day", str(DAY), "--lang", "de", "-o", str(out))
    assert result.returncode == 2 and "unsupported language 'de': choose one of fr, en" in result.stderr


SITE_CONFIG = """site: tiers-lieu
node: collector
timezone: Europe/Paris
collector:
  store_path: {store}
  opening_hours: "mon-fri 08:30-12:30,13:30-18:00; closed 2026-12-25"
report:
  min_count: 2
  commute:
    modes:
      car: {{share: 0.5, km: 15}}
      bike: {{share: 0.25, km: 4}}
      home: {{share: 0.25}}
"""


def test_a_collector_config_gives_the_sites_opening_hours_and_commuting_assumptions(
    store: Path, tmp_path: Path
) -> None:
    config = tmp_path / "collector.yaml"
    config.write_text(SITE_CONFIG.format(store=store))
    out = tmp_path / "r.html"
    result = run_edge("report", "-c", str(config), "--day", str(DAY), "-o", str(out))
    assert result.returncode == 0, result.stderr
    rows = {tuple(r[:3]): r[3:] for r in csv.reader(io.StringIO(csv_text(out)))}
    assert rows[("report", "tiers-lieu", "opening_hours")][0] == "mon-fri 08:30-12:30,13:30-18:00; closed 2026-12-25"
    assert rows[("report", "tiers-lieu", "opening_hours_from")][0] == "site"
    assert rows[("assumption", "commuting:car", "one_way_km")][0] == "15"
    assert rows[("assumption", "privacy", "min_count")][0] == "2"
    # 6 member-days: car 6 x 0.5 x 15 km x 2 = 90 km, bike 6 x 0.25 x 4 x 2 = 12 km, from home nothing
    assert rows[("commuting", "tiers-lieu", "km_avoided")][0] == "102"
    page = out.read_text()
    assert "diffèrent de celles du site" not in page and "hypothèses de trajet sont celles par défaut" not in page


def test_hours_given_for_one_report_are_noted_when_they_differ_from_the_sites(store: Path, tmp_path: Path) -> None:
    config = tmp_path / "collector.yaml"
    config.write_text(SITE_CONFIG.format(store=store))
    out = tmp_path / "r.html"
    result = run_edge("report", "-c", str(config), "--day", str(DAY), "--hours", "mon-sat 07:00-22:00", "-o", str(out))
    assert result.returncode == 0, result.stderr
    page = out.read_text().replace("&#39;", "'")
    assert "ont été données pour ce rapport et diffèrent de celles du site (lun.-ven. 08:30-12:30,13:30-18:00" in page
    assert "opening_hours_from,override" in csv_text(out)


def test_modes_and_factors_given_for_one_report_replace_the_sites(store: Path, tmp_path: Path) -> None:
    config = tmp_path / "collector.yaml"
    config.write_text(SITE_CONFIG.format(store=store))
    out = tmp_path / "r.html"
    result = run_edge(
        "report", "-c", str(config), "--day", str(DAY), "--mode", "car=1:10", "--factor", "car=0.25", "-o", str(out)
    )
    assert result.returncode == 0, result.stderr
    # 6 member-days x 1 x 10 km x 2 = 120 km; x 0.25 = 30 kg
    assert "commuting,tiers-lieu,kg_co2e_avoided,30,kg,estimate" in csv_text(out)
    assert "assumption,commuting:car,kg_co2e_per_km,0.25,kg/km,figure given by the site" in csv_text(out)
    assert "chiffre donné par le site" in out.read_text()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--commute-km", "20"], "--commute-km and --co2-per-km were replaced by commuting assumptions per mode"),
        (["--co2-per-km", "0.19"], "set report.commute in the config, or give --mode car=1:10"),
        (["--mode", "car"], "--mode: 'car': write a mode as MODE=SHARE:KM"),
        (["--mode", "car=0.5:10"], "--mode: the shares of the modes add up to 0.5, not 1"),
        (["--mode", "plane=1:800"], "--mode: unknown mode 'plane'"),
        (["--factor", "car"], "--factor: 'car': write a factor as MODE=KG"),
        (["--factor", "car=12"], "--factor: 'car=12': an emission factor of 12.0 kg CO2e per km is not plausible"),
    ],
)
def test_bad_commuting_options_exit_2_and_say_why(store: Path, tmp_path: Path, args: list[str], message: str) -> None:
    result = run_edge("report", "--store", str(store), "--day", str(DAY), *args, "-o", str(tmp_path / "r.html"))
    assert result.returncode == 2, result.stderr
    assert message in result.stderr


def test_a_bad_report_section_exits_2_naming_the_key(store: Path, tmp_path: Path) -> None:
    config = tmp_path / "collector.yaml"
    config.write_text(SITE_CONFIG.format(store=store).replace("share: 0.25, km: 4", "share: 0.35, km: 4"))
    result = run_edge("report", "-c", str(config), "--day", str(DAY), "-o", str(tmp_path / "r.html"))
    assert result.returncode == 2
    assert "report.commute.modes: the shares add up to 1.1; they must add up to 1" in result.stderr


def test_the_excel_dialect_of_the_csv(store: Path, tmp_path: Path) -> None:
    out = tmp_path / "r.html"
    result = run_edge("report", "--store", str(store), "--day", str(DAY), "--csv-dialect", "excel-fr", "-o", str(out))
    assert result.returncode == 0, result.stderr
    raw = out.with_suffix(".csv").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbfsection;subject;metric;value;unit;note\r\n")
