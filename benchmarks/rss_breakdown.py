"""Where a daemon's resident memory goes: RSS after each group of imports, in a fresh interpreter.

    python -m benchmarks.rss_breakdown [door|badge|presence|collector]

Imports the libraries a daemon uses one group at a time (each group only adds what earlier ones did not load) and
prints the RSS growth of each, then the daemon's own modules. Not part of `python -m benchmarks` (it measures
imports, not the running daemon); docs/benchmarks.md quotes its output.
"""

from __future__ import annotations

import importlib
import sys

from benchmarks.common import rss_mb

COMMON = [
    ("yaml (PyYAML, C loader)", ["yaml"]),
    ("pydantic + pydantic_core", ["pydantic"]),
    ("edge.config (every section's models built)", ["edge.config"]),
    ("ssl", ["ssl"]),
    ("paho-mqtt", ["paho.mqtt.client"]),
    ("sqlite3", ["sqlite3"]),
    ("edge.contract + edge.bus", ["edge.contract", "edge.bus"]),
]
DAEMONS = {
    "door": [
        ("ctypes (Ed25519 checks through the loaded libcrypto)", ["ctypes", "edge.access.ed25519"]),
        ("gpiozero (+ MockFactory)", ["gpiozero", "gpiozero.pins.mock"]),
        ("pyserial", ["serial"]),
        ("edge.door.service (access, hardware, the rest)", ["edge.door.service"]),
    ],
    "badge": [
        ("gpiozero (+ MockFactory)", ["gpiozero", "gpiozero.pins.mock"]),
        ("pyserial", ["serial"]),
        ("edge.daemons.badge (readers, the rest)", ["edge.daemons.badge"]),
    ],
    "presence": [
        ("gpiozero (+ MockFactory)", ["gpiozero", "gpiozero.pins.mock"]),
        ("pyserial", ["serial"]),
        ("edge.daemons.presence (occupancy, sensors, the rest)", ["edge.daemons.presence"]),
    ],
    "collector": [
        ("http.client (the InfluxDB and central store writers)", ["http.client"]),
        ("edge.collector.service (store, link, tap, the rest)", ["edge.collector.service"]),
    ],
}


def main() -> None:
    """Print the RSS step by step for one daemon."""
    daemon = sys.argv[1] if len(sys.argv) > 1 else "door"
    steps = [("edge.cli (entry point, edge/__init__)", ["edge.cli"]), *COMMON, *DAEMONS[daemon]]
    before = rss_mb()
    print(f"{'python interpreter':<56} {before:6.1f} MB")
    for label, modules in steps:
        for module in modules:
            importlib.import_module(module)
        now = rss_mb()
        print(f"{label:<56} {now - before:+6.1f} MB  -> {now:6.1f} MB")
        before = now


if __name__ == "__main__":
    main()
