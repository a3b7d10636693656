"""The funders' report for a year of a 200-desk, 3-door site: HTML (with its CSV) and PDF, time and peak memory.

The year is simulated by `edge.demo.year` through the collector's own code into a real store (door records of the
last 90 days, a year of desk transitions, the member aggregates). Each measured report runs in a fresh process
(`--measure`), so its peak resident memory is its own; Chromium's is the peak of the processes it starts.

Run from the repository root: `python -m benchmarks report`. Prints numbers; asserts nothing (target from
issue 16: HTML and PDF of a year in under 30 s here, with bounded memory).
"""

from __future__ import annotations

import datetime as dt
import json
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.common import QUICK, Measure, median, report, sized

DESKS = int(sized(200, 200))
DAYS = int(sized(365, 21))  # quick mode: three weeks of the same site
RUNS = int(sized(3, 1))


def measure(store: Path, first: dt.date, last: dt.date, out: Path) -> dict[str, float]:
    """One report in this process: HTML and CSV, then the PDF; times and peak memory."""
    from edge.demo.year import DIRECTIONS, OPENING_HOURS, SITE, TZ
    from edge.report.build import make_report, save
    from edge.report.pdf import print_pdf
    from edge.report.period import Assumptions, Period
    from edge.report.store_source import StoreSource

    start = time.perf_counter()
    source = StoreSource(store, directions=DIRECTIONS, site=SITE)
    try:
        period = Period(first, last, TZ)
        made = make_report(source, period, OPENING_HOURS, Assumptions(), lang="fr", hours_source="site")
    finally:
        source.close()
    save(made, out)
    html_s = time.perf_counter() - start
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    start = time.perf_counter()
    pdf = print_pdf(made.html, out.with_suffix(".pdf"))
    pdf_s = time.perf_counter() - start
    pages = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=True).stdout
    page_count = next(int(line.split()[-1]) for line in pages.splitlines() if line.startswith("Pages:"))
    return {
        "html_s": html_s,
        "pdf_s": pdf_s,
        "rss_mb": rss_mb,
        "chromium_rss_mb": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024,
        "pages": page_count,
        "html_kb": out.stat().st_size / 1024,
    }


def main() -> None:
    """Simulate the year, then make its report in fresh processes and print the numbers."""
    from edge.demo.year import write_year

    folder = Path(tempfile.mkdtemp(prefix="bench-report-"))
    measures: list[Measure] = []
    try:
        start = time.perf_counter()
        year = write_year(folder / "collector.sqlite3", days=DAYS, desks=DESKS)
        generate_s = time.perf_counter() - start
        label = f"{DAYS} days, {DESKS} desks, 3 doors"
        print(f"simulated {label}: {year.events} events stored in {generate_s:.1f} s (setup, not a target)")
        runs = []
        for run in range(RUNS):
            out = folder / f"report-{run}.html"
            proc = subprocess.run(
                [
                    sys.executable,
                    "-m",
                    "benchmarks.bench_report",
                    "--measure",
                    *map(str, (year.path, year.first, year.last, out)),
                ],
                capture_output=True,
                text=True,
                check=True,
                cwd=Path(__file__).resolve().parent.parent,
            )
            runs.append(json.loads(proc.stdout.strip().splitlines()[-1]))
        html_s = median([r["html_s"] for r in runs])
        pdf_s = median([r["pdf_s"] for r in runs])
        total_s = median([r["html_s"] + r["pdf_s"] for r in runs])
        rss = max(r["rss_mb"] for r in runs)
        chromium = max(r["chromium_rss_mb"] for r in runs)
        print(f"report HTML + CSV          {html_s:7.2f} s   ({runs[0]['html_kb']:.0f} kB page)")
        print(f"report PDF (Chromium)      {pdf_s:7.2f} s   ({runs[0]['pages']} A4 pages)")
        print(f"report peak RSS            {rss:7.1f} MB   (Chromium's largest process {chromium:.0f} MB)")
        target = "< 30 s" if not QUICK else ""
        measures += [
            Measure("report", f"HTML + CSV, {label}", html_s, "s"),
            Measure("report", f"PDF, {label}", pdf_s, "s"),
            Measure("report", f"HTML + PDF, {label}", total_s, "s", target, total_s < 30 if not QUICK else None),
            Measure("report", "report process peak RSS", rss, "MB", "< 150 MB", rss < 150),
            Measure("report", "Chromium peak RSS (largest process)", chromium, "MB"),
            Measure("report", "PDF pages", runs[0]["pages"], "pages"),
        ]
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    report(measures)


if __name__ == "__main__":
    if len(sys.argv) == 6 and sys.argv[1] == "--measure":
        _, _, store, first, last, out = sys.argv
        print(json.dumps(measure(Path(store), dt.date.fromisoformat(first), dt.date.fromisoformat(last), Path(out))))
    else:
        main()
