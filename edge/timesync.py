"""Is the system clock synchronised? Asked of the kernel (adjtimex), as systemd-timesyncd and chrony report it."""

from __future__ import annotations

import ctypes
import ctypes.util
from collections.abc import Callable
from functools import cache

_TIME_ERROR = 5  # adjtimex() return value: the clock is not synchronised
_STA_UNSYNC = 0x0040


class _Timex(ctypes.Structure):
    # struct timex from <sys/timex.h> (Linux, 64-bit and 32-bit longs alike through c_long)
    _fields_ = [
        ("modes", ctypes.c_uint),
        ("offset", ctypes.c_long),
        ("freq", ctypes.c_long),
        ("maxerror", ctypes.c_long),
        ("esterror", ctypes.c_long),
        ("status", ctypes.c_int),
        ("constant", ctypes.c_long),
        ("precision", ctypes.c_long),
        ("tolerance", ctypes.c_long),
        ("time_sec", ctypes.c_long),
        ("time_usec", ctypes.c_long),
        ("tick", ctypes.c_long),
        ("ppsfreq", ctypes.c_long),
        ("jitter", ctypes.c_long),
        ("shift", ctypes.c_int),
        ("stabil", ctypes.c_long),
        ("jitcnt", ctypes.c_long),
        ("calcnt", ctypes.c_long),
        ("errcnt", ctypes.c_long),
        ("stbcnt", ctypes.c_long),
        ("tai", ctypes.c_int),
        ("_padding", ctypes.c_int * 11),
    ]


@cache
def _libc() -> ctypes.CDLL | None:
    name = ctypes.util.find_library("c")
    return ctypes.CDLL(name, use_errno=True) if name else None


KernelClock = Callable[[], "tuple[int, int] | None"]
"""Asks the kernel about its clock: adjtimex()'s return value (the clock state) and the timex status bits."""


def kernel_clock() -> tuple[int, int] | None:
    """adjtimex()'s clock state and status bits, read without changing anything; None without libc or on error."""
    libc = _libc()
    if libc is None:
        return None
    timex = _Timex()  # modes 0: read only
    state = libc.adjtimex(ctypes.byref(timex))
    if state < 0:
        return None
    return state, timex.status


def clock_synchronised(ask: KernelClock = kernel_clock) -> bool | None:
    """True when NTP (or another discipline) has synchronised the clock, False when not, None if unknowable."""
    answer = ask()
    if answer is None:
        return None
    state, status = answer
    return state != _TIME_ERROR and not status & _STA_UNSYNC
