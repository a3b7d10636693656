"""The staff console in the demo: `edge console` on the demo's site, over HTTPS on the loopback interface, with a
demo manager account, so a newcomer watches the doors and desks of the simulated day in a browser while it plays.

It is the real console process on the real code path: its own config (`nodes/console.yaml`), a self-signed
certificate made for 127.0.0.1, the site's keys and member file, the collector's store for the door log, and
the demo's accelerated clock (`--sim-clock`), so "now" on its pages is the simulated time of day.
"""

from __future__ import annotations

import secrets
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from edge.config.yaml_io import dump_yaml
from edge.console.certificate import write_self_signed
from edge.demo.site import DemoSite, _node
from edge.demo.stack import Daemons, DemoError, free_port

USER = "demo"


@dataclass(frozen=True)
class DemoConsole:
    """Where the demo's console answers and how to log in."""

    config: Path
    url: str
    user: str
    password: str
    certificate: Path

    @property
    def banner(self) -> str:
        """The line that tells a newcomer where to look."""
        return (
            f"staff console: {self.url}  (log in as {self.user} / {self.password}; the certificate is self-signed: "
            "let the browser accept it)"
        )


def prepare_console(site: DemoSite, port: int | None = None) -> DemoConsole:
    """Write the console's config and certificate, and create the demo manager account (the console's database)."""
    folder = site.root / "console"
    folder.mkdir(parents=True, exist_ok=True)
    cert, key = folder / "cert.pem", folder / "key.pem"
    write_self_signed(cert, key, ["127.0.0.1", "localhost"])
    port = port or free_port()
    node = _node("console", site.root, site.broker_port)
    node["badge_key_file"] = str(site.keys / "badge.key")
    node["console"] = {
        "listen": "127.0.0.1",
        "port": port,
        "tls_cert_file": str(cert),
        "tls_key_file": str(key),
        "state_dir": str(site.root / "state" / "console"),
        "members_file": str(site.members_file),
        "snapshot_signing_key_file": str(site.keys / "snapshot-signing.key"),
        "command_signing_key_file": str(site.keys / "command-signing.key"),
        "collector_store": str(site.store),
    }
    config = site.root / "nodes" / "console.yaml"
    config.write_text(dump_yaml(node))
    site.nodes["console"] = config
    password = secrets.token_urlsafe(12)
    created = subprocess.run(
        [sys.executable, "-m", "edge", "console", "-c", str(config), "create-user", USER, "--role", "manager",
         "--password-stdin"],
        input=password + "\n", capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    if created.returncode != 0:
        raise DemoError(f"could not create the console's demo account:\n{created.stderr[-1500:]}")
    return DemoConsole(config, f"https://127.0.0.1:{port}/", USER, password, cert)


def start_console(console: DemoConsole, daemons: Daemons, clock_spec: str) -> None:
    """Start `edge console` on the demo's clock, its log in logs/console.log."""
    daemons.start("console", "console", "-c", str(console.config), "--sim-clock", clock_spec)
