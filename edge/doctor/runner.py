"""Runs the checks in order; a check that crashes is itself reported, never hidden."""

from __future__ import annotations

from collections.abc import Callable, Iterator

from edge.doctor.broker import check_broker
from edge.doctor.checks import Check, Context, check_clock, check_config, check_state_dir
from edge.doctor.devices import device_checks
from edge.doctor.report import Result, Status

BASE_CHECKS: list[Check] = [check_config, check_state_dir, check_clock, check_broker]
"""The checks every node gets, in order; the config check comes first (nothing else runs without a config)."""


def run_checks(
    ctx: Context, checks: list[Check] | None = None, on_result: Callable[[Result], None] | None = None
) -> list[Result]:
    """Run every check for the node; stop after the config check if the config is invalid.

    `on_result` sees each result as soon as its check finishes (the installer reads along while the doctor
    waits for a card or a door).
    """
    results: list[Result] = []

    def run(check: Check) -> None:
        for result in _safe(check, ctx):
            results.append(result)
            if on_result is not None:
                on_result(result)

    for check in checks or BASE_CHECKS:
        run(check)
        if check is BASE_CHECKS[0] and ctx.config is None:
            return results
    if checks is None:
        for check in device_checks(ctx):
            run(check)
    return results


def _safe(check: Check, ctx: Context) -> Iterator[Result]:
    # Results pass on one by one, so each shows while the next part of the same check still waits.
    try:
        yield from check(ctx)
    except Exception as exc:  # a doctor that crashes helps nobody: report it as a failed check
        name = check.__name__.removeprefix("check_").replace("_", " ")
        yield Result(name, Status.FAIL, f"the check itself failed: {type(exc).__name__}: {exc}")
