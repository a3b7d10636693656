"""The edge_central role on the real VictoriaMetrics and vmauth, and a site that joins the network by its inventory.

The role runs against this machine (local connection) with its paths pointed into a temp directory; VictoriaMetrics
and vmauth then run with exactly the arguments, environment and files it wrote (parsed from the defaults file and the
unit). A site's inventory with `edge_network_central_url` is rendered with the edge_node role (its checks, its
network secrets task and its node.yaml template), and the real `edge collector` runs that config against them.
"""

from __future__ import annotations

import base64
import json
import os
import secrets
import shlex
import ssl
import stat
import subprocess
import sys
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import yaml

from edge.contract import DeskOccupancy, DeskState, Envelope, Event, Topics, encode
from tests.collector_support import CollectorProcess, Publisher, kill_leftovers
from tests.deploy_support import DEPLOY, PlaybookRun, ansible_env, ansible_tool, free_port
from tests.rig.central import make_tls
from tests.rig.servers import Mosquitto, wait_port
from tests.rig.waiting import wait_until

pytestmark = pytest.mark.slow

SITES = ["la-ruche", "le-hangar"]
CENTRAL_PLAY = """\
- name: Set up the network's central store
  hosts: central
  roles:
    - edge_central
"""
SITE_PLAY = """\
- name: Install the hub collector's network secrets and render its config with the edge_node role
  hosts: hub
  gather_facts: false
  tasks:
    - name: Run the role's variable checks (and load its defaults)
      ansible.builtin.include_role:
        name: edge_node
        tasks_from: checks
        public: true
    - name: Leave this machine's services alone
      ansible.builtin.set_fact:
        edge_node_systemd_dir: {{stat: {{exists: false}}}}
    - name: Install the network secrets as the role does
      ansible.builtin.include_role:
        name: edge_node
        tasks_from: network
    - name: Render the node config
      ansible.builtin.template:
        src: {template}
        dest: "{{{{ edge_node_config_dir }}}}/node.yaml"
        mode: "0644"
"""


