"""The command line: every command registers under its module's name, and a daemon loads only its own command."""

from __future__ import annotations

import subprocess
import sys

import pytest

from edge.cli import COMMAND_MODULES, build_parser, command_name
from tests.rig.fixtures import REPO, edge_env, run_edge


def subcommands(parser) -> set[str]:  # type: ignore[no-untyped-def]
    return {name for action in parser._subparsers._group_actions for name in action.choices}


@pytest.mark.parametrize("module", COMMAND_MODULES)
def test_each_command_module_registers_the_command_named_like_it(module: str) -> None:
    assert subcommands(build_parser(only=command_name(module))) == {command_name(module)}


def test_the_full_parser_has_every_command() -> None:
    assert subcommands(build_parser()) == {command_name(m) for m in COMMAND_MODULES}


def test_help_lists_every_command() -> None:
    result = run_edge("--help", timeout=30)
    assert result.returncode == 0
    for module in COMMAND_MODULES:
        assert command_name(module) in result.stdout


def test_a_daemon_command_does_not_load_the_staff_tools() -> None:
    # The staff tool's cryptography and the doctor's checks would stay resident in a daemon for months.
    heavy = ("cryptography", "edge.cli.", "edge.staff", "edge.doctor")
    code = (
        "import sys\n"
        "from edge.cli import main\n"
        "try:\n"
        "    main(['presence', '--help'])\n"
        "except SystemExit:\n"
        "    pass\n"
        f"print(sorted(m for m in sys.modules if m.startswith({heavy!r})))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=edge_env(), cwd=REPO, timeout=30
    )
    assert result.returncode == 0, result.stderr
    # the boundary (errors to exit codes, a few lines, no imports of its own) and the command's own module
    assert result.stdout.strip().splitlines()[-1] == "['edge.cli.boundary', 'edge.cli.presence']"
