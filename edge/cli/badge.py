"""`edge badge -c FILE`: run the node's standalone badge readers."""

from __future__ import annotations

import argparse
from typing import Any

from edge.daemons.launch import add_daemon_arguments, run_daemon


def register(sub: Any) -> None:
    """Add the badge command."""
    parser = sub.add_parser("badge", help="run the standalone badge readers", description=__doc__)
    add_daemon_arguments(parser)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Start the daemon and run until SIGTERM."""
    from edge.daemons.badge import BadgeService

    return run_daemon(args, name="edge badge", section="readers", present=lambda c: c.readers, build=BadgeService)
