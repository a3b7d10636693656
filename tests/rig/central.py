"""The network's central store for tests: a real VictoriaMetrics behind a real vmauth (HTTPS, one user per site).

vmauth forwards each site user's writes to VictoriaMetrics with `extra_label=site=<its site>`, so a site can only
write its own `site` label; the `portfolio` user may only read. Certificates come from openssl (a CA and a server
certificate for 127.0.0.1 and localhost).
"""

from __future__ import annotations

import base64
import json
import secrets
import subprocess
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterable
from pathlib import Path
from ssl import SSLContext, create_default_context
from typing import Any

import yaml

from tests.rig.servers import Server, VictoriaMetrics, require

READ_PATHS = ["/api/v1/query", "/api/v1/query_range", "/api/v1/export", "/api/v1/series", "/api/v1/labels",
              "/api/v1/label/[^/]+/values"]  # fmt: skip
WRITE_PATHS = ["/api/v2/write", "/write"]


def make_tls(folder: Path) -> tuple[Path, Path, Path]:
    """A CA and a server certificate for 127.0.0.1 and localhost: (ca.crt, server.crt, server.key)."""
    folder.mkdir(parents=True, exist_ok=True)
    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"]

    def openssl(*args: str) -> None:
        subprocess.run(["openssl", *args], cwd=folder, check=True, capture_output=True, timeout=60)

    openssl("req", "-x509", *ec, "-keyout", "ca.key", "-out", "ca.crt", "-days", "2", "-subj", "/CN=central test CA")
    openssl("req", "-new", *ec, "-keyout", "server.key", "-out", "server.csr", "-subj", "/CN=localhost")
    (folder / "san.ext").write_text("subjectAltName=DNS:localhost,IP:127.0.0.1\n")
    openssl("x509", "-req", "-in", "server.csr", "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial",
            "-out", "server.crt", "-days", "2", "-extfile", "san.ext")  # fmt: skip
    return folder / "ca.crt", folder / "server.crt", folder / "server.key"


def vmauth_config(victoria_url: str, sites: dict[str, str], reader: tuple[str, str]) -> dict[str, Any]:
    """vmauth's users: each site writes with its `site` label forced; the reader reads."""
    users: list[dict[str, Any]] = [
        {
            "username": site,
            "password": password,
            "url_map": [
                {
                    "src_paths": WRITE_PATHS,
                    "url_prefix": f"{victoria_url}/?{urllib.parse.urlencode({'extra_label': f'site={site}'})}",
                }
            ],
        }
        for site, password in sites.items()
    ]
    users.append(
        {
            "username": reader[0],
            "password": reader[1],
            "url_map": [{"src_paths": READ_PATHS, "url_prefix": victoria_url}],
        }
    )
    return {"users": users}


class VmAuth(Server):
    """A real vmauth serving HTTPS with a given auth config."""

    name = "vmauth"

    def __init__(self, workdir: Path, config: Path, cert: Path, key: Path) -> None:
        super().__init__(workdir)
        self.config, self.cert, self.key = config, cert, key

    def command(self) -> list[str]:
        """The command line."""
        return [
            require("vmauth"),
            f"-httpListenAddr=127.0.0.1:{self.port}",
            f"-auth.config={self.config}",
            "-tls",
            f"-tlsCertFile={self.cert}",
            f"-tlsKeyFile={self.key}",
            "-loggerLevel=WARN",
        ]


class DedupVictoriaMetrics(VictoriaMetrics):
    """VictoriaMetrics as the central store runs in production: one sample per series and millisecond."""

    def command(self) -> list[str]:
        """The command line, with deduplication."""
        return [*super().command(), "-dedup.minScrapeInterval=1ms"]


