"""`edge collector -c FILE`: run the collector (MQTT -> local store -> InfluxDB) until SIGTERM."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from edge.daemons.launch import Launch, add_daemon_arguments, run_daemon


def register(sub: Any) -> None:
    """Add the collector command."""
    parser = sub.add_parser("collector", help="store-and-forward the site's events to InfluxDB", description=__doc__)
    add_daemon_arguments(parser)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Load the config, build the collector and run it (its `collector` section is optional: defaults)."""
    from edge.collector.service import SWITCH_INTERVAL_S, Collector

    def build(launch: Launch) -> Collector:
        collector = Collector(launch.config, clock=launch.clock)
        sys.setswitchinterval(SWITCH_INTERVAL_S)  # process-wide, so set by the daemon, not by the class
        return collector

    return run_daemon(args, name="collector", build=build, tick=Collector.tick)
