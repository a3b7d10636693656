"""`edge report --network -c network.yaml`: the funders' portfolio across the sites of a network, from its central
store (not a command of its own: `edge report` hands over to it). Exit codes as for `edge report`."""

from __future__ import annotations

import argparse
import datetime as dt
import os
import sys
from pathlib import Path

from edge.config.loader import load_network_config
from edge.errors import ConfigError, SourceError
from edge.i18n import language
from edge.report.build import csv_path, resolve_period
from edge.report.portfolio_build import make_portfolio

# Options of `edge report` that read one site and mean nothing for a network.
SITE_OPTIONS = ("store", "influx", "influx_url", "influx_db", "site", "exit_reader", "hours", "days")


def run_network(args: argparse.Namespace) -> int:
    """Read the network report's file, make the portfolio for the period, write the page and its CSV."""
    if args.config is None:
        print("edge report --network: give -c with the network report's file (docs/report.md)", file=sys.stderr)
        return 2
    used = [name for name in SITE_OPTIONS if getattr(args, name, None)]
    if used:
        names = ", ".join("--" + name.replace("_", "-") for name in used)
        print(f"edge report --network: {names} read one site; a network's portfolio reads its central store",
              file=sys.stderr)  # fmt: skip
        return 2
    if args.timezone:
        print(
            "edge report --network: the network's time zone is `timezone` in its file, not --timezone", file=sys.stderr
        )
        return 2
    try:
        config = load_network_config(args.config)
        lang = language(getattr(args, "lang", None) or os.environ.get("EDGE_LANG"))
        period = resolve_period(config.tz, args.day, args.start, args.end)
    except ConfigError as exc:
        print(f"{args.config}: {len(exc.issues)} problem(s)", file=sys.stderr)
        for issue in exc.issues:
            print(f"  {issue}", file=sys.stderr)
        return 2
    except ValueError as exc:
        print(f"edge report --network: {exc}", file=sys.stderr)
        return 2
    try:
        made = make_portfolio(config, period, now=dt.datetime.now(dt.UTC), lang=lang)
    except ConfigError as exc:
        print(f"{args.config}: {'; '.join(exc.issues)}", file=sys.stderr)
        return 2
    except SourceError as exc:
        print(f"edge report --network: {exc}", file=sys.stderr)
        return 1
    out: Path = args.out
    try:
        write(out, made.html)
        write(csv_path(out), made.csv)
    except OSError as exc:
        print(f"edge report --network: cannot write {out}: {exc.strerror or exc}", file=sys.stderr)
        return 2
    sites, flagged = len(made.portfolio.sites), len(made.portfolio.flagged)
    print(f"portfolio: {out}\nfigures: {csv_path(out)}\nsites: {sites}, {flagged} with incomplete data")
    from edge.cli.report import write_pdf

    return write_pdf(made.html, args)


def write(path: Path, text: str) -> None:
    """Write a file whole (temporary file, then rename)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(path)
