"""`edge demo`: the whole stack on simulated hardware, playing a day of a coworking space."""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path
from typing import Any


def register(sub: Any) -> None:
    """Add the demo command."""
    parser = sub.add_parser("demo", help="run the whole stack on simulated hardware for a day", description=__doc__)
    parser.add_argument("--speed", type=float, default=300.0, help="simulated seconds per real second (default 300)")
    parser.add_argument("--workdir", type=Path, help="keep configs, logs and stores here (default: a temp folder)")
    parser.add_argument("--no-live", action="store_true", help="print decisions as lines instead of a live view")
    parser.add_argument("--no-install", action="store_true", help="never install Mosquitto, fail instead")
    parser.add_argument(
        "--influx-url", help="also forward to this InfluxDB (or VictoriaMetrics), e.g. http://localhost:8086"
    )
    parser.add_argument("--influx-bucket", default="edge", help="bucket (InfluxDB 2/3) or database (1.x): default edge")
    parser.add_argument("--influx-api", choices=["v2", "v1"], default="v2", help="write API (see docs/collector.md)")
    parser.add_argument("--influx-token-file", type=Path, help="file holding the InfluxDB 2/3 API token")
    parser.add_argument("--no-console", action="store_true", help="do not run the staff console")
    parser.add_argument("--console-port", type=int, help="the console's HTTPS port on 127.0.0.1 (default: a free one)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Run the demo."""
    from edge.demo.run import Options, run_demo

    if args.speed <= 0 or args.speed > 2000:
        print("--speed must be between 0 and 2000", file=sys.stderr)
        return 2
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="edge-demo-"))
    live = not args.no_live and sys.stdout.isatty()
    influx: dict[str, Any] | None = None
    if args.influx_url:
        influx = {"url": args.influx_url, "bucket": args.influx_bucket, "api": args.influx_api}
        if args.influx_token_file:
            influx["token_file"] = str(args.influx_token_file.resolve())
    options = Options(
        workdir=workdir,
        speed=args.speed,
        live=live,
        install=not args.no_install,
        influx=influx,
        console=not args.no_console,
        console_port=args.console_port,
    )
    return run_demo(options)
