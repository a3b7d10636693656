"""Make docs/report-example.{html,csv,pdf} and the PNGs of its first pages: the funders' report, in French, for a
simulated year (2026) of a 200-desk, 3-door coworking space (`edge.demo.year`), read back mid-January 2027 as the
collector's store then holds it: the last 90 days of door records, the year's member aggregates, its closed count.

Run from the repository root:  python docs/tools/make_report_sample.py [--no-pdf]
The PDF and the PNGs need Chromium and poppler-utils (tools/setup.sh installs both).
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from edge.demo.year import DIRECTIONS, OPENING_HOURS, SITE, TZ, write_year
from edge.i18n import Formatter
from edge.report.build import make_report, save
from edge.report.commute import Commute, Survey, SurveyBand
from edge.report.factors import Factor
from edge.report.pdf import print_pdf
from edge.report.period import Assumptions, Period
from edge.report.store_source import StoreSource

DOCS = Path(__file__).resolve().parents[1]
PAGES_IN_PNG = 2
# The site's commuting assumptions, as its report section would give them: a members' survey of March 2026, and
# its own figure for the car (from its fleet survey) beside ADEME's for every other mode.
SURVEY = Survey(
    (
        SurveyBand("0-5", 2.5, {"walk": 9, "bike": 11, "home": 4}),
        SurveyBand("5-15", 10.0, {"car": 14, "ebike": 6, "bus": 5, "home": 3}),
        SurveyBand("15-40", 27.5, {"car": 21, "carpool": 4, "train_ter": 7}),
        SurveyBand("40-80", 60.0, {"car": 5, "train_ter": 6}),
    ),
    when="mars 2026",
)
COMMUTE = Commute.from_survey(
    SURVEY, factors={"car": Factor(0.17, "Enquête flotte du tiers-lieu (véhicules des membres)", None, 2025)}
)


def main() -> int:
    """Write the sample report into docs/."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path, default=DOCS / "report-example.html")
    parser.add_argument("--no-pdf", action="store_true", help="only the HTML and the CSV")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        key = hashlib.sha256(b"edge documentation sample, not a site's key").digest()  # reproducible sample
        year = write_year(Path(tmp) / "collector.sqlite3", year_key=key)
        source = StoreSource(year.path, directions=DIRECTIONS, site=SITE)
        try:
            made = make_report(
                source,
                Period(dt.date(2026, 1, 1), dt.date(2026, 12, 31), TZ),
                OPENING_HOURS,
                Assumptions(COMMUTE, min_count=5),
                generated=Formatter("fr").date(dt.date(2027, 1, 15)),
                lang="fr",
                hours_source="site",
                site_hours=OPENING_HOURS,
            )
        finally:
            source.close()
    save(made, args.out)
    print(f"{year.events} events simulated; report: {args.out}")
    if not args.no_pdf:
        pdf = print_pdf(made.html, args.out.with_suffix(".pdf"))
        prefix = args.out.with_name(args.out.stem)
        subprocess.run(
            ["pdftoppm", "-png", "-r", "70", "-f", "1", "-l", str(PAGES_IN_PNG), str(pdf), str(prefix)], check=True
        )
        print(f"pdf: {pdf}; first pages: {prefix}-1.png ... -{PAGES_IN_PNG}.png")
    return 0


if __name__ == "__main__":
    sys.exit(main())
