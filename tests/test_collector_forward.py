"""The forwarder against real servers: rows leave only after a 2xx, failures are retried, refused rows quarantined."""

from __future__ import annotations

import http.server
import threading
import urllib.parse
from collections.abc import Iterator
from pathlib import Path
from typing import ClassVar

import pytest

from edge.clock import SystemClock
from edge.collector.forward import Forwarder, write_rows
from edge.collector.ingest import classify
from edge.collector.outqueue import ForwardQueue, Pending
from edge.collector.schema import Bucket
from edge.collector.store import Store
from edge.collector.writers import InfluxV1Writer, InfluxV2Writer, WriteFailed, WriteRefused, raise_for_status
from edge.config.collector import InfluxConfig
from edge.metrics import Counters
from tests.collector_support import TOPICS, access_event, desk_event, desk_timestamps, samples, wire
from tests.rig.servers import InfluxDB16, VictoriaMetrics
from tests.rig.waiting import wait_until


@pytest.mark.parametrize(
    ("status", "error"),
    [
        (400, WriteRefused),
        (413, WriteRefused),
        (422, WriteRefused),
        (401, WriteFailed),
        (404, WriteFailed),
        (429, WriteFailed),
        (500, WriteFailed),
        (503, WriteFailed),
    ],
)
def test_only_statuses_that_blame_the_rows_are_refusals(status: int, error: type[Exception]) -> None:
    with pytest.raises(error):
        raise_for_status(status, "message")


def test_a_2xx_is_success() -> None:
    raise_for_status(204, "")


def test_bisection_isolates_exactly_the_refused_rows() -> None:
    rows = [Pending(i, f"line{i}") for i in range(1, 11)]
    bad = {"line3", "line8"}
    written: list[str] = []

    def write(body: str) -> None:
        lines = body.split("\n")
        if bad & set(lines):
            raise WriteRefused(400, "bad line")
        written.extend(lines)

    refused = write_rows(rows, write)
    assert [r.row.rid for r in refused] == [3, 8]
    assert {r.reason for r in refused} == {"influx_400"}
    assert sorted(written) == sorted(f"line{i}" for i in range(1, 11) if f"line{i}" not in bad)


def test_a_failure_during_bisection_leaves_the_decision_to_a_retry() -> None:
    calls = []

    def write(body: str) -> None:
        calls.append(body)
        if len(calls) == 1:
            raise WriteRefused(400, "bad line")
        raise WriteFailed("connection refused")

    with pytest.raises(WriteFailed):
        write_rows([Pending(1, "a"), Pending(2, "b")], write)


def filled_store(tmp_path: Path, events: int) -> Store:
    store = Store(tmp_path / "c.sqlite3")
    store.commit([classify(TOPICS, *wire(desk_event(i))) for i in range(events)], 0)
    return store


def test_rows_a_real_influxdb_refuses_are_quarantined_and_the_rest_is_written(
    influxdb: InfluxDB16, tmp_path: Path
) -> None:
    influxdb.query("CREATE DATABASE edge")
    # Someone wrote desk_state.occupied as a float first: InfluxDB will refuse our integers for good (400).
    first_ns = desk_timestamps(1)[0] * 1_000_000
    influxdb.write("edge", f"desk_state,desk=x,node=x,site=x,zone=x occupied=0.5 {first_ns}")
    store = filled_store(tmp_path, 4)
    door = access_event(100, desk_event(0).envelope.ts)
    store.commit([classify(TOPICS, *wire(door))], 0)
    queue = ForwardQueue(store.path, store.writer)
    counters = Counters()
    writer = InfluxV1Writer(InfluxConfig(url=influxdb.url, api="v1", bucket="edge"))
    forwarder = Forwarder(queue, writer, {Bucket.RAW: "edge"}, clock=SystemClock(), counters=counters)
    assert forwarder.forward_once() == 5
    assert store.quarantine_counts() == {"influx_400": 4}
    assert counters.get("forwarded") == 1
    assert queue.backlog(Bucket.RAW) == 0
    answer = influxdb.query("SELECT count(granted) FROM door_access", db="edge")
    assert answer["results"][0]["series"][0]["values"][0][1] == 1  # type: ignore[index]
    queue.close()
    store.close()


