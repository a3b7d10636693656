"""`edge badge -c FILE`: run the node's standalone badge readers."""

from __future__ import annotations

import argparse
from typing import Any

from edge.daemons.launch import Launch, add_daemon_arguments, prepare
from edge.daemons.runtime import run_service


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
        return run_service("edge badge", BadgeService(launch))
    finally:
        launch.close()
