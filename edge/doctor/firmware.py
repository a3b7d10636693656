"""Which firmware lines (config.txt) and kernel options a node's hardware needs, derived from its config."""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from edge.config import NodeConfig
from edge.config.readers import Mfrc522ReaderConfig, SerialReaderBase
from edge.doctor.checks import Context, boot_config_lines, check_firmware
from edge.doctor.report import Result, Status
from edge.doctor.walk import all_readers, radars
from edge.door.lock_wiring import boot_gpio_setting

UART_PREFIXES = ("ttyAMA", "ttyS", "serial")
"""Kernel names of the Pi's own UARTs (serial0/serial1 are the firmware's aliases for them)."""

STRICT_GPIOD_CMDLINE = "pinctrl_bcm2835.persist_gpio_outputs=n"
"""The kernel command-line equivalent of dtparam=strict_gpiod (firmware_config/README.md)."""


@dataclass(frozen=True)
class Need:
    """A firmware line the hardware needs (any one of `lines` will do), and why, in the installer's words."""

    lines: tuple[str, ...]
    why: str


def pi_model(ctx: Context) -> str:
    """The Pi's model as the firmware names it ("Raspberry Pi 4 Model B Rev 1.4"), or "" off a Pi."""
    try:
        return ctx.model_file.read_bytes().rstrip(b"\0").decode(errors="replace").strip()
    except OSError:
        return ""


def uart_ports(config: NodeConfig) -> list[str]:
    """The serial ports of the node that are the Pi's own UART (following udev symlinks such as /dev/edge-*)."""
    ports = [r.port for r in all_readers(config) if isinstance(r, SerialReaderBase)]
    ports += [s.port for _desk, s in radars(config)]
    return [port for port in ports if Path(os.path.realpath(port)).name.startswith(UART_PREFIXES)]


def firmware_needs(config: NodeConfig, model: str = "") -> list[Need]:
    """The lines config.txt must hold for this node's hardware (firmware_config/README.md explains each)."""
    needs = [Need(("dtparam=watchdog=on",), "the hardware watchdog that resets a hung Pi")]
    if config.doors:
        needs.append(Need(("dtparam=strict_gpiod",), "the lock relay dropping when the door daemon is killed"))
        for door in config.doors:
            why = f"door {door.name}'s relay held at its locked level from power-on"
            needs.append(Need((boot_gpio_setting(door.relay),), why))
    for reader in all_readers(config):
        if isinstance(reader, Mfrc522ReaderConfig):
            if reader.spi_bus == 0:
                needs.append(Need(("dtparam=spi=on",), f"the MFRC522 reader {reader.name} on SPI0"))
            else:
                chip_selects = tuple(f"dtoverlay=spi1-{n}cs" for n in range(reader.spi_device + 1, 4))
                needs.append(Need(chip_selects, f"the MFRC522 reader {reader.name} on SPI1 CE{reader.spi_device}"))
    if uart_ports(config):
        users = "serial readers and radars on the Pi's UART"
        needs.append(Need(("enable_uart=1",), users))
        if "Pi 5" in model:
            needs.append(Need(("dtoverlay=uart0-pi5",), f"{users} (a Pi 5 has UART0 on GPIO14/15 only with it)"))
        elif any(name in model for name in ("Pi 3", "Pi 4", "Zero 2")):
            needs.append(Need(("dtoverlay=disable-bt",), f"{users} (the full PL011 UART, not the mini UART)"))
    return _unique(needs)


def _unique(needs: list[Need]) -> list[Need]:
    merged: dict[tuple[str, ...], Need] = {}
    for need in needs:
        if need.lines in merged:
            merged[need.lines] = Need(need.lines, f"{merged[need.lines].why}; {need.why}")
        else:
            merged[need.lines] = need
    return list(merged.values())


def check_firmware_config(ctx: Context) -> Iterable[Result]:
    """config.txt has the lines the node's hardware needs; the serial console does not use the readers' UART."""
    if ctx.config is None:
        return
    needs = firmware_needs(ctx.config, pi_model(ctx))
    lines = boot_config_lines(ctx.boot_config) or set()
    cmdline = _cmdline(ctx)
    chosen: dict[str, str] = {}
    for need in needs:
        if need.lines == ("dtparam=strict_gpiod",) and STRICT_GPIOD_CMDLINE in cmdline:
            yield Result("firmware config", Status.OK, f"{STRICT_GPIOD_CMDLINE} is set in cmdline.txt ({need.why})")
            continue
        present = [line for line in need.lines if line.replace(" ", "") in lines]
        chosen[(present or list(need.lines))[0]] = need.why
    yield from check_firmware(ctx, chosen)
    yield from _uart_choice(ctx.config, pi_model(ctx))
    if uart_ports(ctx.config) and any(word.startswith("console=serial") for word in cmdline):
        yield Result(
            "firmware config",
            Status.FAIL,
            "the serial login console uses the UART the readers/radars are on (console=serial0 in cmdline.txt)",
            "remove `console=serial0,115200` from cmdline.txt (raspi-config: Serial Port, login shell No, "
            "hardware Yes) and reboot",
        )


def _uart_choice(config: NodeConfig, model: str) -> Iterable[Result]:
    # Both mistakes give a port that opens fine and then loses or never gets the reader's bytes.
    for port in uart_ports(config):
        kernel = Path(os.path.realpath(port)).name
        if kernel.startswith("ttyS"):
            yield Result(
                "firmware config",
                Status.WARN,
                f"{port} is the mini UART ({kernel}), which loses characters (its clock follows the CPU's)",
                "apply the uart-gpio fragment (dtoverlay=disable-bt), reboot, and use /dev/ttyAMA0",
            )
        elif kernel == "ttyAMA10" or (port.endswith("serial0") and "Pi 5" in model):
            yield Result(
                "firmware config",
                Status.WARN,
                f"{port} is the Pi 5's debug header ({kernel}), not GPIO14/15",
                "apply the uart-gpio fragment (dtoverlay=uart0-pi5), reboot, and use /dev/ttyAMA0",
            )


def _cmdline(ctx: Context) -> set[str]:
    try:
        return set((ctx.boot_config.parent / "cmdline.txt").read_text().split())
    except OSError:
        return set()
