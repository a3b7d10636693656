"""`edge badge` with its MFRC522 on the register-level simulator, in one process (the SPI chip has no pty).

    python -m benchmarks.mfrc522_badge badge -c FILE

Plugs a simulated MFRC522 into the SPI and RPi.GPIO stand-ins (bus 0, device 0, reset on GPIO 25), then runs the
real command line. The simulator answers every SPI transfer in this process, so its CPU is counted with the
daemon's: a measured figure is an upper bound for the daemon alone.
"""

from __future__ import annotations

import sys

from edge.cli import main
from edge.hardware.sim.mfrc522_sim import Mfrc522Sim

if __name__ == "__main__":
    with Mfrc522Sim():
        sys.exit(main(sys.argv[1:]))
