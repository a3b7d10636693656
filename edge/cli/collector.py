"""`edge collector -c FILE`: run the collector (MQTT -> local store -> InfluxDB) until SIGTERM."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from edge.config import load_config
from edge.errors import ConfigError, StoreError


def register(sub: Any) -> None:
    """Add the collector command."""
    parser = sub.add_parser("collector", help="store-and-forward the site's events to InfluxDB", description=__doc__)
    parser.add_argument("-c", "--config", required=True, help="path to the node's YAML config")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Load the config, build the collector and run it."""
    from edge.collector.service import Collector
    from edge.daemons.runtime import run_service, setup_logging

    try:
        config = load_config(args.config)
    except ConfigError as exc:
        print(f"{args.config}: {len(exc.issues)} problem(s)", file=sys.stderr)
        for issue in exc.issues:
            print(f"  {issue}", file=sys.stderr)
        return 2
    setup_logging(config.log_level)
    try:
        collector = Collector(config)
    except StoreError as exc:
        print(f"edge collector: {exc}", file=sys.stderr)
        return 1
    return run_service("collector", collector, on_tick=collector.tick)
