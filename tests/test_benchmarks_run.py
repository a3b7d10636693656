"""`python -m benchmarks --quick` runs every benchmark to the end and each prints its measures.

Values are not checked: timings are noisy, and the benchmarks report their verdicts against the targets rather
than assert them. This only proves the suite still runs, so its numbers can be produced on demand.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from tests.rig.fixtures import REPO

BENCHMARKS = sorted(p.stem.removeprefix("bench_") for p in (REPO / "benchmarks").glob("bench_*.py"))


@pytest.fixture(scope="module")
def quick_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[subprocess.CompletedProcess[str], list[dict]]:
    """The whole suite once in quick mode; its output and the measures it collected."""
    results = tmp_path_factory.mktemp("bench") / "results.jsonl"
    env = dict(os.environ, PYTHONPATH=str(REPO))
    env.pop("EDGE_BENCH_JSON", None)
    proc = subprocess.run(
        [sys.executable, "-m", "benchmarks", "--quick", "--json", str(results)],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    rows = [json.loads(line) for line in results.read_text().splitlines()] if results.exists() else []
    return proc, rows


@pytest.mark.slow
@pytest.mark.timeout(360)
def test_the_quick_suite_runs_every_benchmark_to_the_end(quick_run) -> None:
    proc, _ = quick_run
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-4000:]
    assert "(quick mode)" in proc.stdout
    for name in BENCHMARKS:
        assert f"== bench_{name}" in proc.stdout


@pytest.mark.slow
@pytest.mark.timeout(360)
@pytest.mark.parametrize("benchmark", BENCHMARKS)
def test_each_benchmark_reports_numeric_measures(quick_run, benchmark: str) -> None:
    _, rows = quick_run
    mine = [r for r in rows if r["benchmark"] == benchmark]
    assert mine, f"bench_{benchmark} reported no measures"
    assert all(isinstance(r["value"], (int, float)) and r["unit"] for r in mine)


@pytest.mark.slow
@pytest.mark.timeout(360)
def test_every_target_gets_a_verdict_in_the_summary(quick_run) -> None:
    proc, rows = quick_run
    targeted = [r for r in rows if r["target"]]
    assert targeted and all(r["ok"] in (True, False) for r in targeted)
    summary = proc.stdout.split("== summary", 1)[1]
    for r in targeted:
        assert r["name"] in summary
    assert "targets met" in summary
