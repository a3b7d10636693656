"""`edge door -c FILE`: run the node's doors: readers, membership rules and relays, in one process."""

from __future__ import annotations

import argparse
import logging
import sys
from typing import Any

from edge.daemons.launch import Launch, add_daemon_arguments, prepare, report_config_error
from edge.daemons.runtime import run_service
from edge.errors import ConfigError, SelfTestError, StoreError

log = logging.getLogger(__name__)


def register(sub: Any) -> None:
    """Add the door command."""
    parser = sub.add_parser("door", help="run the node's doors", description=__doc__)
    add_daemon_arguments(parser)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Start the daemon and run until SIGTERM."""
    launch = prepare(args)
    if not isinstance(launch, Launch):
        return launch
    if not launch.config.doors:
        print(f"{args.config}: no `doors` section: nothing for edge door to run", file=sys.stderr)
        launch.close()
        return 2
    from edge.door.service import DoorService

    try:
        service = DoorService(launch)
    except SelfTestError as exc:  # the config is fine: exit 1, and systemd's restarts keep the relay locked
        log.error(
            "edge door: cannot start: the Ed25519 self-test of the OpenSSL libcrypto failed (%s); this door "
            "could not tell a genuine member snapshot or staff command from a forged one. Reinstall or upgrade "
            "OpenSSL (Debian: libssl3), then restart edge-door",
            exc,
        )
        launch.close()
        return 1
    except ConfigError as exc:  # a key file, the badge key or a TLS file it names cannot be used
        launch.close()
        return report_config_error(args.config, exc)
    except (StoreError, OSError) as exc:  # e.g. the state folder is not writable, or another daemon owns it
        print(f"edge door: cannot start: {exc}", file=sys.stderr)
        launch.close()
        return 1
    try:
        return run_service("edge door", service, on_tick=service.refresh)
    finally:
        launch.close()
