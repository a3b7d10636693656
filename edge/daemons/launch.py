"""What every daemon command shares: its arguments, loading the config, and the simulated-hardware mode.

`run_daemon` is how every daemon command starts: load the config, check the node has the daemon's section, build
the service, run it until SIGTERM; what goes wrong on the way is raised to the CLI's one boundary
(`edge.cli.boundary`), which prints it and picks the exit code.

`--simulate DIR` runs the daemon against gpiozero's MockFactory instead of real pins, with a pin bridge on
`DIR/{node}.pins` through which `edge demo` (or a training bench) operates the simulated inputs. Serial devices
need no special mode: the simulators are real pseudo-terminals named in the config. `--sim-clock START@SPEED`
runs the daemon on a faster clock so a simulated day passes in minutes. Neither is meant for a real door.
"""

from __future__ import annotations

import argparse
import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from edge.clock import Clock, ScaledClock, SystemClock
from edge.config import NodeConfig, load_config
from edge.daemons.runtime import Service, run_service, setup_logging
from edge.errors import ConfigError, EdgeError, StoreError, UsageError

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


def prepare(args: argparse.Namespace) -> Launch:
    """Load the config and set up clock and pins (ConfigError, UsageError when they cannot be used)."""
    try:
        config = load_config(args.config)
    except ConfigError as exc:
        raise ConfigError(exc.issues, source=args.config) from None
    command = getattr(args, "command", None)
    setup_logging(config.log_level, identifier=f"edge-{command}" if command else "edge")
    clock: Clock = SystemClock()
    if args.sim_clock:
        if not args.simulate:
            raise UsageError("--sim-clock only makes sense with --simulate")
        try:
            clock = ScaledClock.parse(args.sim_clock)
        except ValueError as exc:
            raise UsageError(f"--sim-clock: {exc}") from None
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


S = TypeVar("S", bound=Service)


def run_daemon(
    args: argparse.Namespace,
    *,
    name: str,
    build: Callable[[Launch], S],
    section: str = "",
    present: Callable[[NodeConfig], object] | None = None,
    tick: Callable[[S], None] | None = None,
) -> int:
    """Start one daemon: config, its section, the service `build` makes, run until SIGTERM; the exit code.

    `present` says whether the node's config has the daemon's `section` (None: it runs with defaults); `tick`, the
    service's work to do about once a second in the main thread (refresh a schedule, derive, purge).
    """
    launch = prepare(args)
    try:
        if present is not None and not present(launch.config):
            raise ConfigError([f"no `{section}` section: nothing for {name} to run"], source=args.config)
        try:
            service = build(launch)
        except ConfigError as exc:  # a key file, the badge key or a TLS file the config names cannot be used
            raise ConfigError(exc.issues, source=args.config) from None
        except OSError as exc:  # e.g. the state folder is not writable, or another daemon owns it
            if isinstance(exc, EdgeError):
                raise
            raise StoreError(str(exc)) from exc
        return run_service(name, service, on_tick=None if tick is None else (lambda: tick(service)))
    finally:
        launch.close()
