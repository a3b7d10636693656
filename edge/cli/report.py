"""`edge report`: the occupancy and impact report for a period, as one HTML page and a CSV of its figures.

Reads the collector's local store (`-c` collector config, or `--store`) or InfluxDB (`--influx` with the
collector config's `influx` section, or `--influx-url` and `--influx-db`); `--pdf FILE` prints the page to a PDF
with the system's Chromium. With `--network`, the portfolio of a network of sites from its central store (`-c` is
then the network report's file). Exit codes: 0 written; 1 the data source could not be read; 2 an option or the
config must be fixed; 3 the HTML and CSV were written but the PDF could not be printed (Chromium missing or failing).
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from edge.config import NodeConfig, load_config
from edge.config.report import ReportConfig
from edge.errors import ConfigError, SourceError
from edge.i18n import language
from edge.report.build import DEFAULT_STEP_S, csv_path, make_report, resolve_period, save
from edge.report.commute import parse_mode, with_overrides
from edge.report.csvfile import DIALECTS
from edge.report.factors import Factor
from edge.report.influx_source import InfluxSettings, InfluxSource, secret
from edge.report.pdf import PdfError, print_pdf
from edge.report.period import DEFAULT_OPENING_HOURS, Assumptions
from edge.report.source import Source
from edge.report.store_source import StoreSource
from edge.schedule import Schedule, ScheduleError, parse_days, parse_schedule, parse_times


class UsageError(ValueError):
    """An option that must be fixed (exit 2)."""


def register(sub: Any) -> None:
    """Add the report command."""
    parser = sub.add_parser(
        "report",
        help="occupancy and impact report (HTML + CSV) for a period",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    where = parser.add_argument_group("data source")
    where.add_argument("-c", "--config", type=Path, help="the collector node's YAML config")
    where.add_argument(
        "--network",
        action="store_true",
        help="the network's portfolio across its sites, from its central store (-c: the network report's file)",
    )
    where.add_argument("--store", type=Path, help="collector store file (default: the config's store)")
    where.add_argument("--influx", action="store_true", help="read the InfluxDB of the config's collector.influx")
    where.add_argument("--influx-url", help="read InfluxDB at this URL (derived series, InfluxQL)")
    where.add_argument("--influx-db", help="database, `database/retention-policy`, or a 2.x bucket mapped by DBRP")
    where.add_argument("--influx-token-file", type=Path, help="file holding an API token (InfluxDB 2.x/3.x)")
    where.add_argument("--influx-user", help="user name (InfluxDB 1.x)")
    where.add_argument("--influx-password-file", type=Path, help="file holding the password (InfluxDB 1.x)")
    where.add_argument("--site", help="site name (default: the config's site)")
    where.add_argument("--timezone", help="site time zone (default: the config's, else Europe/Paris)")
    where.add_argument(
        "--exit-reader", action="append", default=[], metavar="READER", help="a reader at which members leave"
    )
    when = parser.add_argument_group("period and opening hours")
    when.add_argument("--day", type=_date, help="one local day, YYYY-MM-DD")
    when.add_argument("--from", dest="start", type=_date, help="first local day, YYYY-MM-DD (inclusive)")
    when.add_argument("--to", dest="end", type=_date, help="last local day, YYYY-MM-DD (inclusive)")
    when.add_argument(
        "--hours",
        help='opening hours as a schedule, e.g. "mon-fri 08:00-19:00; sat 09:00-12:00; closed 2026-12-25", or only'
        f" times on --days, e.g. 08:00-19:00 (default {DEFAULT_OPENING_HOURS})",
    )
    when.add_argument("--days", help="opening days for times-only --hours, e.g. mon-fri, mon-sat, mon,wed,fri")
    est = parser.add_argument_group(
        "assumptions (default: the config's report section; docs/report.md)",
    )
    est.add_argument(
        "--mode",
        action="append",
        default=[],
        metavar="MODE=SHARE:KM",
        help="a commuting mode for this report, e.g. car=0.6:12 (share of member-days, one-way km); repeat it for"
        " each mode; replaces the config's modes",
    )
    est.add_argument(
        "--factor",
        action="append",
        default=[],
        metavar="MODE=KG",
        help="an emission factor for this report, kg CO2e per passenger-km (printed as given, without source)",
    )
    est.add_argument("--min-count", type=int, help="withhold counts of people below this (default: config, else 5)")
    est.add_argument("--step", type=int, default=DEFAULT_STEP_S, help="occupancy sampling step, seconds (default 300)")
    est.add_argument("--commute-km", type=float, help=argparse.SUPPRESS)  # replaced: say so rather than ignore it
    est.add_argument("--co2-per-km", type=float, help=argparse.SUPPRESS)
    out = parser.add_argument_group("output")
    out.add_argument("-o", "--out", type=Path, default=Path("report.html"), help="HTML file (CSV next to it)")
    out.add_argument("--pdf", type=Path, metavar="FILE", help="also print the page to this PDF (A4), with Chromium")
    out.add_argument("--chromium", metavar="PATH", help="the Chromium to print with (default: $EDGE_CHROMIUM, PATH)")
    out.add_argument("--lang", help="language of the page: fr or en (default: $EDGE_LANG, else fr)")
    out.add_argument(
        "--csv-dialect",
        choices=DIALECTS,
        default="standard",
        help="standard: comma-separated, . decimals; excel-fr: what Excel opens on a French system (; and ,)",
    )
    parser.set_defaults(func=run)


def _date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date (YYYY-MM-DD)") from None


def run(args: argparse.Namespace) -> int:
    """Build the source, make the report, write it."""
    if args.network:
        from edge.cli.report_network import run_network

        return run_network(args)
    try:
        config = load_config(args.config, check_secrets=False) if args.config else None
        timezone = args.timezone or (config.timezone if config else "Europe/Paris")
        tz = _zone(timezone)
        period = resolve_period(tz, args.day, args.start, args.end)
        lang = language(args.lang)
        hours, hours_source, site_hours = _opening_hours(args, config)
        assumptions = _assumptions(args, config)
        source = _source(args, config, tz)
    except ConfigError as exc:
        print(f"{args.config or 'edge report'}: {len(exc.issues)} problem(s)", file=sys.stderr)
        for issue in exc.issues:
            print(f"  {issue}", file=sys.stderr)
        return 2
    except (UsageError, ValueError, OSError) as exc:
        print(f"edge report: {exc}", file=sys.stderr)
        return 2
    try:
        generated = dt.datetime.now(tz).strftime("%Y-%m-%d %H:%M %Z")
        report = make_report(
            source,
            period,
            hours,
            assumptions,
            step_s=args.step,
            generated=generated,
            lang=lang,
            hours_source=hours_source,
            site_hours=site_hours,
            csv_dialect=args.csv_dialect,
        )
    except SourceError as exc:
        print(f"edge report: {exc}", file=sys.stderr)
        return 1
    except ValueError as exc:
        print(f"edge report: {exc}", file=sys.stderr)
        return 2
    finally:
        source.close()
    try:
        save(report, args.out)
    except OSError as exc:
        print(f"edge report: cannot write {args.out}: {exc.strerror or exc}", file=sys.stderr)
        return 2
    print(f"report: {args.out}\nfigures: {csv_path(args.out)}")
    return write_pdf(report.html, args)


def write_pdf(html: str, args: argparse.Namespace) -> int:
    """Print the page to `--pdf FILE` when asked; the exit code (3: Chromium could not print it)."""
    if args.pdf is None:
        return 0
    try:
        print_pdf(html, args.pdf, browser=args.chromium)
    except PdfError as exc:
        print(f"edge report: {exc}", file=sys.stderr)
        return 3
    except OSError as exc:
        print(f"edge report: cannot write {args.pdf}: {exc.strerror or exc}", file=sys.stderr)
        return 2
    print(f"pdf: {args.pdf}")
    return 0


def opening_hours(hours: str | None, days: str | None) -> Schedule:
    """The opening hours from `--hours` (a schedule, or times only) and `--days` (for times only; mon-fri)."""
    if hours is None and days is None:
        return DEFAULT_OPENING_HOURS
    text = ("08:00-19:00" if hours is None else hours).strip()
    try:
        if text[:1].isdigit():
            try:
                opening = parse_days("mon-fri" if days is None else days)
            except ScheduleError as exc:
                raise UsageError(f"--days: {exc}") from None
            return Schedule(tuple(parse_times(opening, text)))
        if days is not None:
            raise UsageError(
                '--days goes with times-only --hours; here write the days in --hours ("mon-fri 08:00-19:00")'
            )
        return parse_schedule(text)
    except ScheduleError as exc:
        raise UsageError(f"--hours: {exc}") from None


def _opening_hours(args: argparse.Namespace, config: NodeConfig | None) -> tuple[Schedule, str, Schedule | None]:
    """The hours utilisation counts, where they come from, and the site's when they differ (see page.Context)."""
    collector = config.collector if config else None
    site = collector.opening_hours if collector is not None else None
    site_set = collector is not None and "opening_hours" in collector.model_fields_set
    if args.hours is not None or args.days is not None:
        given = opening_hours(args.hours, args.days)
        if site is None:
            return given, "given", None
        return (given, "site", site) if given == site else (given, "override", site)
    if site is None:
        return DEFAULT_OPENING_HOURS, "default", None
    return site, "site" if site_set else "unset", site