def play(tmp: Path, inventory: dict[str, object], playbook: str) -> PlaybookRun:
    (tmp / "inventory.yml").write_text(yaml.safe_dump(inventory))
    (tmp / "play.yml").write_text(playbook)
    result = subprocess.run(
        [str(ansible_tool("ansible-playbook")), "-i", str(tmp / "inventory.yml"), str(tmp / "play.yml")],
        cwd=DEPLOY,
        env=ansible_env(tmp) | {"ANSIBLE_ROLES_PATH": str(DEPLOY / "roles")},
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    return PlaybookRun(result.returncode, result.stdout + result.stderr)


def local(**values: object) -> dict[str, object]:
    return {
        "ansible_connection": "local",
        "ansible_become": False,
        "ansible_python_interpreter": sys.executable,
    } | values


@dataclass
class Network:
    """The role's output and the servers running it."""

    tmp: Path
    secrets: Path
    ca: Path
    runs: tuple[PlaybookRun, PlaybookRun]
    url: str
    victoria_port: int
    processes: list[subprocess.Popen[bytes]]

    @property
    def etc(self) -> Path:
        return self.tmp / "etc"

    def password(self, user: str) -> str:
        return (self.secrets / "network" / f"{user}.password").read_text().strip()

    def request(
        self, path: str, user: str | None, password: str | None = None, *, body: str | None = None
    ) -> tuple[int, bytes]:
        request = urllib.request.Request(self.url + path, data=None if body is None else body.encode())
        if user is not None:
            pair = f"{user}:{self.password(user) if password is None else password}".encode()
            request.add_header("Authorization", "Basic " + base64.b64encode(pair).decode())
        context = ssl.create_default_context(cafile=str(self.ca))
        try:
            with urllib.request.urlopen(request, timeout=30, context=context) as response:
                return int(response.status), response.read()
        except urllib.error.HTTPError as exc:
            return int(exc.code), exc.read()

    def write(self, user: str, line: str, password: str | None = None) -> int:
        return self.request("/api/v2/write?precision=ns", user, password, body=line)[0]

    def export(self, match: str = '{__name__=~".+"}') -> list[dict[str, object]]:
        urllib.request.urlopen(f"http://127.0.0.1:{self.victoria_port}/internal/force_flush", timeout=10).read()
        status, body = self.request("/api/v1/export?" + urllib.parse.urlencode({"match[]": match}), "portfolio")
        assert status == 200, body
        return [json.loads(line) for line in body.decode().splitlines() if line.strip()]


def network_secrets(folder: Path) -> tuple[Path, Path]:
    """The central store's secrets directory as the role's README describes it, and its CA."""
    ca, cert, key = make_tls(folder / "pki")
    (folder / "network").mkdir(parents=True)
    (folder / "central.crt").write_text(cert.read_text())
    (folder / "central.key").write_text(key.read_text())
    for user in [*SITES, "portfolio"]:
        (folder / "network" / f"{user}.password").write_text(secrets.token_urlsafe(24) + "\n")
    (folder / "network" / "internal.key").write_text(secrets.token_hex(16) + "\n")
    return folder, ca


def unit_command(unit: Path) -> list[str]:
    line = next(x for x in unit.read_text().splitlines() if x.startswith("ExecStart="))
    return shlex.split(line.removeprefix("ExecStart="))


def environment_file(path: Path) -> dict[str, str]:
    pairs = [x.split("=", 1) for x in path.read_text().splitlines() if x.strip() and not x.startswith("#")]
    return {k: v for k, v in pairs}


def victoria_args(defaults: Path) -> list[str]:
    values = environment_file(defaults)
    return shlex.split(values["ARGS"].strip('"'))


@pytest.fixture(scope="module")
def network(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Network]:
    tmp = tmp_path_factory.mktemp("central")
    secrets_dir, ca = network_secrets(tmp / "secrets")
    victoria_port, vmauth_port = free_port(), free_port()
    host = local(
        edge_secrets_dir=str(secrets_dir),
        edge_central_sites=SITES,
        edge_central_manage_package=False,
        edge_central_manage_service=False,
        edge_central_manage_user=False,
        edge_central_vmauth_user="root",
        edge_central_config_dir=str(tmp / "etc"),
        edge_central_defaults_file=str(tmp / "victoria-metrics.default"),
        edge_central_vmauth_unit_file=str(tmp / "edge-vmauth.service"),
        edge_central_data_dir=str(tmp / "data"),
        edge_central_victoria_listen=f"127.0.0.1:{victoria_port}",
        edge_central_listen=f"127.0.0.1:{vmauth_port}",
    )
    inventory = {"all": {"children": {"edge_central": {"hosts": {"central": host}}}}}
    first = play(tmp, inventory, CENTRAL_PLAY)
    assert first.returncode == 0, first.output[-5000:]
    second = play(tmp, inventory, CENTRAL_PLAY)
    processes = []
    try:
        logs = open(tmp / "servers.log", "ab")  # noqa: SIM115 - closed below
        processes.append(
            subprocess.Popen(
                ["victoria-metrics", *victoria_args(tmp / "victoria-metrics.default")],
                stdout=logs,
                stderr=subprocess.STDOUT,
                cwd=tmp,
            )
        )
        wait_port(victoria_port, timeout=30)
        env = os.environ | environment_file(tmp / "etc" / "vmauth.env")
        processes.append(
            subprocess.Popen(unit_command(tmp / "edge-vmauth.service"), stdout=logs, stderr=subprocess.STDOUT, env=env)
        )
        wait_port(vmauth_port, timeout=30)
        logs.close()
        yield Network(tmp, secrets_dir, ca, (first, second), f"https://127.0.0.1:{vmauth_port}", victoria_port,
                      processes)  # fmt: skip
    finally:
        kill_leftovers()
        for process in processes:
            process.kill()
            process.wait()


LINE = "site_occupancy,site={site} occupied=3i,total=5i {t}"


def now_ns() -> int:
    return int(datetime.now(UTC).timestamp()) * 10**9


def test_role_converges_and_a_second_run_changes_nothing(network: Network) -> None:
    first, second = network.runs
    assert first.recap("central")["changed"] >= 5
    assert second.returncode == 0, second.output[-3000:]
    assert second.recap("central")["changed"] == 0, second.changed_tasks()


def test_victoria_metrics_listens_on_loopback_keeps_one_sample_per_millisecond_and_a_century(network: Network) -> None:
    args = victoria_args(network.tmp / "victoria-metrics.default")
    assert f"-httpListenAddr=127.0.0.1:{network.victoria_port}" in args
    assert "-dedup.minScrapeInterval=1ms" in args
    assert "-retentionPeriod=100y" in args
    t = now_ns()
    assert network.write("la-ruche", LINE.format(site="la-ruche", t=t)) == 204
    assert network.write("la-ruche", LINE.format(site="la-ruche", t=t)) == 204  # a batch sent again
    [series] = network.export('{__name__="site_occupancy_total"}')
    assert series["timestamps"] == [t // 10**6]


def test_each_site_writes_only_under_its_own_site_label(network: Network) -> None:
    t = now_ns() - 10**9
    assert network.write("le-hangar", LINE.format(site="la-ruche", t=t).replace("site_occupancy", "claim")) == 204
    assert [s["metric"]["site"] for s in network.export('{__name__="claim_occupied"}')] == ["le-hangar"]


@pytest.mark.parametrize(
    ("user", "password"), [("la-ruche", "guess"), ("la-ruche", ""), ("intruder", "x"), (None, None)]
)
def test_a_wrong_password_an_unknown_user_or_no_credentials_write_nothing(
    network: Network, user: str | None, password: str | None
) -> None:
    assert network.write(user, LINE.format(site="la-ruche", t=1).replace("site_occupancy", "refused"), password) in {
        400,
        401,
        403,
    }  # vmauth 1.79 answers a wrong password with 400
    assert network.export('{__name__=~"refused_.+"}') == []


def test_a_site_cannot_read_and_the_reader_cannot_write(network: Network) -> None:
    status, _body = network.request("/api/v1/export?" + urllib.parse.urlencode({"match[]": "{site!=''}"}), "la-ruche")
    assert status >= 400
    assert network.write("portfolio", "sneaky v=1i 1") >= 400
    status, _body = network.request("/api/v1/import", "portfolio", body='{"metric":{"__name__":"x"},"values":[1]}')
    assert status >= 400


def test_vmauth_own_endpoints_need_the_internal_key(network: Network) -> None:
    key = (network.secrets / "network" / "internal.key").read_text().strip()
    assert network.request("/metrics", None)[0] >= 400
    status, body = network.request(f"/metrics?authKey={key}", None)
    assert status == 200 and b"vmauth" in body
    assert network.request("/flags", None)[0] >= 400
    assert key not in " ".join(unit_command(network.tmp / "edge-vmauth.service"))


def test_keys_and_passwords_are_not_world_readable(network: Network) -> None:
    for name, mode in [("central.key", 0o640), ("vmauth.yml", 0o640), ("vmauth.env", 0o600), ("central.crt", 0o644)]:
        assert stat.S_IMODE((network.etc / name).stat().st_mode) == mode, name


def test_the_vmauth_unit_passes_systemd_analyze_verify(network: Network) -> None:
    result = subprocess.run(
        ["systemd-analyze", "verify", "--man=no", str(network.tmp / "edge-vmauth.service")],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert [line for line in result.stderr.splitlines() if "edge-vmauth" in line] == [], result.stderr


def desk_messages(site: str, count: int) -> list[tuple[str, bytes]]:
    topics = Topics(site)
    when = datetime.now(UTC) - timedelta(minutes=3)
    out = []
    for i in range(count):
        body = DeskOccupancy(desk=f"d{i}", zone="open", state=DeskState.OCCUPIED, since=when)
        event = Event(Envelope(id=f"desks-{i}", ts=when, node="desks", seq=i + 1), body)
        out.append((body.topic(topics), encode(event)))
    return out


def test_a_site_joins_the_network_by_its_inventory_and_its_collector_reaches_the_central_store(
    network: Network, tmp_path: Path
) -> None:
    site_secrets = tmp_path / "site-secrets"
    site_secrets.mkdir()
    (site_secrets / "network.password").write_text(network.password("la-ruche") + "\n")  # copied from the central's
    (site_secrets / "network-ca.crt").write_text(network.ca.read_text())
    broker = Mosquitto(tmp_path / "mosquitto")
    broker.start()
    try:
        etc = tmp_path / "etc-edge"
        hub = local(
            edge_site="la-ruche",
            edge_secrets_dir=str(site_secrets),
            edge_network_central_url=network.url,
            edge_node_daemons=["collector"],
            edge_node_package_file="edge.whl",
            edge_node_config_dir=str(etc),
            edge_node_secrets_dir=str(etc / "secrets"),
            edge_node_state_dir=str(tmp_path / "state"),
            edge_node_user="root",
            edge_node_mqtt_host="127.0.0.1",
            edge_node_mqtt_port=broker.port,
            edge_node_mqtt_tls=False,
            edge_node_status_interval_s=1,
            edge_node_collector={"derive_step_s": 10},
            edge_node_network_options={"settle_s": 0},
        )
        (etc / "secrets").mkdir(parents=True)
        (etc / "secrets" / "mqtt.password").write_text("unused by this test broker\n")
        inventory = {"all": {"children": {"edge_collectors": {"hosts": {"hub": hub}}}}}
        done = play(tmp_path, inventory, SITE_PLAY.format(template=DEPLOY / "roles/edge_node/templates/node.yaml.j2"))
        assert done.returncode == 0, done.output[-5000:]
        config = yaml.safe_load((etc / "node.yaml").read_text())
        assert config["collector"]["network"] == {
            "url": network.url,
            "password_file": str(etc / "secrets" / "network.password"),
            "ca_file": str(etc / "secrets" / "network-ca.crt"),
            "settle_s": 0,
        }
        assert stat.S_IMODE((etc / "secrets" / "network.password").stat().st_mode) == 0o640
        checked = subprocess.run(
            [sys.executable, "-m", "edge", "check-config", str(etc / "node.yaml")], capture_output=True, text=True,
            timeout=120, check=False,
        )  # fmt: skip
        assert checked.returncode == 0, checked.stdout + checked.stderr
        collector = CollectorProcess(etc / "node.yaml", broker.port, node="hub", site="la-ruche").start()
        publisher = Publisher(broker.port)
        publisher.send(desk_messages("la-ruche", 4))
        publisher.close()
        arrived = wait_until(lambda: bool(network.export('{__name__="zone_occupancy_occupied",zone="open"}')), 60)
        assert arrived, collector.output()[-3000:]
        assert collector.terminate() == 0
        sites = {s["metric"]["site"] for s in network.export('{__name__=~"zone_occupancy_.+|data_completeness_.+"}')}
        assert sites == {"la-ruche"}
    finally:
        broker.kill()


def test_a_site_checks_refuse_a_central_store_address_without_tls(tmp_path: Path) -> None:
    hub = local(
        edge_site="la-ruche",
        edge_network_central_url="http://central.example.org:8427",
        edge_node_daemons=["collector"],
        edge_node_package_file="edge.whl",
    )
    inventory = {"all": {"children": {"edge_collectors": {"hosts": {"hub": hub}}}}}
    done = play(tmp_path, inventory, SITE_PLAY.format(template=DEPLOY / "roles/edge_node/templates/node.yaml.j2"))
    assert done.returncode != 0
    assert "must be the central store's https:// address" in done.output
