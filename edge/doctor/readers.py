"""Badge readers answer: an MFRC522's version register through its driver; other readers by reading a card.

Nothing here shows a UID: the installer learns that a valid frame arrived, never which card it was.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable

from edge.config.readers import Mfrc522ReaderConfig
from edge.doctor.checks import Context
from edge.doctor.report import Result, Status
from edge.doctor.walk import AnyReader, all_readers
from edge.errors import DeviceError
from edge.hardware.factory import build_reader
from edge.hardware.mfrc522 import Mfrc522Reader
from edge.hardware.reader_kinds import kind_of
from edge.hardware.serial_port import SerialReader

MFRC522_VERSIONS = {
    0x88: "FM17522 clone",
    0x90: "MFRC522 v0.0",
    0x91: "MFRC522 v1.0",
    0x92: "MFRC522 v2.0",
    0x12: "counterfeit MFRC522",
}
MFRC522_WIRING = "SDA/CS → pin 24 (GPIO8), SCK → 23, MOSI → 19, MISO → 21, 3.3 V → 1, GND → 6"


def check_readers(ctx: Context) -> Iterable[Result]:
    """Every reader of the node answers."""
    if ctx.config is None:
        return
    for reader in all_readers(ctx.config):
        if kind_of(reader).doctor == "chip":
            assert isinstance(reader, Mfrc522ReaderConfig)
            yield probe_mfrc522(ctx, reader)
        else:
            yield listen_for_card(ctx, reader)


def probe_mfrc522(ctx: Context, config: Mfrc522ReaderConfig) -> Result:
    """Read the chip's version register through the driver (its reset line and SPI device as configured)."""
    name = f"reader {config.name}"
    reader = build_reader(config, pin_factory=ctx.pin_factory)
    assert isinstance(reader, Mfrc522Reader)
    device = f"/dev/spidev{config.spi_bus}.{config.spi_device}"
    try:
        version = reader.probe()
    except DeviceError as exc:
        text = str(exc)
        if "package" in text or "RPi.GPIO" in text:
            fix = "install the Pi extra in the node's venv (pip install 'edge[pi]'); on a Pi 5 use rpi-lgpio"
        elif "cannot use" in text:
            fix = f"enable SPI (dtparam=spi=on), reboot, and check that {device} exists and is in group spi"
        else:
            fix = f"check the wiring ({MFRC522_WIRING}) and that RST goes to GPIO {config.reset_pin}"
        return Result(name, Status.FAIL, f"the MFRC522 on {device} does not answer: {text}", fix)
    finally:
        reader.close()
    kind = MFRC522_VERSIONS.get(version, "an unknown chip")
    return Result(name, Status.OK, f"the MFRC522 on {device} answers (version 0x{version:02X}, {kind})")


def listen_for_card(ctx: Context, config: AnyReader) -> Result:
    """Open the reader through its driver and wait up to --timeout for one valid frame from a presented card."""
    name = f"reader {config.name}"
    seen = threading.Event()
    reader = build_reader(config, pin_factory=ctx.pin_factory, on_scan=lambda _uid, _at: seen.set())
    try:
        reader.start()
        if isinstance(reader, SerialReader):
            deadline = time.monotonic() + ctx.timeout
            while not reader.connected and reader.fault is None and time.monotonic() < deadline:
                time.sleep(0.02)
            if not reader.connected:
                return _cannot_open(name, reader)
        ctx.say(f"present a card to reader {config.name} now (waiting {ctx.timeout:g} s)")
        seen.wait(ctx.timeout)
    finally:
        reader.close()
    health = reader.health
    if health.frames_ok or health.scans:
        return Result(name, Status.OK, "a card was read: the reader sends valid frames (the card number is not shown)")
    if health.garbage_bytes or health.bad_checksum or health.bad_frames:
        return Result(
            name,
            Status.FAIL,
            f"data arrived but no valid frame ({health.garbage_bytes} stray bytes, {health.bad_checksum} bad "
            f"checksums, {health.bad_frames} unreadable frames)",
            kind_of(config).garbage_hint(config),
        )
    return Result(
        name,
        Status.FAIL,
        f"no card was read within {ctx.timeout:g} s",
        "present a card while the check runs (--timeout gives more time); " + kind_of(config).silence_hint(config),
    )


def _cannot_open(name: str, reader: SerialReader) -> Result:
    fault = reader.fault or f"{reader.port} did not open"
    if "lock" in fault.lower() or "busy" in fault.lower():
        fix = "another program holds the port: stop the daemon first (sudo systemctl stop edge-door edge-badge)"
    else:
        fix = f"check that {reader.port} exists and that this user is in group dialout"
    return Result(name, Status.FAIL, fault, fix)
