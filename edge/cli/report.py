"""`edge report`: the occupancy and impact report for a period, as one HTML page and a CSV of its figures.

Reads the collector's local store (`-c` collector config, or `--store`) or InfluxDB (`--influx` with the
collector config's `influx` section, or `--influx-url` and `--influx-db`). With `--network`, the portfolio of a
network of sites from its central store (`-c` is then the network report's file). Exit codes: 0 written; 1 the
data source could not be read; 2 an option or the config must be fixed.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from edge.config import NodeConfig, load_config
from edge.errors import ConfigError, SourceError
from edge.report.build import DEFAULT_STEP_S, csv_path, make_report, resolve_period, save
from edge.report.influx_source import InfluxSettings, InfluxSource, secret
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
    est = parser.add_argument_group("assumptions")
    defaults = Assumptions()
    est.add_argument(
        "--commute-km",
        type=float,
        default=defaults.commute_km_per_member_day,
        help=f"round-trip commute avoided per member-day, km (default {defaults.commute_km_per_member_day:g})",
    )
    est.add_argument(
        "--co2-per-km",
        type=float,
        default=defaults.kg_co2_per_km,
        help=f"kg CO2 per km avoided (default {defaults.kg_co2_per_km}, average French car)",
    )
    est.add_argument(
        "--min-count",
        type=int,
        default=defaults.min_count,
        help=f"withhold counts of people below this (default {defaults.min_count})",
    )
    est.add_argument("--step", type=int, default=DEFAULT_STEP_S, help="occupancy sampling step, seconds (default 300)")
    parser.add_argument("-o", "--out", type=Path, default=Path("report.html"), help="HTML file (CSV next to it)")
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
        hours = opening_hours(args.hours, args.days)
        assumptions = Assumptions(args.commute_km, args.co2_per_km, args.min_count)
        source = _source(args, config)
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
        report = make_report(source, period, hours, assumptions, step_s=args.step, generated=generated)
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


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise UsageError(f"unknown time zone {name!r} (use an IANA name such as Europe/Paris)") from None


def _source(args: argparse.Namespace, config: NodeConfig | None) -> Source:
    collector = config.collector if config else None
    site = args.site or (config.site if config else None)
    if args.influx or args.influx_url:
        if args.store:
            raise UsageError("--store and InfluxDB options exclude each other")
        if site is None:
            raise UsageError("InfluxDB holds many sites: give --site or -c with the collector's config")
        return InfluxSource(_influx_settings(args, config), site=site)
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
