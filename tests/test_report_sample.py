"""The documentation's sample report (a simulated year, in French): its tool still runs, what is committed is what
it writes, and a year of a busy site leaks no identity into the page, its CSV or its PDF."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.rig.fixtures import REPO, edge_env

pytestmark = pytest.mark.slow
DOCS = REPO / "docs"


@pytest.fixture(scope="module")
def written(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("sample") / "report-example.html"
    result = subprocess.run(
        [sys.executable, "docs/tools/make_report_sample.py", "--no-pdf", "--out", str(out)],
        capture_output=True,
        text=True,
        timeout=600,
        cwd=REPO,
        env=edge_env(),
    )
    assert result.returncode == 0, result.stderr
    return out


@pytest.mark.timeout(660)
def test_the_committed_sample_is_what_the_tool_writes(written: Path) -> None:
    stale = "docs/report-example.* are stale: run python docs/tools/make_report_sample.py and commit them"
    assert written.read_text() == (DOCS / "report-example.html").read_text(), stale
    assert written.with_suffix(".csv").read_text() == (DOCS / "report-example.csv").read_text(), stale


@pytest.mark.timeout(660)
def test_the_sample_is_a_french_year_with_its_aggregates(written: Path) -> None:
    page = written.read_text().replace("&#39;", "'")
    assert '<html lang="fr">' in page and "du 1 janvier 2026 au 31 décembre 2026" in page
    assert "Par mois" in page and "≈ " in page  # the monthly table, the year's estimated distinct members
    assert page.count("<svg") >= 6


@pytest.mark.timeout(660)
def test_the_sample_names_no_member(written: Path) -> None:
    for text in (written.read_text(), written.with_suffix(".csv").read_text()):
        assert not re.search(r"\bm-\d{5}\b", text)  # the simulated member ids
        assert not re.search(r"[0-9a-f]{32}", text)  # badge tokens


def test_the_committed_pdf_is_a_french_a4_report_naming_no_member() -> None:
    pdf = DOCS / "report-example.pdf"
    info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=True).stdout
    assert "A4" in info and 4 <= int(re.search(r"Pages:\s+(\d+)", info).group(1)) <= 12  # type: ignore[union-attr]
    text = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    assert "Rapport d" in text and "Trajets domicile-travail évités" in text
    assert not re.search(r"\bm-\d{5}\b", text)
    assert all((DOCS / f"report-example-{n}.png").is_file() for n in (1, 2))