def _assumptions(args: argparse.Namespace, config: NodeConfig | None) -> Assumptions:
    """The config's report section, with the modes and factors given for this report."""
    if args.commute_km is not None or args.co2_per_km is not None:
        raise UsageError(
            "--commute-km and --co2-per-km were replaced by commuting assumptions per mode: set report.commute in"
            " the config, or give --mode car=1:10 (share, one-way km) and --factor car=0.19 for this report"
        )
    section = config.report if config is not None and config.report is not None else ReportConfig()
    if args.min_count is not None and args.min_count < 1:
        raise UsageError("--min-count: the small-count threshold must be at least 1")
    try:
        modes = [parse_mode(text) for text in args.mode]
    except ValueError as exc:
        raise UsageError(f"--mode: {exc}") from None
    factors: dict[str, float] = {}
    for text in args.factor:
        mode, sep, kg = text.partition("=")
        try:
            if not sep:
                raise ValueError("write a factor as MODE=KG, e.g. car=0.19 (kg CO2e per passenger-km)")
            factors[mode.strip()] = Factor(float(kg)).kg_per_km
        except ValueError as exc:
            raise UsageError(f"--factor: {text!r}: {exc}") from None
    try:
        commute = with_overrides(section.to_commute(), modes, factors)
    except ValueError as exc:
        raise UsageError(f"--mode: {exc}") from None
    return Assumptions(commute, args.min_count if args.min_count is not None else section.min_count)


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise UsageError(f"unknown time zone {name!r} (use an IANA name such as Europe/Paris)") from None


