"""Install the `spidev` and `RPi.GPIO` stand-ins into sys.modules, so `import mfrc522` works off a Pi."""

from __future__ import annotations

import sys
import types

from edge.hardware.sim import gpio_standin, spidev_standin


def install_stand_ins() -> None:
    """Make `import spidev` and `import RPi.GPIO` load the stand-ins (idempotent).

    Must run before `mfrc522` is first imported: the package binds both modules at import time.
    """
    if sys.modules.get("spidev") is spidev_standin and sys.modules.get("RPi.GPIO") is gpio_standin:
        return
    library = sys.modules.get("mfrc522.MFRC522")
    if library is not None and getattr(library, "spidev", None) is not spidev_standin:
        raise RuntimeError("mfrc522 was imported with the real spidev/RPi.GPIO; install the stand-ins first")
    package = types.ModuleType("RPi", "Stand-in package for RPi.GPIO.")
    package.__path__ = []
    package.GPIO = gpio_standin  # type: ignore[attr-defined]
    sys.modules["RPi"] = package
    sys.modules["RPi.GPIO"] = gpio_standin
    sys.modules["spidev"] = spidev_standin
