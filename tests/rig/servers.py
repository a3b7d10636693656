"""Real servers for tests: each starts on a free loopback port in its own temp dir and stops by its own PID."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_port(port: int, timeout: float = 10.0) -> None:
    """Block until something accepts TCP connections on 127.0.0.1:port."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as sock:
            sock.settimeout(0.2)
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.01)
    raise TimeoutError(f"nothing listens on 127.0.0.1:{port} after {timeout} s")


def require(binary: str) -> str:
    """Path of a server binary; fail loudly (never skip) when the rig is incomplete."""
    path = shutil.which(binary) or next(
        (p for p in (f"/usr/sbin/{binary}", f"/usr/bin/{binary}") if os.path.exists(p)), None
    )
    if path is None:
        raise RuntimeError(f"{binary} is not installed: run .ci/run or install the packages it lists")
    return path


class Server:
    """A server process we own: start, stop (SIGTERM), kill (SIGKILL), restart on the same port and data."""

    name = "server"

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        self.proc: subprocess.Popen[bytes] | None = None

    def command(self) -> list[str]:
        """The command line that runs the server."""
        raise NotImplementedError

    def start(self) -> None:
        """Start (or restart) the server and wait until its port accepts connections."""
        log = open(self.workdir / f"{self.name}.out", "ab")  # noqa: SIM115 - closed with the process
        self.proc = subprocess.Popen(self.command(), stdout=log, stderr=subprocess.STDOUT, cwd=self.workdir)
        log.close()
        try:
            wait_port(self.port)
        except TimeoutError:
            self.stop()
            raise RuntimeError(f"{self.name} did not start: {self.output()[-2000:]}") from None

    def output(self) -> str:
        """What the server printed."""
        path = self.workdir / f"{self.name}.out"
        return path.read_text(errors="replace") if path.exists() else ""

    @property
    def running(self) -> bool:
        """Whether our process is alive."""
        return self.proc is not None and self.proc.poll() is None

    def stop(self, timeout: float = 10.0) -> None:
        """Graceful stop (SIGTERM)."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None

    def kill(self) -> None:
        """Abrupt stop (SIGKILL)."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        self.proc = None

    def restart(self) -> None:
        """Stop then start on the same port and data."""
        self.stop()
        self.start()


class Mosquitto(Server):
    """A real Mosquitto broker with persistence; `extra` lines are appended to its config."""

    name = "mosquitto"

    def __init__(self, workdir: Path, extra: str = "", max_queued: int = 100_000) -> None:
        super().__init__(workdir)
        self.extra = extra
        self.max_queued = max_queued

    def command(self) -> list[str]:
        """Write the config and return the command."""
        conf = self.workdir / "mosquitto.conf"
        lines = [
            "user root",
            f"listener {self.port} 127.0.0.1",
            "allow_anonymous true",
            "persistence true",
            f"persistence_location {self.workdir}/",
            f"log_dest file {self.workdir}/mosquitto.log",
            f"max_queued_messages {self.max_queued}",
            "max_inflight_messages 100",
            self.extra,
        ]
        conf.write_text("\n".join(lines) + "\n")
        return [require("mosquitto"), "-c", str(conf)]


class VictoriaMetrics(Server):
    """A real VictoriaMetrics: accepts InfluxDB line protocol on /api/v2/write.

    Started without `-dedup.minScrapeInterval`, it keeps every sample it is sent, duplicates included (same
    series, same timestamp; checked against the Debian package, 1.79.5), and the export API returns them all: a
    read-back counts how often each point was written, so tests can check that something was sent exactly once.
    """

    name = "victoria-metrics"

    def command(self) -> list[str]:
        """The command line."""
        return [
            require("victoria-metrics"),
            f"-httpListenAddr=127.0.0.1:{self.port}",
            f"-storageDataPath={self.workdir}/data",
            "-search.latencyOffset=0s",
            "-retentionPeriod=100y",
            "-loggerLevel=WARN",
        ]

    @property
    def url(self) -> str:
        """Base URL."""
        return f"http://127.0.0.1:{self.port}"

    def export(self, match: str) -> list[dict[str, object]]:
        """Flush and read back series matching a selector, e.g. '{__name__=~"desk_.*"}'."""
        import json
        import urllib.parse

        urllib.request.urlopen(f"{self.url}/internal/force_flush", timeout=10).read()
        query = urllib.parse.urlencode({"match[]": match})
        with urllib.request.urlopen(f"{self.url}/api/v1/export?{query}", timeout=30) as resp:
            return [json.loads(line) for line in resp.read().decode().splitlines() if line.strip()]


class InfluxDB16(Server):
    """A real InfluxDB 1.6.7: the InfluxQL engine Grafana panels are checked against."""

    name = "influxdb"

    def __init__(self, workdir: Path) -> None:
        super().__init__(workdir)
        self.rpc_port = free_port()

    def command(self) -> list[str]:
        """Write the config and return the command."""
        conf = self.workdir / "influxdb.conf"
        conf.write_text(
            f"""
bind-address = "127.0.0.1:{self.rpc_port}"
reporting-disabled = true
[meta]
  dir = "{self.workdir}/meta"
[data]
  dir = "{self.workdir}/data"
  wal-dir = "{self.workdir}/wal"
  query-log-enabled = false
[http]
  bind-address = "127.0.0.1:{self.port}"
  log-enabled = false
[ifql]
  enabled = false
[monitor]
  store-enabled = false
[continuous_queries]
  enabled = false
"""
        )
        return [require("influxd"), "-config", str(conf)]

    @property
    def url(self) -> str:
        """Base URL."""
        return f"http://127.0.0.1:{self.port}"

    def query(self, q: str, db: str | None = None) -> dict[str, object]:
        """Run an InfluxQL statement and return the parsed JSON answer."""
        import json
        import urllib.parse

        params = {"q": q, "epoch": "s"}
        if db:
            params["db"] = db
        data = urllib.parse.urlencode(params).encode()
        with urllib.request.urlopen(f"{self.url}/query", data=data, timeout=30) as resp:
            result: dict[str, object] = json.loads(resp.read())
            return result

    def write(self, db: str, lines: str, precision: str = "ns", rp: str | None = None) -> None:
        """Write line protocol through the v1 endpoint (into retention policy `rp`, else the default one)."""
        policy = f"&rp={rp}" if rp else ""
        req = urllib.request.Request(
            f"{self.url}/write?db={db}&precision={precision}{policy}", data=lines.encode(), method="POST"
        )
        try:
            urllib.request.urlopen(req, timeout=30).read()
        except urllib.error.HTTPError as exc:
            raise RuntimeError(f"influx write failed: {exc.read().decode()}") from None


@contextlib.contextmanager
def running(server: Server):  # type: ignore[no-untyped-def]
    """Start a server for the duration of a with-block."""
    server.start()
    try:
        yield server
    finally:
        server.kill()
