"""The documentation's sample report: its tool still runs, and a busy simulated week leaks no identity."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from tests.rig.fixtures import REPO, edge_env


def test_the_sample_tool_writes_a_report_without_identities(tmp_path: Path) -> None:
    out = tmp_path / "sample.html"
    result = subprocess.run(
        [sys.executable, "docs/tools/make_report_sample.py", "--no-png", "--out", str(out)],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=REPO,
        env=edge_env(),
    )
    assert result.returncode == 0, result.stderr
    for text in (out.read_text(), out.with_suffix(".csv").read_text()):
        assert not re.search(r"\bm-\d{4}\b", text)  # the simulated member ids
        assert not re.search(r"[0-9a-f]{32}", text)  # badge tokens
    assert out.read_text().count("<svg") >= 6


def test_the_committed_sample_is_what_the_tool_writes(tmp_path: Path) -> None:
    out = tmp_path / "report-example.html"
    subprocess.run(
        [sys.executable, "docs/tools/make_report_sample.py", "--no-png", "--out", str(out)],
        check=True,
        capture_output=True,
        timeout=120,
        cwd=REPO,
        env=edge_env(),
    )
    stale = "docs/report-example.* are stale: run python docs/tools/make_report_sample.py and commit them"
    assert out.read_text() == (REPO / "docs" / "report-example.html").read_text(), stale
    assert out.with_suffix(".csv").read_text() == (REPO / "docs" / "report-example.csv").read_text(), stale
