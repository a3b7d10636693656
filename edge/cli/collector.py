"""`edge collector -c FILE`: run the collector (MQTT -> local store -> InfluxDB) until SIGTERM."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from edge.daemons.launch import Launch, add_daemon_arguments, prepare, report_config_error
from edge.errors import ConfigError, StoreError


def register(sub: Any) -> None:
    """Add the collector command."""
    parser = sub.add_parser("collector", help="store-and-forward the site's events to InfluxDB", description=__doc__)
    add_daemon_arguments(parser)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Load the config, build the collector and run it."""
    from edge.collector.service import SWITCH_INTERVAL_S, Collector
    from edge.daemons.runtime import run_service

    launch = prepare(args)
    if not isinstance(launch, Launch):
        return launch
    try:
        collector = Collector(launch.config, clock=launch.clock)
    except ConfigError as exc:  # a TLS file it names cannot be used
        launch.close()
        return report_config_error(args.config, exc)
    except StoreError as exc:
        print(f"edge collector: {exc}", file=sys.stderr)
        launch.close()
        return 1
    sys.setswitchinterval(SWITCH_INTERVAL_S)  # process-wide, so set by the daemon, not by the class
    try:
        return run_service("collector", collector, on_tick=collector.tick)
    finally:
        launch.close()
