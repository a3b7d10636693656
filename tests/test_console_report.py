"""The console's report page: the site's assumptions and opening hours shown, the report in the staff's language
as a page, a PDF or a CSV, with commuting modes and opening hours changed for one report."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from edge.clock import ManualClock
from edge.config import NodeConfig, load_config
from tests.console_support import NOW, ConsoleSite, console_config, logged_in
from tests.report_support import DAY, MEMBERS, TOKENS, write_members_store

EXTRA = """collector:
  directions: {front-out: out}
  opening_hours: "mon-fri 08:30-18:30"
report:
  commute:
    modes:
      car: {share: 0.5, km: 15}
      train_ter: {share: 0.5, km: 40}
    factors:
      car: {kg_co2e_per_km: 0.18, source: "enquête flotte 2025"}
"""
QUERY = f"?start={DAY}&end={DAY}&hours=mon-fri+08%3A30-18%3A30"


@pytest.fixture
def site(django_console: NodeConfig, tmp_path: Path) -> Iterator[ConsoleSite]:
    from django.core.management import call_command

    from edge.console import runtime

    folder = tmp_path / "site"
    config = load_config(console_config(folder, extra=EXTRA))
    write_members_store(folder / "collector.sqlite3")
    rt = runtime.Runtime.from_config(config)
    rt.clock = ManualClock(NOW)
    runtime.install(rt)
    yield ConsoleSite(folder, config, rt)
    runtime.install(None)
    call_command("flush", verbosity=0, interactive=False)


def test_the_form_shows_the_sites_opening_hours_and_commuting_assumptions(site: ConsoleSite) -> None:
    client = logged_in("claire", "viewer")
    page = client.get("/report/").content.decode().replace("&#39;", "'")  # type: ignore[attr-defined]
    assert "mon-fri 08:30-18:30" in page  # the collector's opening hours, the form's default
    assert "voiture (thermique)" in page and "train régional (TER)" in page
    assert "enquête flotte 2025" in page  # the site's own car factor, with its source
    assert "ADEME, Impact CO2" in page  # the table's train factor


def test_the_report_page_is_in_french_with_the_sites_assumptions(site: ConsoleSite) -> None:
    client = logged_in("claire", "viewer")
    response = client.get("/report/" + QUERY + "&output=html")
    assert response.status_code == 200  # type: ignore[attr-defined]
    page = response.content.decode().replace("&#39;", "'")  # type: ignore[attr-defined]
    assert '<html lang="fr">' in page and "Rapport d'occupation et d'impact" in page
    # 6 member-days: car 6 x 0.5 x 15 km x 2 = 90 km x 0.18; train 6 x 0.5 x 40 km x 2 = 240 km
    assert "6 × 50,00 % × 15,0 km × 2 × 1,0 = 90 km" in page.replace("\u00a0", " ")
    assert "diffèrent de celles du site" not in page
    for member in MEMBERS:
        assert member not in page and TOKENS[member] not in page


def test_modes_and_hours_changed_for_one_report(site: ConsoleSite) -> None:
    client = logged_in("claire", "viewer")
    query = f"?start={DAY}&end={DAY}&hours=mon-sat+07%3A00-22%3A00&modes=bike%3D1%3A5&output=csv"
    csv = client.get("/report/" + query).content.decode()  # type: ignore[attr-defined]
    assert "assumption,commuting:bike,share,1,ratio," in csv
    assert "opening_hours_from,override" in csv


def test_a_wrong_mode_is_shown_on_the_form(site: ConsoleSite) -> None:
    client = logged_in("claire", "viewer")
    page = client.get("/report/" + QUERY + "&modes=car%3D0.5%3A10&output=html").content.decode()  # type: ignore[attr-defined]
    assert "the shares of the modes add up to 0.5, not 1" in page


def test_the_report_as_a_pdf(site: ConsoleSite) -> None:
    client = logged_in("claire", "viewer")
    response = client.get("/report/" + QUERY + "&output=pdf")
    assert response.status_code == 200  # type: ignore[attr-defined]
    assert response["Content-Type"] == "application/pdf"  # type: ignore[index]
    body = response.content  # type: ignore[attr-defined]
    assert body.startswith(b"%PDF")
    text = subprocess.run(["pdftotext", "-", "-"], input=body, capture_output=True, check=True).stdout.decode()
    assert "Rapport d’occupation et d’impact" in text or "Rapport d'occupation et d'impact" in text
