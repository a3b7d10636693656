"""The command line's one boundary: what a command raises becomes one message and one exit code, in one place."""

from __future__ import annotations

import logging
import re
from pathlib import Path

import pytest

from edge.cli.boundary import EXIT_CONFIG, EXIT_FAILURE, EXIT_INTERRUPTED, exit_code
from edge.errors import ConfigError, SelfTestError, SourceError, StoreError, UsageError
from tests.rig.fixtures import REPO, run_edge

CLI = REPO / "edge" / "cli"


def test_a_config_error_lists_every_problem_under_its_file_and_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    error = ConfigError(["doors[0].relay.pin: required key is missing", "mqtt.port: must be > 0"], source="node.yaml")
    assert exit_code("edge door", error) == EXIT_CONFIG
    assert capsys.readouterr().err.splitlines() == [
        "node.yaml: 2 problems",
        "  doors[0].relay.pin: required key is missing",
        "  mqtt.port: must be > 0",
    ]


def test_a_config_error_without_a_source_is_named_after_the_command_line_file(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert exit_code("edge report", ConfigError(["report.min_count: must be >= 1"]), "site.yaml") == EXIT_CONFIG
    assert capsys.readouterr().err.startswith("site.yaml: 1 problem\n")


def test_a_usage_error_exits_2_naming_the_command(capsys: pytest.CaptureFixture[str]) -> None:
    assert exit_code("edge demo", UsageError("--speed must be between 0 and 2000")) == EXIT_CONFIG
    assert capsys.readouterr().err == "edge demo: --speed must be between 0 and 2000\n"


@pytest.mark.parametrize("error", [StoreError("outbox locked"), SelfTestError("RFC 8032 test 1"), SourceError("x")])
def test_a_failure_while_running_exits_1_with_its_message(
    error: Exception, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(logging.getLogger(), "handlers", [])  # a command that has not set up logging
    assert exit_code("edge report", error) == EXIT_FAILURE
    assert capsys.readouterr().err == f"edge report: cannot go on: {error}\n"


def test_a_daemon_failure_is_logged_at_error_priority(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO):
        assert exit_code("edge door", StoreError("the state folder is not writable")) == EXIT_FAILURE
    assert [(r.levelno, r.getMessage()) for r in caplog.records] == [
        (logging.ERROR, "edge door: cannot go on: the state folder is not writable")
    ]


def test_an_interrupt_exits_130() -> None:
    assert exit_code("edge demo", KeyboardInterrupt()) == EXIT_INTERRUPTED


def test_an_exception_that_is_not_edges_is_not_hidden() -> None:
    with pytest.raises(ZeroDivisionError):
        exit_code("edge door", ZeroDivisionError())


def test_only_the_boundary_prints_a_count_of_problems() -> None:
    printers = [p.name for p in CLI.glob("*.py") if re.search(r"len\(\w+\.issues\)|problem\(s\)", p.read_text())]
    assert printers == []


def test_every_daemon_command_starts_through_run_daemon() -> None:
    for name in ("door", "badge", "presence", "collector"):
        text = (CLI / f"{name}.py").read_text()
        assert "run_daemon(" in text and "run_service" not in text and "return 2" not in text, name


@pytest.mark.parametrize(("command", "section"), [("badge", "readers"), ("door", "doors"), ("presence", "presence")])
def test_a_daemon_without_its_section_exits_2_naming_the_file_and_the_section(
    tmp_path: Path, command: str, section: str
) -> None:
    config = tmp_path / "node.yaml"
    config.write_text("site: demo\nnode: pi-1\n")
    done = run_edge(command, "-c", str(config))
    assert done.returncode == 2, done.stderr
    assert done.stderr.splitlines()[:2] == [
        f"{config}: 1 problem",
        f"  no `{section}` section: nothing for edge {command} to run",
    ]


def test_a_simulated_clock_without_simulated_pins_exits_2(tmp_path: Path) -> None:
    config = tmp_path / "node.yaml"
    config.write_text("site: demo\nnode: pi-1\n")
    done = run_edge("badge", "-c", str(config), "--sim-clock", "2026-12-05T08:00@60")
    assert done.returncode == 2
    assert "edge badge: --sim-clock only makes sense with --simulate" in done.stderr