def test_nothing_is_marked_forwarded_while_the_server_is_down_and_everything_arrives_after(
    victoria: VictoriaMetrics, tmp_path: Path
) -> None:
    store = filled_store(tmp_path, 300)
    queue = ForwardQueue(store.path, store.writer)
    counters = Counters()
    writer = InfluxV2Writer(InfluxConfig(url=victoria.url, bucket="edge", timeout_s=2))
    forwarder = Forwarder(
        queue, writer, {Bucket.RAW: "edge"}, clock=SystemClock(), counters=counters, batch_size=100, backoff_max_s=0.5
    )
    victoria.stop()
    thread = threading.Thread(target=forwarder.run)
    thread.start()
    wait_until(lambda: counters.get("forward_retries") >= 3, 30, "three forward retries")
    assert queue.backlog(Bucket.RAW) == 300
    victoria.start()
    wait_until(lambda: queue.backlog(Bucket.RAW) == 0, 30, "the raw backlog to drain")
    forwarder.stop()
    thread.join(5)
    got = samples(victoria, "desk_state_occupied")
    assert sorted(t for _, t in got) == desk_timestamps(300)
    assert counters.get("forwarded") == 300
    writer.close()
    queue.close()
    store.close()


class Recorded(http.server.BaseHTTPRequestHandler):
    """A real HTTP server's handler that keeps each request and answers with the status it is told to."""

    requests: ClassVar[list[tuple[str, str, dict[str, str], bytes]]] = []
    status: ClassVar[int] = 204

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        Recorded.requests.append((self.command, self.path, {k.lower(): v for k, v in self.headers.items()}, body))
        answer = b'{"code":"invalid","message":"unable to parse"}' if self.status >= 300 else b""
        self.send_response(self.status)
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)

    def log_message(self, *_args: object) -> None:
        pass


@pytest.fixture
def recorder() -> Iterator[str]:
    Recorded.requests, Recorded.status = [], 204
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Recorded)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_the_v2_writer_sends_what_influxdb_client_sends(recorder: str, tmp_path: Path) -> None:
    from influxdb_client import InfluxDBClient  # the reference only: the collector does not import it
    from influxdb_client.client.write_api import SYNCHRONOUS

    token = tmp_path / "token"
    token.write_text("s3cret-token\n")
    body = "desk_state,site=s occupied=1i 1700000000000000000\ndesk_state,site=s occupied=0i 1700000001000000000"
    ours = InfluxV2Writer(InfluxConfig(url=recorder + "/", org="coop", bucket="edge", token_file=token))
    ours.write("edge/autogen", body)
    ours.write("edge/autogen", body)  # the same kept-alive connection
    ours.close()
    client = InfluxDBClient(url=recorder, token="s3cret-token", org="coop")
    client.write_api(write_options=SYNCHRONOUS).write(
        bucket="edge/autogen", org="coop", record=body, write_precision="ns"
    )
    client.close()
    (_, our_path, our_headers, our_body), _, (_, their_path, their_headers, their_body) = Recorded.requests
    assert urllib.parse.parse_qs(urllib.parse.urlsplit(our_path).query) == urllib.parse.parse_qs(
        urllib.parse.urlsplit(their_path).query
    )
    assert urllib.parse.urlsplit(our_path).path == urllib.parse.urlsplit(their_path).path == "/api/v2/write"
    assert our_body == their_body == body.encode()
    for header in ("authorization", "content-type"):
        assert our_headers[header].split(";")[0] == their_headers[header].split(";")[0]


def test_a_v2_refusal_of_the_rows_is_told_apart_from_a_failure_with_the_server_s_reason(recorder: str) -> None:
    writer = InfluxV2Writer(InfluxConfig(url=recorder, bucket="edge"))
    Recorded.status = 400
    with pytest.raises(WriteRefused, match="unable to parse") as refused:
        writer.write("edge", "bad line")
    assert refused.value.reason == "influx_400"
    Recorded.status = 503
    with pytest.raises(WriteFailed, match="HTTP 503"):
        writer.write("edge", "m f=1i 1")
    writer.close()
    with pytest.raises(WriteFailed):  # nothing listens there any more: retried later, never refused
        InfluxV2Writer(InfluxConfig(url="http://127.0.0.1:9", bucket="edge", timeout_s=1)).write("edge", "m f=1i 1")
