"""`edge presence -c FILE`: run the node's desk sensors and publish desk and zone occupancy."""

from __future__ import annotations

import argparse
from typing import Any

from edge.daemons.launch import add_daemon_arguments, run_daemon


def register(sub: Any) -> None:
    """Add the presence command."""
    parser = sub.add_parser("presence", help="run the node's desk presence sensors", description=__doc__)
    add_daemon_arguments(parser)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Start the daemon and run until SIGTERM."""
    from edge.daemons.presence import PresenceService

    return run_daemon(
        args, name="edge presence", section="presence", present=lambda c: c.presence is not None, build=PresenceService
    )
