"""A process that publishes numbered badge scans through the real Bus (for kill -9 tests).

Usage: python -m tests.rig.publisher CONFIG COUNT  — prints "stored N" after each durable append.
"""

from __future__ import annotations

import sys

from edge.bus import Bus
from edge.config import load_config
from edge.contract import BadgeScan


def main() -> None:
    """Publish COUNT scans, then wait until the outbox is drained."""
    config = load_config(sys.argv[1])
    count = int(sys.argv[2])
    bus = Bus(config, "publisher")
    bus.start()
    for index in range(count):
        bus.publish_event(BadgeScan(reader="r1", token=f"{index:032x}"))
        print(f"stored {index}", flush=True)
    bus.wait_drained(60)
    print("drained", flush=True)
    bus.stop()


if __name__ == "__main__":
    main()
