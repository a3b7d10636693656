"""The board: which Raspberry Pi this is, whether edge supports it, and whether its GPIO libraries suit it."""

from __future__ import annotations

from collections.abc import Iterable

from edge.config.readers import Mfrc522ReaderConfig
from edge.doctor.checks import Context
from edge.doctor.report import Result, Status
from edge.doctor.walk import all_readers
from edge.hardware import board as boards

REINSTALL = "rerun the deployment for this node (it installs the pi extra), or in /opt/edge/venv: "
SUPPORTED = "Raspberry Pi 3, 4, 5 or Zero 2 W"


def check_board(ctx: Context) -> Iterable[Result]:
    """Name the board and say what it expects: lgpio for the pins, and RPi.GPIO from rpi-lgpio for an MFRC522."""
    if ctx.config is None:
        return
    board = boards.read_board(ctx.model_file)
    mfrc522 = any(isinstance(reader, Mfrc522ReaderConfig) for reader in all_readers(ctx.config))
    if not board.is_pi:
        if ctx.simulated:
            yield Result("board", Status.OK, "not a Raspberry Pi: the pins and the MFRC522 are simulated")
        else:
            yield Result(
                "board",
                Status.WARN,
                f"not a Raspberry Pi ({ctx.model_file} names no board): the pins, SPI and UART are a Pi's",
                f"run the doctor on the node's Pi ({SUPPORTED})",
            )
        return
    if not board.supported:
        yield Result(
            "board",
            Status.FAIL,
            f"{board.model} is not a board edge supports ({SUPPORTED}, 64-bit Raspberry Pi OS)",
            f"use a {SUPPORTED}",
        )
        return
    expects = "pins through lgpio (the kernel's GPIO device)"
    if mfrc522:
        expects += ", and RPi.GPIO from rpi-lgpio for the MFRC522 library"
    yield Result("board", Status.OK, f"{board.model} ({boards.FAMILIES[board.family]}): expects {expects}")
    if ctx.simulated:
        return
    if not boards.module_installed("lgpio"):
        yield Result(
            "board",
            Status.FAIL,
            "lgpio is not installed: gpiozero cannot drive this Pi's pins without it",
            REINSTALL + "pip install lgpio",
        )
    if mfrc522:
        yield _rpi_gpio_result(board)


def _rpi_gpio_result(board: boards.Board) -> Result:
    providers = boards.gpio_module_providers()
    if not providers:
        return Result(
            "board",
            Status.FAIL,
            "no RPi.GPIO module is installed: the MFRC522 library needs one",
            REINSTALL + "pip install rpi-lgpio",
        )
    if len(providers) > 1:
        return Result(
            "board",
            Status.FAIL,
            f"both {' and '.join(providers)} are installed: each overwrites the other's RPi.GPIO module",
            REINSTALL + "pip uninstall -y RPi.GPIO rpi-lgpio && pip install rpi-lgpio",
        )
    (provider,) = providers
    if not board.accepts_gpio_library(provider):
        return Result(
            "board",
            Status.FAIL,
            f"RPi.GPIO is the original library ({provider}), which cannot drive a {boards.FAMILIES[board.family]}'s "
            "pins (they are on its RP1 chip)",
            REINSTALL + "pip uninstall -y RPi.GPIO && pip install rpi-lgpio",
        )
    if provider == boards.GPIO_SHIM:
        return Result("board", Status.OK, "RPi.GPIO comes from rpi-lgpio, which works on every supported Pi")
    return Result(
        "board",
        Status.OK,
        f"RPi.GPIO is the original library: it works on a {boards.FAMILIES[board.family]} but not on a Pi 5; "
        "the deployment installs rpi-lgpio, which works on both",
    )
