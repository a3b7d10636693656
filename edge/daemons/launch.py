"""What every daemon command shares: its arguments, loading the config, and the simulated-hardware mode.

`--simulate DIR` runs the daemon against gpiozero's MockFactory instead of real pins, with a pin bridge on
`DIR/{node}.pins` through which `edge demo` (or a training bench) operates the simulated inputs. Serial devices
need no special mode: the simulators are real pseudo-terminals named in the config. `--sim-clock START@SPEED`
runs the daemon on a faster clock so a simulated day passes in minutes. Neither is meant for a real door.
"""

from __future__ import annotations

import argparse
import logging
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from edge.clock import Clock, ScaledClock, SystemClock
from edge.config import NodeConfig, load_config
from edge.daemons.runtime import setup_logging
from edge.errors import ConfigError

log = logging.getLogger(__name__)


@dataclass
class Launch:
    """A daemon's starting point: its config, clock, pin factory (None = gpiozero's default) and bridge."""

    config: NodeConfig
    clock: Clock
    pin_factory: Any = None
    bridge: Any = None

    def close(self) -> None:
        """Stop the simulation bridge, if any."""
        if self.bridge is not None:
            self.bridge.stop()


def add_daemon_arguments(parser: argparse.ArgumentParser) -> None:
    """The arguments every daemon takes."""
    parser.add_argument("-c", "--config", required=True, type=Path, help="the node's YAML config")
    parser.add_argument(
        "--simulate", type=Path, metavar="DIR", help="simulated GPIO (MockFactory) with a pin bridge socket in DIR"
    )
    parser.add_argument("--sim-clock", metavar="START@SPEED", help="run on an accelerated clock (simulation only)")


def report_config_error(source: object, exc: ConfigError) -> int:
    """Print every issue of a config (or a file it names) that cannot be used; the exit code for it, 2."""
    print(f"{source}: {len(exc.issues)} problem(s)", file=sys.stderr)
    for issue in exc.issues:
        print(f"  {issue}", file=sys.stderr)
    return 2


def prepare(args: argparse.Namespace) -> Launch | int:
    """Load the config and set up clock and pins; an exit code (2) when the config is invalid."""
    try:
        config = load_config(args.config)
    except ConfigError as exc:
        return report_config_error(args.config, exc)
    command = getattr(args, "command", None)
    setup_logging(config.log_level, identifier=f"edge-{command}" if command else "edge")
    clock: Clock = SystemClock()
    if args.sim_clock:
        if not args.simulate:
            print("--sim-clock only makes sense with --simulate", file=sys.stderr)
            return 2
        try:
            clock = ScaledClock.parse(args.sim_clock)
        except ValueError as exc:
            print(str(exc), file=sys.stderr)
            return 2
    launch = Launch(config=config, clock=clock)
    if args.simulate:
        from gpiozero import Device
        from gpiozero.pins.mock import MockFactory

        from edge.hardware.sim.pinbridge import PinBridgeServer

        factory = MockFactory()
        Device.pin_factory = factory
        launch.pin_factory = factory
        launch.bridge = PinBridgeServer(factory, args.simulate / f"{config.node}.pins")
        launch.bridge.start()
        log.warning("SIMULATED HARDWARE: pins are gpiozero mock pins, bridge at %s", launch.bridge.path)
    return launch
