"""Writers: send a body of line protocol to one bucket, and say whether a failure is worth retrying.

`InfluxV2Writer` goes through influxdb-client's synchronous write API (`POST /api/v2/write`: InfluxDB 1.8+,
2.x, 3.x, VictoriaMetrics) — never its batching writer, which drops data after its retries. `InfluxV1Writer`
posts to `/write` for InfluxDB 1.x servers older than 1.8, which have no `/api/v2/write`.

A status that will never succeed for these rows (400 bad line or field type conflict, 413 too large, 422 outside
retention) raises `WriteRefused`, and the forwarder bisects the batch to quarantine the culprits. Every other
failure (5xx, connection refused, timeout, 401/403/404/429: a server or configuration problem that an operator
or time fixes) raises `WriteFailed`, and the forwarder retries the same batch with backoff, forever.
"""

from __future__ import annotations

import base64
import urllib.error
import urllib.parse
import urllib.request
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


class InfluxV2Writer:
    """influxdb-client's synchronous write API (`/api/v2/write`, nanosecond precision)."""

    def __init__(self, config: InfluxConfig) -> None:
        from influxdb_client.client.influxdb_client import InfluxDBClient
        from influxdb_client.client.write_api import SYNCHRONOUS
        from influxdb_client.domain.write_precision import WritePrecision

        token = read_secret(config.token_file).decode() if config.token_file else ""
        self._org = config.org
        self._precision = WritePrecision.NS
        self._client = InfluxDBClient(url=config.url, token=token, org=config.org, timeout=int(config.timeout_s * 1000))
        self._api = self._client.write_api(write_options=SYNCHRONOUS)

    def write(self, bucket: str, body: str) -> None:
        """POST the body; classify any failure."""
        from influxdb_client.rest import ApiException

        try:
            self._api.write(bucket=bucket, org=self._org, record=body, write_precision=self._precision)  # type: ignore[arg-type]  # its constants are str
        except ApiException as exc:
            raise_for_status(int(exc.status or 0), _text(exc.body) or str(exc.reason))
        except Exception as exc:  # connection refused, reset, timeout: all worth retrying
            raise WriteFailed(f"{type(exc).__name__}: {exc}") from None

    def close(self) -> None:
        """Close the HTTP pool."""
        self._client.close()  # type: ignore[no-untyped-call]


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
