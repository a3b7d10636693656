"""`edge check-config FILE`: validate a node's config; exit 0 when valid, 2 with every issue otherwise."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from edge.config import load_config
from edge.errors import ConfigError
from edge.hardware.lock_wiring import boot_gpio_lines


def register(sub: Any) -> None:
    """Add the check-config command."""
    parser = sub.add_parser("check-config", help="validate a node's YAML config", description=__doc__)
    parser.add_argument("file", help="path to the node's YAML config")
    parser.add_argument(
        "--no-secrets", action="store_true", help="do not check that secret files exist (for offline review)"
    )
    parser.add_argument(
        "--boot-gpio",
        action="store_true",
        help="once valid, print only the config.txt lines that hold each door relay at its locked level from boot",
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Validate and report."""
    try:
        config = load_config(args.file, check_secrets=not args.no_secrets)
    except ConfigError as exc:
        print(f"{args.file}: {len(exc.issues)} problem(s)", file=sys.stderr)
        for issue in exc.issues:
            print(f"  {issue}", file=sys.stderr)
        return 2
    if args.boot_gpio:
        for line in boot_gpio_lines((door.name, door.relay) for door in config.doors):
            print(line)
        return 0
    print(f"{args.file}: valid (site {config.site}, node {config.node})")
    return 0
