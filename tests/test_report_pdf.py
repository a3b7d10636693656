"""The report as a PDF, printed by the real headless Chromium: A4 pages, numbered, in French; and a clear exit when
no browser can print it (the HTML and CSV are written all the same)."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

from edge.report.pdf import PdfError, find_browser
from tests.report_support import DAY, MEMBERS, TOKENS, write_members_store
from tests.rig.fixtures import run_edge


def pdf_info(path: Path) -> dict[str, str]:
    out = subprocess.run(["pdfinfo", str(path)], capture_output=True, text=True, check=True).stdout
    return dict(line.split(":", 1) for line in out.splitlines() if ":" in line)


def pdf_text(path: Path) -> str:
    return subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True).stdout


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_members_store(tmp_path_factory.mktemp("report-pdf") / "collector.sqlite3")


@pytest.fixture(scope="module")
def printed(store: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("pdf") / "report.html"
    result = run_edge(
        "report",
        "--store",
        str(store),
        "--day",
        str(DAY),
        "-o",
        str(out),
        "--pdf",
        str(out.with_suffix(".pdf")),
        timeout=240,
        EDGE_LANG="",
    )
    assert result.returncode == 0, result.stderr
    assert f"pdf: {out.with_suffix('.pdf')}" in result.stdout
    return out.with_suffix(".pdf")


def test_the_pdf_has_a4_pages_in_the_expected_number(printed: Path) -> None:
    info = pdf_info(printed)
    assert "A4" in info["Page size"]
    assert 3 <= int(info["Pages"]) <= 8  # a day's report: the cards and heatmap, the charts, the tables, the method


def test_the_pdf_is_in_french_with_numbered_pages(printed: Path) -> None:
    text = pdf_text(printed).replace("’", "'")
    pages = int(pdf_info(printed)["Pages"])
    for words in (
        "Rapport d'occupation et d'impact",
        "Quand l'espace est utilisé",
        "Trajets domicile-travail évités (estimation)",
        "Méthode, hypothèses et confidentialité",
        "Agrégats uniquement : aucun membre n'est nommé ni identifiable.",
    ):
        assert words in text, words
    assert re.search(rf"Page 1 / {pages}\b", text) and re.search(rf"Page {pages} / {pages}\b", text)


def test_the_pdf_names_no_member(printed: Path) -> None:
    text = pdf_text(printed)
    for member in MEMBERS:
        assert member not in text and TOKENS[member] not in text


@pytest.mark.parametrize(
    ("browser", "message"),
    [
        ("/nonexistent/chromium", "no browser at /nonexistent/chromium: give the path of Chromium"),
        ("/bin/false", "/bin/false could not print the report"),
    ],
)
def test_without_a_working_chromium_the_pdf_exits_3_and_the_page_is_still_written(
    store: Path,
    tmp_path: Path,
    browser: str,
    message: str,
) -> None:
    out = tmp_path / "r.html"
    pdf = tmp_path / "r.pdf"
    result = run_edge(
        "report", "--store", str(store), "--day", str(DAY), "-o", str(out), "--pdf", str(pdf), EDGE_CHROMIUM=browser
    )
    assert result.returncode == 3, result.stderr
    assert message in result.stderr
    assert out.exists() and out.with_suffix(".csv").exists() and not pdf.exists()


def test_a_machine_without_chromium_is_told_how_to_get_it(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("EDGE_CHROMIUM", raising=False)
    monkeypatch.setenv("PATH", str(tmp_path))  # a PATH with no browser on it
    with pytest.raises(PdfError, match=r"Chromium is not installed.*apt-get install chromium"):
        find_browser()
