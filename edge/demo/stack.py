"""The demo's processes: a Mosquitto broker and the real edge daemons, each with its own log file."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

from edge.errors import EdgeError


class DemoError(EdgeError, RuntimeError):
    """The demo could not set itself up (a missing broker, a daemon that would not start)."""


def free_port() -> int:
    """A free TCP port on the loopback interface."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def ensure_mosquitto(install: bool) -> str:
    """Path of the mosquitto binary; installed with apt-get when missing and allowed (root on Debian)."""
    found = shutil.which("mosquitto") or ("/usr/sbin/mosquitto" if os.path.exists("/usr/sbin/mosquitto") else None)
    if found:
        return found
    if install and os.geteuid() == 0 and shutil.which("apt-get"):
        print("edge demo: installing Mosquitto (apt-get install mosquitto)...", flush=True)
        subprocess.run(["apt-get", "update", "-qq"], check=False)
        subprocess.run(
            ["apt-get", "install", "-y", "-qq", "mosquitto"],
            check=True,
            env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"},
        )
        found = shutil.which("mosquitto") or "/usr/sbin/mosquitto"
        if os.path.exists(found):
            return found
    raise DemoError("Mosquitto is not installed: run `sudo apt-get install mosquitto` (or ./tools/setup.sh)")


class Broker:
    """The site's Mosquitto, on a free loopback port, with persistence, restartable."""

    def __init__(self, root: Path, port: int, binary: str) -> None:
        self.root = root
        self.port = port
        self.binary = binary
        self.proc: subprocess.Popen[bytes] | None = None
        self.pids: list[int] = []  # one per start: a restart shows as a new pid
        root.mkdir(parents=True, exist_ok=True)
        self.conf = root / "mosquitto.conf"
        lines = [
            f"listener {port} 127.0.0.1",
            "allow_anonymous true",
            "persistence true",
            f"persistence_location {root}/",
            f"log_dest file {root}/mosquitto.log",
            "max_queued_messages 100000",
            "autosave_interval 5",
        ]
        if os.geteuid() == 0:
            lines.insert(0, "user root")
        self.conf.write_text("\n".join(lines) + "\n")

    def start(self) -> None:
        """Start and wait until it accepts connections."""
        self.proc = subprocess.Popen(
            [self.binary, "-c", str(self.conf)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        self.pids.append(self.proc.pid)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            with socket.socket() as sock:
                if sock.connect_ex(("127.0.0.1", self.port)) == 0:
                    return
            time.sleep(0.02)
        raise DemoError(f"Mosquitto did not start; see {self.root / 'mosquitto.log'}")

    @property
    def up(self) -> bool:
        """Whether the broker process runs."""
        return self.proc is not None and self.proc.poll() is None

    def stop(self, kill: bool = False) -> None:
        """Stop the broker (SIGKILL when `kill`: a crash)."""
        if self.proc is not None and self.proc.poll() is None:
            if kill:
                self.proc.kill()
            else:
                self.proc.terminate()
            self.proc.wait(10)
        self.proc = None


class Daemons:
    """The edge daemons of the demo, started as real `edge` processes."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.procs: dict[str, subprocess.Popen[bytes]] = {}
        (root / "logs").mkdir(parents=True, exist_ok=True)

    def start(self, name: str, *args: str) -> None:
        """Start `edge ARGS...` with its log in logs/NAME.log."""
        log = (self.root / "logs" / f"{name}.log").open("ab")
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        self.procs[name] = subprocess.Popen(
            [sys.executable, "-m", "edge", *args], stdout=log, stderr=subprocess.STDOUT, env=env
        )
        log.close()

    def check(self) -> None:
        """Raise if a daemon has died."""
        for name, proc in self.procs.items():
            if proc.poll() is not None:
                tail = (self.root / "logs" / f"{name}.log").read_text(errors="replace")[-1500:]
                raise DemoError(f"{name} exited with {proc.returncode}:\n{tail}")

    def stop(self) -> dict[str, int | None]:
        """SIGTERM every daemon and wait; return their exit codes."""
        for proc in self.procs.values():
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        codes: dict[str, int | None] = {}
        for name, proc in self.procs.items():
            try:
                codes[name] = proc.wait(15)
            except subprocess.TimeoutExpired:
                proc.kill()
                codes[name] = None
        return codes


def wait_for(path: Path, timeout: float) -> None:
    """Wait until a file (a pin bridge socket) exists."""
    deadline = time.monotonic() + timeout
    while not path.exists():
        if time.monotonic() > deadline:
            raise DemoError(f"{path} did not appear within {timeout:.0f} s")
        time.sleep(0.005)


def cleanup_socket(path: Path) -> None:
    """Remove a stale socket file."""
    with contextlib.suppress(FileNotFoundError):
        path.unlink()