def _source(args: argparse.Namespace, config: NodeConfig | None, tz: ZoneInfo) -> Source:
    collector = config.collector if config else None
    site = args.site or (config.site if config else None)
    if args.influx or args.influx_url:
        if args.store:
            raise UsageError("--store and InfluxDB options exclude each other")
        if site is None:
            raise UsageError("InfluxDB holds many sites: give --site or -c with the collector's config")
        return InfluxSource(_influx_settings(args, config), site=site, tz=tz)
    if args.influx_db:
        raise UsageError("--influx-db needs --influx-url")
    directions = dict(collector.directions) if collector else {}
    directions.update({reader: "out" for reader in args.exit_reader})
    if args.store:
        path = args.store
    elif config is not None:
        path = (collector.store_path if collector else None) or config.state_dir / "collector.sqlite3"
    else:
        raise UsageError("give -c with the collector's config, --store, or --influx-url")
    try:
        return StoreSource(path, directions=directions, site=site)
    except SourceError as exc:
        raise UsageError(str(exc)) from None


def _influx_settings(args: argparse.Namespace, config: NodeConfig | None) -> InfluxSettings:
    if args.influx_url:
        if not args.influx_db:
            raise UsageError("--influx-url needs --influx-db (the database or bucket holding the derived series)")
        token = secret(args.influx_token_file, "--influx-token-file")
        password = secret(args.influx_password_file, "--influx-password-file")
        return InfluxSettings.from_bucket(
            args.influx_url, args.influx_db, token=token, username=args.influx_user, password=password
        )
    if config is None or config.collector is None or config.collector.influx is None:
        raise UsageError("--influx reads collector.influx from -c FILE, and that config has none")
    return InfluxSettings.from_config(config.collector.influx)
