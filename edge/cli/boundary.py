"""The one place where errors become exit codes: 0 done, 1 failed while running, 2 cannot run as configured or
given, 130 interrupted. A command raises; it never prints its own "N problems" list or picks a number.

ConfigError (a config, or a file it names, that cannot be used) prints every issue under its source and exits 2;
UsageError (options that exclude each other, a bad value) exits 2; any other EdgeError (a store that cannot be
written, a self-test that failed, a device, a broker or a data source) exits 1, its message on standard error,
or logged at ERROR once a daemon has set up its logging (so `journalctl -p err` shows why a unit stopped).
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterable

from edge.errors import ConfigError, EdgeError, UsageError

log = logging.getLogger(__name__)

EXIT_OK = 0
EXIT_FAILURE = 1
EXIT_CONFIG = 2
EXIT_INTERRUPTED = 130


def print_problems(source: object, issues: Iterable[str]) -> None:
    """Every issue of a file that cannot be used, under one line naming the file and their count."""
    listed = list(issues)
    print(f"{source}: {len(listed)} problem{'' if len(listed) == 1 else 's'}", file=sys.stderr)
    for issue in listed:
        print(f"  {issue}", file=sys.stderr)


def exit_code(command: str, exc: BaseException, default_source: object = None) -> int:
    """Say what went wrong on standard error and return the exit code for it; re-raise what is not edge's."""
    if isinstance(exc, KeyboardInterrupt):
        return EXIT_INTERRUPTED
    if isinstance(exc, ConfigError):
        print_problems(exc.source if exc.source is not None else (default_source or command), exc.issues)
        return EXIT_CONFIG
    if isinstance(exc, UsageError):
        print(f"{command}: {exc}", file=sys.stderr)
        return EXIT_CONFIG
    if isinstance(exc, EdgeError):
        if logging.getLogger().handlers:  # a daemon's logging (journald or stderr, with priorities) is set up
            log.error("%s: cannot go on: %s", command, exc)
        else:
            print(f"{command}: cannot go on: {exc}", file=sys.stderr)
        return EXIT_FAILURE
    raise exc