class Central:
    """VictoriaMetrics + vmauth with TLS; one user and password per site, and a `portfolio` reader.

    `dedup=False` keeps every sample VictoriaMetrics receives, so a test can count how often each was sent.
    """

    def __init__(self, workdir: Path, sites: Iterable[str], *, dedup: bool = False) -> None:
        self.workdir = workdir
        self.ca, cert, key = make_tls(workdir / "tls")
        self.victoria = (DedupVictoriaMetrics if dedup else VictoriaMetrics)(workdir / "vm")
        self.passwords = {site: secrets.token_urlsafe(18) for site in sites}
        self.reader = ("portfolio", secrets.token_urlsafe(18))
        self.auth_file = workdir / "auth.yml"
        self.auth_file.write_text(
            yaml.safe_dump(vmauth_config(self.victoria.url, self.passwords, self.reader), sort_keys=False)
        )
        self.vmauth = VmAuth(workdir / "vmauth", self.auth_file, cert, key)

    @property
    def url(self) -> str:
        """The central store's address as sites and the portfolio reach it (HTTPS, through vmauth)."""
        return f"https://127.0.0.1:{self.vmauth.port}"

    def password_file(self, site: str, folder: Path) -> Path:
        """Write a site's password where its collector reads it."""
        path = folder / f"{site}.network.password"
        path.write_text(self.passwords[site] + "\n")
        return path

    def start(self) -> None:
        """Start VictoriaMetrics, then vmauth."""
        self.victoria.start()
        self.vmauth.start()

    def stop(self) -> None:
        """The central store goes away (SIGTERM: VictoriaMetrics saves what it acknowledged)."""
        self.vmauth.stop()
        self.victoria.stop()

    def kill(self) -> None:
        """Kill both processes (teardown)."""
        self.vmauth.kill()
        self.victoria.kill()

    def context(self) -> SSLContext:
        """A TLS context trusting the central store's CA."""
        return create_default_context(cafile=str(self.ca))

    def get(self, path: str, params: dict[str, str], user: tuple[str, str] | None = None) -> bytes:
        """GET through vmauth as `user` (the portfolio reader by default)."""
        name, password = user or self.reader
        request = urllib.request.Request(f"{self.url}{path}?{urllib.parse.urlencode(params)}")
        request.add_header("Authorization", "Basic " + base64.b64encode(f"{name}:{password}".encode()).decode())
        with urllib.request.urlopen(request, timeout=60, context=self.context()) as response:
            body: bytes = response.read()
        return body

    def flush(self) -> None:
        """Make what VictoriaMetrics received searchable now (it buffers new samples for a second or so)."""
        urllib.request.urlopen(f"{self.victoria.url}/internal/force_flush", timeout=10).read()

    def export(self, match: str = '{__name__=~".+"}') -> list[dict[str, Any]]:
        """Everything VictoriaMetrics holds that matches, read through vmauth as the portfolio reader."""
        self.flush()
        body = self.get("/api/v1/export", {"match[]": match})
        return [json.loads(line) for line in body.decode().splitlines() if line.strip()]

    def series_samples(self, match: str = '{__name__=~".+"}') -> dict[tuple[tuple[str, str], ...], list[int]]:
        """Per series (its sorted labels, metric name included), the timestamps of its samples, duplicates kept."""
        out: dict[tuple[tuple[str, str], ...], list[int]] = {}
        for series in self.export(match):
            labels = tuple(sorted((k, str(v)) for k, v in series["metric"].items()))
            out.setdefault(labels, []).extend(int(t) for t in series["timestamps"])
        return out

    def write_as(self, site: str, body: str, password: str | None = None) -> int:
        """POST line protocol as a site user; the HTTP status."""
        request = urllib.request.Request(f"{self.url}/api/v2/write?precision=ns", data=body.encode(), method="POST")
        pair = f"{site}:{self.passwords[site] if password is None else password}".encode()
        request.add_header("Authorization", "Basic " + base64.b64encode(pair).decode())
        try:
            with urllib.request.urlopen(request, timeout=30, context=self.context()) as response:
                return int(response.status)
        except urllib.error.HTTPError as exc:
            return int(exc.code)
