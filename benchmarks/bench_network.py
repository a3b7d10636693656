"""A network of sites and its central store (issue 17); prints a table (reported, not asserted).

    python -m benchmarks.bench_network [--sites 5] [--hours 24]

1. Catching up after a central outage: `--sites` sites (each a real Mosquitto and a real `edge collector` with
   its network output, nodes simulated by a publisher of contract-valid events) keep working while the central
   store (VictoriaMetrics behind vmauth over HTTPS) is away for `--hours` of data: every site collects and derives
   that many hours of desk changes and door decisions. Then the central store returns; measured: the samples it
   received per second, the time until every site had sent everything, and the collectors' CPU and memory while
   they did. One site's collector is killed with SIGKILL during the catch-up: the central store (run without
   deduplication here) shows what that costs: nothing lost, at most one batch sent twice (deduplicated in
   production by `-dedup.minScrapeInterval=1ms`).
2. The load a site puts on the central store in steady state: samples per site and day, from the same data.
3. The alternative that was not chosen, Debian's `vmagent` on each site: its memory, and what it loses when killed
   (a power cut) while the central store is away: it holds what it accepted in memory until it shuts down cleanly.
"""

from __future__ import annotations

import argparse
import json
import signal
import socket
import subprocess
import tempfile
import time
import urllib.parse
import urllib.request
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from benchmarks.common import QUICK, Measure, cpu_seconds, report, rss_mb, sized
from tests.collector_support import kill_leftovers
from tests.network_support import central_samples, derived_rows, sent_by_site, store_meta
from tests.rig.network import SimulatedNetwork
from tests.rig.servers import VictoriaMetrics, require, wait_port
from tests.rig.waiting import wait_until

STEP_S = 60


def derived_to_now(network: SimulatedNetwork) -> bool:
    """Every site's grid is derived up to the last step and nothing is left to recompute."""
    now_ms = int(time.time() * 1000)
    return all(
        store_meta(s.store, "derived_upto") >= now_ms - 3 * STEP_S * 1000 and store_meta(s.store, "dirty_from") <= 0
        for s in network.sites
    )


def within(predicate: Callable[[], bool], timeout: float) -> bool:
    """Whether `predicate` holds within `timeout` s (a benchmark reports what did not happen rather than failing)."""
    try:
        return wait_until(predicate, timeout=timeout)
    except AssertionError:
        return False


def catch_up(sites: int, hours: float, folder: Path) -> dict[str, float]:
    """Sites collect `hours` of data while the central store is away; then it returns and they catch up."""
    network = SimulatedNetwork(folder, sites, settle_s=1.0, derive_step_s=STEP_S)
    try:
        network.start(central=False)  # the central store is away from the start
        end = datetime.now(UTC)
        events = network.past(end - timedelta(hours=hours), end, every_s=120)
        wait_until(lambda: derived_to_now(network), timeout=600, what="every site to derive its series up to now")
        made = network.latest_rids()
        others, victim = network.sites[:-1], network.sites[-1]
        cpu = {pid: cpu_seconds(pid) for pid in collector_pids(network)}
        peak = max(rss_mb(pid) for pid in cpu)
        network.central.start()
        began = time.monotonic()
        killed = within(lambda: store_meta(victim.store, "cursor_network") > 0, timeout=60)
        assert victim.collector is not None and victim.collector.proc is not None
        spent = cpu_seconds(victim.collector.proc.pid) - cpu.pop(victim.collector.proc.pid)
        victim.collector.kill9()
        victim.collector.start()
        cpu[victim.collector.proc.pid] = 0.0  # its restart counts too
        others_done = None
        while not network.sent_up_to(made):
            peak = max([peak] + [rss_mb(pid) for pid in collector_pids(network)])
            if others_done is None and all(derived_rows(s.store)[1] >= made[s.name] for s in others):
                others_done = time.monotonic() - began
            time.sleep(0.1)
            if time.monotonic() - began > 600:
                raise RuntimeError("the sites did not catch up in 10 minutes")
        seconds = time.monotonic() - began
        spent += sum(cpu_seconds(pid) - before for pid, before in cpu.items())
        for site in network.sites:
            assert site.collector is not None
            site.collector.terminate()
        counts, _values = central_samples(network.central)
        sent = Counter[str]()
        missing = 0
        for site in network.sites:
            expected = sent_by_site(site.store)
            sent[site.name] = len(expected)
            missing += sum(1 for key in expected if key not in counts)
        per_site_day = sum(sent.values()) / sites / hours * 24
        return {
            "events": events,
            "samples": sum(counts.values()),
            "rate": sum(counts.values()) / seconds,  # over the whole catch-up, the killed site included
            "seconds": others_done if others_done is not None else seconds,
            "with_kill": seconds,
            "twice": sum(n - 1 for n in counts.values()),
            "missing": missing,
            "killed": float(killed),
            "cpu": spent,
            "rss": peak,
            "per_site_day": per_site_day,
        }
    finally:
        network.stop()
        kill_leftovers()


