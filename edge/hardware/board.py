"""The Raspberry Pi a node runs on, from the model its firmware writes in the device tree, and the GPIO stack it needs.

Every supported board (Pi 3, 4, 5, Zero 2 W, and the 400, 500 and Compute Modules built on them) drives its pins
through the kernel's GPIO character device with lgpio: gpiozero's pin factory does, and so does `rpi-lgpio`, which
gives the MFRC522 library its `RPi.GPIO` module on top of lgpio. The original RPi.GPIO writes the BCM283x GPIO
registers itself and fails on a Pi 5, whose pins belong to the RP1 chip ("Cannot determine SOC peripheral base
address"). rpi-lgpio works on every supported board, so the `pi` extra installs it everywhere; the two cannot be
installed together (both are the `RPi` package, each overwrites the other's files).
"""

from __future__ import annotations

import importlib.util
import re
from dataclasses import dataclass
from importlib.metadata import packages_distributions
from pathlib import Path

MODEL_FILE = Path("/proc/device-tree/model")
"""Where the firmware names the board ("Raspberry Pi 5 Model B Rev 1.0", NUL-terminated)."""

FAMILIES = {
    "pi3": "Raspberry Pi 3",
    "pi4": "Raspberry Pi 4",
    "pi5": "Raspberry Pi 5",
    "pi02": "Raspberry Pi Zero 2 W",
}
"""The boards edge supports, by the firmware's config.txt filter name (firmware_config/README.md)."""

_FAMILY_OF_MODEL = [
    (re.compile(r"^Raspberry Pi (5|500|Compute Module 5)\b"), "pi5"),
    (re.compile(r"^Raspberry Pi (4|400|Compute Module 4S?)\b"), "pi4"),
    (re.compile(r"^Raspberry Pi (3|Compute Module 3\+?)\b"), "pi3"),
    (re.compile(r"^Raspberry Pi Zero 2\b"), "pi02"),
]

GPIO_SHIM = "rpi-lgpio"
"""The distribution that provides `RPi.GPIO` on top of lgpio, on every supported board."""
ORIGINAL_GPIO = "rpi-gpio"
"""The original RPi.GPIO distribution (normalised name): Pi 3, 4 and Zero 2 W only."""


@dataclass(frozen=True)
class Board:
    """A board as its firmware names it, and its family ("pi3", "pi4", "pi5", "pi02"; "" when not supported)."""

    model: str
    family: str

    @property
    def is_pi(self) -> bool:
        """True on any Raspberry Pi, supported or not."""
        return self.model.startswith("Raspberry Pi")

    @property
    def supported(self) -> bool:
        """True on a board edge runs on."""
        return self.family in FAMILIES

    def accepts_gpio_library(self, distribution: str) -> bool:
        """Whether the `RPi.GPIO` module from this distribution drives this board's pins."""
        name = normalise(distribution)
        return name == GPIO_SHIM or (name == ORIGINAL_GPIO and self.family != "pi5")


def board_of(model: str) -> Board:
    """The board of a device-tree model string (NULs and surrounding space removed)."""
    model = model.replace("\0", "").strip()
    family = next((family for pattern, family in _FAMILY_OF_MODEL if pattern.match(model)), "")
    return Board(model, family)


def read_board(model_file: Path = MODEL_FILE) -> Board:
    """The board this machine is, or a board with an empty model off a Raspberry Pi."""
    try:
        return board_of(model_file.read_bytes().decode(errors="replace"))
    except OSError:
        return Board("", "")


def normalise(distribution: str) -> str:
    """A distribution name as PEP 503 compares them ("RPi.GPIO" and "rpi_gpio" are both "rpi-gpio")."""
    return re.sub(r"[-_.]+", "-", distribution).lower()


def gpio_module_providers() -> list[str]:
    """The installed distributions that provide the `RPi` package (`RPi.GPIO`), normalised; [] when none is."""
    return sorted({normalise(name) for name in packages_distributions().get("RPi", [])})


def module_installed(name: str) -> bool:
    """Whether a top-level module can be imported here (without importing it: rpi-lgpio raises off a Pi)."""
    return importlib.util.find_spec(name) is not None
