"""`edge <command>`: the command line. Each command lives in its own module and registers itself here."""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from edge import __version__
from edge.cli.boundary import EXIT_FAILURE, exit_code
from edge.errors import EdgeError

# Modules under edge.cli that each define `register(subparsers)`; one line per command. Each registers the
# command named like its module (`check_config` -> `check-config`), so `edge door` imports only edge.cli.door.
COMMAND_MODULES = [
    "check_config",
    "doctor",
    "badge",
    "door",
    "presence",
    "members",
    "demo",
    "collector",
    "report",
    "console",
]


def command_name(module: str) -> str:
    """The command a module under edge.cli registers."""
    return module.replace("_", "-")


def build_parser(only: str | None = None) -> argparse.ArgumentParser:
    """Build the top-level parser with every registered command, or with the one named `only`.

    A daemon imports only its own command's module: every other command's imports (cryptography for the staff
    tool, the doctor's checks) would stay resident in a process that runs for months on a small Pi.
    """
    parser = argparse.ArgumentParser(
        prog="edge",
        description="Doors and desks of a coworking space, run from Raspberry Pis.",
    )
    parser.add_argument("--version", action="version", version=f"edge {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMAND_MODULES:
        if only is None or command_name(name) == only:
            importlib.import_module(f"edge.cli.{name}").register(sub)
    return parser


def _chosen_command(argv: Sequence[str]) -> str | None:
    # The first word when it names a command; otherwise (options first, a typo, --help) the full parser.
    if argv and argv[0] in {command_name(m) for m in COMMAND_MODULES}:
        return argv[0]
    return None


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the process exit code."""
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser(only=_chosen_command(argv))
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return EXIT_FAILURE
    try:
        result: int = args.func(args)
    except (KeyboardInterrupt, EdgeError) as exc:
        return exit_code(f"edge {args.command}", exc, default_source=getattr(args, "config", None))
    return result


if __name__ == "__main__":
    sys.exit(main())
