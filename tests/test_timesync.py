"""Whether the clock is synchronised, as the kernel's adjtimex() says it, and how `edge doctor` reports it."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from edge.doctor.checks import Context, check_clock
from edge.doctor.report import Status
from edge.timesync import clock_synchronised, kernel_clock

# adjtimex() return values and status bits, from <sys/timex.h>
TIME_OK, TIME_INS, TIME_ERROR = 0, 1, 5
STA_PLL, STA_UNSYNC = 0x0001, 0x0040


@pytest.mark.parametrize(
    ("state", "status", "synchronised"),
    [
        (TIME_OK, STA_PLL, True),
        (TIME_INS, STA_PLL, True),  # a leap second pending is still a synchronised clock
        (TIME_ERROR, STA_PLL | STA_UNSYNC, False),
        (TIME_ERROR, STA_PLL, False),
        (TIME_OK, STA_UNSYNC, False),  # the status bit alone says unsynchronised
    ],
)
def test_the_clock_is_synchronised_when_the_kernel_says_neither_error_nor_unsync(
    state: int, status: int, synchronised: bool
) -> None:
    assert clock_synchronised(lambda: (state, status)) is synchronised


def test_without_an_answer_from_the_kernel_nobody_can_tell() -> None:
    assert clock_synchronised(lambda: None) is None


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="adjtimex is Linux's")
def test_this_machine_s_kernel_answers() -> None:
    assert kernel_clock() is not None
    assert clock_synchronised() in (True, False)


def results(tmp_path: Path, synchronised: bool | None) -> list[tuple[Status, str, str]]:
    ctx = Context(config_path=tmp_path / "node.yaml")
    return [(r.status, r.message, r.fix) for r in check_clock(ctx, lambda: synchronised)]


def test_doctor_passes_a_synchronised_clock(tmp_path: Path) -> None:
    assert results(tmp_path, True) == [(Status.OK, "the system clock is synchronised", "")]


def test_doctor_warns_of_an_unsynchronised_clock_and_points_at_ntp(tmp_path: Path) -> None:
    ((status, message, fix),) = results(tmp_path, False)
    assert status is Status.WARN
    assert message.startswith("the system clock is not synchronised")
    assert "timedatectl timesync-status" in fix


def test_doctor_warns_when_it_cannot_tell(tmp_path: Path) -> None:
    ((status, message, _fix),) = results(tmp_path, None)
    assert (status, message) == (Status.WARN, "cannot tell whether the clock is synchronised")
