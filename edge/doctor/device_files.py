"""The device files the node's hardware needs exist and the daemon's user may open them."""

from __future__ import annotations

import glob
from collections.abc import Iterable
from pathlib import Path

from edge.config import NodeConfig
from edge.config.base import iter_claims
from edge.config.readers import Mfrc522ReaderConfig, SerialReaderBase
from edge.doctor.checks import Context, check_device_file
from edge.doctor.report import Result, Status
from edge.doctor.walk import all_readers, radars


def serial_ports(config: NodeConfig) -> list[tuple[str, str]]:
    """(what, port) for every serial reader and radar; pyserial URLs (rfc2217://...) are not files."""
    ports = [(f"reader {r.name}", r.port) for r in all_readers(config) if isinstance(r, SerialReaderBase)]
    ports += [(f"radar {label}", radar.port) for label, radar in radars(config)]
    return [(what, port) for what, port in ports if "://" not in port]


def uses_gpio(config: NodeConfig) -> bool:
    """True when any field of the config claims a GPIO pin."""
    return any(resource == "GPIO" for _path, resource, _value in iter_claims(config))


def check_device_files(ctx: Context, gpiochips: str = "/dev/gpiochip*") -> Iterable[Result]:
    """SPI devices (group spi), serial ports (group dialout) and GPIO chips (group gpio) are there and usable."""
    config = ctx.config
    if config is None:
        return
    for reader in all_readers(config):
        if isinstance(reader, Mfrc522ReaderConfig):
            path = Path(f"/dev/spidev{reader.spi_bus}.{reader.spi_device}")
            if ctx.simulated:
                yield Result(f"device {path}", Status.SKIP, "simulated SPI: no device file to look for")
            else:
                yield check_device_file(f"device {path}", path, "spi", ctx.daemon_user)
    for what, port in serial_ports(config):
        result = check_device_file(f"device {port}", Path(port), "dialout", ctx.daemon_user)
        if result.status is Status.FAIL and not Path(port).exists():
            result = Result(
                result.check,
                Status.FAIL,
                f"{port} ({what}) does not exist",
                "check the cable and the adapter; for /dev/edge-* names, the udev rule (edge_node_serial_links, "
                "`ls -l /dev/edge-*`); for the Pi's UART, the firmware config (enable_uart=1), then reboot",
            )
        yield result
    if not uses_gpio(config):
        return
    if ctx.simulated:
        yield Result("device /dev/gpiochip*", Status.SKIP, "simulated GPIO: no chip to look for")
        return
    chips = sorted(glob.glob(gpiochips))
    if not chips:
        yield Result(
            "device /dev/gpiochip*",
            Status.FAIL,
            "no GPIO chip device (/dev/gpiochip*): the relays, contacts and sensors cannot be driven",
            "run edge doctor on the Raspberry Pi itself, with Raspberry Pi OS Bookworm",
        )
        return
    for chip in chips:
        yield check_device_file(f"device {chip}", Path(chip), "gpio", ctx.daemon_user)
