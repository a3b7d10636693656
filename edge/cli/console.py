"""`edge console -c FILE`: the staff console over HTTPS; `edge console -c FILE create-user NAME --role ROLE`.

Runs on the hub (the broker host). Django and the web server are imported only here, only when the command
runs: no daemon loads them. Exit codes: 0 stopped cleanly; 1 could not start (port taken, bad certificate);
2 the config, a key file or an argument must be fixed.
"""

from __future__ import annotations

import argparse
import getpass
import sys
from pathlib import Path
from typing import Any

from edge.config import NodeConfig, load_config
from edge.errors import ConfigError


def register(sub: Any) -> None:
    """Add the console command and its actions."""
    parser = sub.add_parser("console", help="the staff console (web, HTTPS) on the hub", description=__doc__)
    parser.add_argument("-c", "--config", required=True, type=Path, help="the hub's config, with a console section")
    parser.add_argument(
        "--sim-clock", metavar="START@SPEED", help="run on an accelerated clock (the demo's simulated day only)"
    )
    actions = parser.add_subparsers(dest="action", metavar="ACTION")
    create = actions.add_parser("create-user", help="create a staff account (the first manager, typically)")
    create.add_argument("name", help="user name")
    create.add_argument(
        "--role", required=True, choices=["manager", "viewer"], help="manager: everything; viewer: read"
    )
    create.add_argument("--password-stdin", action="store_true", help="read the password from standard input")
    parser.set_defaults(func=run)


def _config(path: Path) -> NodeConfig | int:
    try:
        config = load_config(path)
    except ConfigError as exc:
        print(f"{path}: {len(exc.issues)} problem(s)", file=sys.stderr)
        for issue in exc.issues:
            print(f"  {issue}", file=sys.stderr)
        return 2
    if config.console is None:
        print(f"{path}: console: required key is missing (the console's section)", file=sys.stderr)
        return 2
    return config


def run(args: argparse.Namespace) -> int:
    """Serve, or create a user."""
    config = _config(args.config)
    if isinstance(config, int):
        return config
    from edge.console.runtime import Runtime
    from edge.console.settings import configure
    from edge.daemons.runtime import setup_logging

    setup_logging(config.log_level)
    try:
        runtime = Runtime.from_config(config)
        if args.sim_clock:
            from edge.clock import ScaledClock

            runtime.clock = ScaledClock.parse(args.sim_clock)
    except ConfigError as exc:
        for issue in exc.issues:
            print(f"edge console: {issue}", file=sys.stderr)
        return 2
    except ValueError as exc:
        print(f"edge console: --sim-clock: {exc}", file=sys.stderr)
        return 2
    configure(config)
    from django.core.management import call_command

    call_command("migrate", verbosity=0, interactive=False)
    if args.action == "create-user":
        return _create_user(args)
    return _serve(runtime)


def _create_user(args: argparse.Namespace) -> int:
    from django.contrib.auth.password_validation import validate_password
    from django.core.exceptions import ValidationError

    from edge.console.models import StaffUser

    if StaffUser.objects.filter(username=args.name).exists():
        print(f"edge console: user {args.name!r} already exists", file=sys.stderr)
        return 2
    if args.password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = getpass.getpass(f"password for {args.name}: ")
        if getpass.getpass("again: ") != password:
            print("edge console: the passwords differ", file=sys.stderr)
            return 2
    user = StaffUser(username=args.name, role=args.role)
    try:
        validate_password(password, user)
    except ValidationError as exc:
        for message in exc.messages:
            print(f"edge console: password: {message}", file=sys.stderr)
        return 2
    user.set_password(password)
    user.save()
    from edge.console import audit

    audit.record(None, "staff.add", target=user.username, user="edge console create-user", role=user.role)
    print(f"created {args.role} {args.name}")
    return 0


def _serve(runtime: Any) -> int:
    from edge.console.server import ConsoleService
    from edge.daemons.runtime import run_service

    try:
        service = ConsoleService(runtime)
    except (OSError, ValueError) as exc:
        print(f"edge console: {exc}", file=sys.stderr)
        return 1
    return run_service("console", service)