def collector_pids(network: SimulatedNetwork) -> list[int]:
    """The process ids of the sites' collectors now."""
    return [s.collector.proc.pid for s in network.sites if s.collector and s.collector.proc]


def free_port() -> int:
    """A free loopback port."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def vmagent_probe(samples: int, folder: Path, *, kill: bool) -> dict[str, float]:
    """vmagent on a site: accept `samples` while the central store is away, stop it (SIGKILL or SIGTERM), restart
    both; how many samples reach the central store, and vmagent's memory."""
    central = VictoriaMetrics(folder / "central")
    port = free_port()
    command = [require("vmagent"), f"-httpListenAddr=127.0.0.1:{port}", f"-remoteWrite.url={central.url}/api/v1/write",
               f"-remoteWrite.tmpDataPath={folder / 'queue'}", "-loggerLevel=ERROR"]  # fmt: skip

    def agent() -> subprocess.Popen[bytes]:
        proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_port(port)
        return proc

    proc = agent()
    idle = rss_mb(proc.pid)
    start_ms = int(time.time() * 1000) - 3_600_000
    for first in range(0, samples, 1000):
        body = "\n".join(f"zone_occupancy,site=s,zone=z{i % 5} occupied={i}i {start_ms + i}"
                         for i in range(first, min(samples, first + 1000)))  # fmt: skip
        urllib.request.urlopen(urllib.request.Request(f"http://127.0.0.1:{port}/write", data=body.encode()), timeout=30)
    loaded = rss_mb(proc.pid)
    time.sleep(2)  # more than its flush interval: what it would persist on its own, it has
    proc.send_signal(signal.SIGKILL if kill else signal.SIGTERM)
    proc.wait(30)
    proc = agent()
    central.start()

    def delivered() -> int:
        urllib.request.urlopen(f"{central.url}/internal/force_flush", timeout=10).read()
        query = urllib.parse.urlencode({"match[]": '{__name__="zone_occupancy_occupied"}'})
        with urllib.request.urlopen(f"{central.url}/api/v1/export?{query}", timeout=30) as response:
            return sum(len(json.loads(line)["timestamps"]) for line in response.read().decode().splitlines())

    within(lambda: delivered() >= samples, timeout=sized(30, 3))  # what did not arrive is reported as lost
    got = delivered()
    proc.kill()
    proc.wait()
    central.kill()
    return {"idle": idle, "loaded": loaded, "lost": 100 * (samples - got) / samples}


def main() -> None:
    """Run both parts and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sites", type=int, default=int(sized(5, 2)))
    parser.add_argument("--hours", type=float, default=sized(24, 1))
    parser.add_argument("--vmagent-samples", type=int, default=int(sized(100_000, 10_000)))
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-network-") as tmp:
        c = catch_up(args.sites, args.hours, Path(tmp) / "network")
        killed = vmagent_probe(args.vmagent_samples, Path(tmp) / "vmagent-kill", kill=True)
        # quick mode (CI) skips the clean stop: it only shows that vmagent keeps its queue when stopped cleanly
        stopped = None if QUICK else vmagent_probe(args.vmagent_samples, Path(tmp) / "vmagent-term", kill=False)
    outage = f"{args.sites} sites, central away for {args.hours:g} h of data"
    report(
        [
            Measure("network", f"{outage}: samples into the central store", c["rate"], "samples/s"),
            Measure("network", f"{outage}: time to catch up", c["seconds"], "s"),
            Measure("network", "the same for the site whose collector was killed and restarted", c["with_kill"], "s"),
            Measure("network", f"{outage}: samples received", c["samples"], "samples"),
            Measure("network", f"{outage}: events the sites collected meanwhile", c["events"], "events"),
            Measure("network", "samples missing in the central store", c["missing"], "samples", "0", c["missing"] == 0),
            Measure("network", "samples sent twice (a collector killed during the catch-up)", c["twice"], "samples"),
            Measure("network", "collectors' CPU while catching up (all sites)", c["cpu"], "s"),
            Measure("network", "collector RSS peak while catching up", c["rss"], "MB", "< 60 MB", c["rss"] < 60),
            Measure("network", "steady state: samples per site and day", c["per_site_day"], "samples"),
            Measure("network", "vmagent RSS idle", killed["idle"], "MB"),
            Measure("network", f"vmagent RSS holding {args.vmagent_samples:,} samples", killed["loaded"], "MB"),
            Measure("network", "vmagent killed while the central is away: lost", killed["lost"], "%"),
        ]
        + ([Measure("network", "vmagent stopped cleanly while the central is away: lost", stopped["lost"], "%")]
           if stopped else [])
    )  # fmt: skip


if __name__ == "__main__":
    main()
