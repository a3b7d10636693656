"""`edge presence -c FILE`: run the node's desk sensors and publish desk and zone occupancy."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from edge.daemons.launch import Launch, add_daemon_arguments, prepare, report_config_error
from edge.daemons.runtime import run_service
from edge.errors import ConfigError, EdgeError


def register(sub: Any) -> None:
    """Add the presence command."""
    parser = sub.add_parser("presence", help="run the node's desk presence sensors", description=__doc__)
    add_daemon_arguments(parser)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Start the daemon and run until SIGTERM."""
    launch = prepare(args)
    if not isinstance(launch, Launch):
        return launch
    if launch.config.presence is None:
        print(f"{args.config}: no `presence` section: nothing for edge presence to run", file=sys.stderr)
        launch.close()
        return 2
    from edge.daemons.presence import PresenceService

    try:
        service = PresenceService(launch)
    except ConfigError as exc:  # a TLS file it names cannot be used
        launch.close()
        return report_config_error(args.config, exc)
    except EdgeError as exc:  # e.g. another daemon holds this node's outbox
        print(f"edge presence: {exc}", file=sys.stderr)
        launch.close()
        return 1
    try:
        return run_service("edge presence", service)
    finally:
        launch.close()
