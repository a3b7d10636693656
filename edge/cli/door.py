"""`edge door -c FILE`: run the node's doors: readers, membership rules and relays, in one process."""

from __future__ import annotations

import argparse
from typing import Any

from edge.daemons.launch import add_daemon_arguments, run_daemon


def register(sub: Any) -> None:
    """Add the door command."""
    parser = sub.add_parser("door", help="run the node's doors", description=__doc__)
    add_daemon_arguments(parser)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Start the daemon and run until SIGTERM."""
    from edge.door.service import DoorService

    return run_daemon(
        args, name="edge door", section="doors", present=lambda c: c.doors, build=DoorService, tick=DoorService.refresh
    )
