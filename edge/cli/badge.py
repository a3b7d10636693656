"""`edge badge -c FILE`: run the node's standalone badge readers."""

from __future__ import annotations

import argparse
from typing import Any

from edge.daemons.launch import Launch, add_daemon_arguments, prepare, report_config_error
from edge.daemons.runtime import run_service
from edge.errors import ConfigError


def register(sub: Any) -> None:
    """Add the badge command."""
    parser = sub.add_parser("badge", help="run the standalone badge readers", description=__doc__)
    add_daemon_arguments(parser)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Start the daemon and run until SIGTERM."""
    launch = prepare(args)
    if not isinstance(launch, Launch):
        return launch
    if not launch.config.readers:
        print(f"{args.config}: no `readers` section: nothing for edge badge to run")
        launch.close()
        return 2
    from edge.daemons.badge import BadgeService

    try:
        service = BadgeService(launch)
    except ConfigError as exc:  # the badge key or a TLS file it names cannot be used
        launch.close()
        return report_config_error(args.config, exc)
    try:
        return run_service("edge badge", service)
    finally:
        launch.close()
