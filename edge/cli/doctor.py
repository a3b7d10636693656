"""`edge doctor -c FILE`: check a node against its config, in plain words; exit 1 if anything failed."""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from edge.doctor.checks import Context
from edge.doctor.report import exit_code, render_json, render_result, render_summary
from edge.doctor.runner import run_checks


def register(sub: Any) -> None:
    """Add the doctor command."""
    parser = sub.add_parser("doctor", help="check this node's hardware, config and connections", description=__doc__)
    parser.add_argument("-c", "--config", required=True, type=Path, help="the node's YAML config")
    parser.add_argument("--json", action="store_true", help="print results as JSON")
    parser.add_argument(
        "--boot-config", type=Path, default=Path("/boot/firmware/config.txt"), help="the Pi's firmware config file"
    )
    parser.add_argument("--click-relay", action="store_true", help="unlock each door's relay for one second")
    parser.add_argument(
        "--operate-inputs",
        type=float,
        default=0.0,
        metavar="SECONDS",
        help="wait this long for someone to operate each door contact and exit button",
    )
    parser.add_argument(
        "--user",
        default="edge",
        help="the user the daemons run as (systemd User=): device files are judged for it and its units' groups",
    )
    parser.add_argument("--timeout", type=float, default=5.0, help="seconds to wait for the broker and devices")
    parser.add_argument(
        "--simulate",
        action="store_true",
        help="simulated GPIO (gpiozero MockFactory) and SPI (stand-ins): for training and tests, never on a real node",
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Run the checks and print the results."""
    ctx = Context(
        config_path=args.config,
        boot_config=args.boot_config,
        click_relay=args.click_relay,
        operate_inputs=args.operate_inputs,
        timeout=args.timeout,
        daemon_user=args.user,
        prompt=_prompter(sys.stderr if args.json else sys.stdout),
    )
    if args.simulate:
        from gpiozero.pins.mock import MockFactory

        from edge.hardware.sim.standins import install_stand_ins

        install_stand_ins()
        ctx.pin_factory = MockFactory()
    # The drivers log their faults as warnings for the daemons' journal; here each check says it in plain words.
    logging.getLogger("edge").setLevel(logging.ERROR)
    if args.json:
        results = run_checks(ctx)
        print(render_json(results))
    else:
        results = run_checks(ctx, on_result=lambda r: print(render_result(r), flush=True))
        print(f"\n{render_summary(results)}")
    return exit_code(results)


def _prompter(stream: Any) -> Callable[[str], None]:
    def prompt(text: str) -> None:
        print(f">>> {text}", file=stream, flush=True)

    return prompt
