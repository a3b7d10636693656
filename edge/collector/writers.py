"""Writers: send a body of line protocol to one bucket, and say whether a failure is worth retrying.

`InfluxV2Writer` posts to `/api/v2/write` (InfluxDB 1.8+, 2.x, 3.x, VictoriaMetrics) over one kept-alive
connection, `InfluxV1Writer` to `/write` for InfluxDB 1.x servers older than 1.8, which have no `/api/v2/write`.
Both with the standard library: influxdb-client's synchronous write API sends the same request
(tests/test_collector_forward.py compares them on the wire), but importing it costs the daemon 15 MB of its
60 MB (it loads all 319 generated models and 42 services of the InfluxDB API, docs/benchmarks.md).

A status that will never succeed for these rows (400 bad line or field type conflict, 413 too large, 422 outside
retention) raises `WriteRefused`, and the forwarder bisects the batch to quarantine the culprits. Every other
failure (5xx, connection refused, timeout, 401/403/404/429: a server or configuration problem that an operator
or time fixes) raises `WriteFailed`, and the forwarder retries the same batch with backoff, forever.
"""

from __future__ import annotations

import base64
import http.client
import ssl
import threading
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Mapping
from typing import Any, Protocol

from edge.config import read_secret
from edge.config.collector import InfluxConfig

ROW_LEVEL_STATUSES = frozenset({400, 413, 422})


class WriteFailed(Exception):
    """The write did not happen, for a reason that is not the rows' fault: retry later."""


class WriteRefused(Exception):
    """The server refused the rows and always will; `reason` is a short label such as influx_400."""

    def __init__(self, status: int, detail: str) -> None:
        super().__init__(f"HTTP {status}: {detail}")
        self.reason = f"influx_{status}"
        self.detail = detail


def raise_for_status(status: int, detail: str) -> None:
    """Turn a non-2xx HTTP status into WriteRefused or WriteFailed."""
    if 200 <= status < 300:
        return
    detail = detail.strip()[:500]
    if status in ROW_LEVEL_STATUSES:
        raise WriteRefused(status, detail)
    raise WriteFailed(f"HTTP {status}: {detail}")


class Writer(Protocol):
    """Sends line protocol to a bucket."""

    def write(self, bucket: str, body: str) -> None:
        """Write all lines or raise WriteRefused / WriteFailed."""
        ...

    def close(self) -> None:
        """Release connections."""
        ...


class KeptAlive:
    """POSTs to one server over one kept-alive HTTP or HTTPS connection, a request at a time (any thread)."""

    def __init__(self, url: str, *, timeout_s: float, context: ssl.SSLContext | None = None) -> None:
        parts = urllib.parse.urlsplit(url)
        self._https = parts.scheme == "https"
        self._host = parts.hostname or ""
        self._port = parts.port or (443 if self._https else 80)
        self.base_path = parts.path.rstrip("/")
        self._timeout = timeout_s
        self._context = context if context is not None or not self._https else ssl.create_default_context()
        self._conn: http.client.HTTPConnection | None = None
        self._lock = threading.Lock()

    def post(self, path: str, body: bytes, headers: Mapping[str, str]) -> tuple[int, str]:
        """The answer's status and the start of its body; WriteFailed when no answer came.

        A kept-alive connection the server closed while idle fails on its next request: that request is sent
        once more on a new connection (at worst the server gets it twice; a rewritten point is a no-op).
        """
        with self._lock:
            reused = self._conn is not None
            try:
                return self._post(path, body, headers)
            except (OSError, http.client.HTTPException) as exc:
                self._drop()
                if not reused:
                    raise WriteFailed(f"{type(exc).__name__}: {exc}") from None
            try:
                return self._post(path, body, headers)
            except (OSError, http.client.HTTPException) as again:
                self._drop()
                raise WriteFailed(f"{type(again).__name__}: {again}") from None

    def _post(self, path: str, body: bytes, headers: Mapping[str, str]) -> tuple[int, str]:
        if self._conn is None:
            if self._https:
                self._conn = http.client.HTTPSConnection(
                    self._host, self._port, timeout=self._timeout, context=self._context
                )
            else:
                self._conn = http.client.HTTPConnection(self._host, self._port, timeout=self._timeout)
        self._conn.request("POST", path, body=body, headers=dict(headers))
        response = self._conn.getresponse()
        detail = _text(response.read()[:500]).strip()
        if response.will_close:
            self._drop()
        return response.status, detail

    def _drop(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def close(self) -> None:
        """Close the connection."""
        with self._lock:
            self._drop()


class InfluxV2Writer:
    """`POST /api/v2/write?org=&bucket=&precision=ns`, with the token (if any) as `Authorization: Token ...`."""

    def __init__(self, config: InfluxConfig) -> None:
        self._http = KeptAlive(config.url, timeout_s=config.timeout_s)
        self._headers = {"Content-Type": "text/plain; charset=utf-8", "Accept": "application/json"}
        if config.token_file is not None:
            self._headers["Authorization"] = "Token " + read_secret(config.token_file).decode().strip()
        self._org = config.org

    def write(self, bucket: str, body: str) -> None:
        """POST the body; classify any failure."""
        query = urllib.parse.urlencode({"org": self._org, "bucket": bucket, "precision": "ns"})
        status, detail = self._http.post(f"{self._http.base_path}/api/v2/write?{query}", body.encode(), self._headers)
        raise_for_status(status, detail)

    def close(self) -> None:
        """Close the connection."""
        self._http.close()


class InfluxV1Writer:
    """InfluxDB 1.x `/write?db=...&rp=...` for servers older than 1.8; bucket is `database` or `database/rp`."""

    def __init__(self, config: InfluxConfig) -> None:
        self._url = config.url
        self._timeout = config.timeout_s
        self._auth: str | None = None
        if config.username is not None:
            password = read_secret(config.password_file).decode() if config.password_file else ""
            self._auth = "Basic " + base64.b64encode(f"{config.username}:{password}".encode()).decode()

    def write(self, bucket: str, body: str) -> None:
        """POST the body; classify any failure."""
        database, _, policy = bucket.partition("/")
        params = {"db": database, "precision": "ns"}
        if policy:
            params["rp"] = policy
        request = urllib.request.Request(
            f"{self._url}/write?{urllib.parse.urlencode(params)}", data=body.encode(), method="POST"
        )
        request.add_header("Content-Type", "text/plain; charset=utf-8")
        if self._auth:
            request.add_header("Authorization", self._auth)
        try:
            with urllib.request.urlopen(request, timeout=self._timeout) as response:
                raise_for_status(response.status, "")
        except urllib.error.HTTPError as exc:
            raise_for_status(exc.code, _text(exc.read()))
        except (OSError, ValueError) as exc:  # URLError, refused, reset, timeout
            raise WriteFailed(f"{type(exc).__name__}: {exc}") from None

    def close(self) -> None:
        """Nothing to release (one connection per request)."""


def make_writer(config: InfluxConfig) -> Writer:
    """The writer for the configured API."""
    return InfluxV1Writer(config) if config.api == "v1" else InfluxV2Writer(config)


def _text(body: Any) -> str:
    if isinstance(body, bytes):
        return body.decode("utf-8", errors="replace")
    return "" if body is None else str(body)
