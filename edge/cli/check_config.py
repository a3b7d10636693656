"""`edge check-config FILE`: validate a node's config and load every file its daemons read at start (trusted keys,
badge key, TLS files) as they do; exit 0 when all is usable, 2 with every issue otherwise."""

from __future__ import annotations

import argparse
from typing import Any

from edge.config import NodeConfig, load_config
from edge.door.lock_wiring import boot_gpio_lines
from edge.errors import ConfigError


def register(sub: Any) -> None:
    """Add the check-config command."""
    parser = sub.add_parser("check-config", help="validate a node's YAML config", description=__doc__)
    parser.add_argument("file", help="path to the node's YAML config")
    parser.add_argument(
        "--no-secrets",
        action="store_true",
        help="do not check the secret and key files the config names (for offline review)",
    )
    parser.add_argument(
        "--boot-gpio",
        action="store_true",
        help="once valid, print only the config.txt lines that hold each door relay at its locked level from boot",
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Validate and report."""
    files = not args.no_secrets
    config: NodeConfig | None
    issues: list[str] = []
    try:
        config = load_config(args.file, check_secrets=files)
    except ConfigError as exc:
        issues = list(exc.issues)
        config = _without_secrets(args.file) if files else None  # the files that are there are still checked
    if config is not None and files:
        issues += _file_issues(config, already=issues)
    if issues:
        raise ConfigError(issues, source=args.file)
    assert config is not None
    if args.boot_gpio:
        for line in boot_gpio_lines((door.name, door.relay) for door in config.doors):
            print(line)
        return 0
    print(f"{args.file}: valid (site {config.site}, node {config.node})")
    return 0


def _without_secrets(path: str) -> NodeConfig | None:
    try:
        return load_config(path, check_secrets=False)
    except ConfigError:
        return None


def _file_issues(config: NodeConfig, *, already: list[str]) -> list[str]:
    """What the daemons' own loaders find in the files (imported here: a config error needs none of it)."""
    from edge.daemons.node_files import node_file_issues

    reported = {issue.split(": ", 1)[0] for issue in already}  # a missing secret file is said once
    return [issue for issue in node_file_issues(config) if not set(issue.split(": ", 1)[0].split(", ")) & reported]
