"""deploy/network.yml on the real VictoriaMetrics and vmauth, and a site that joins the network by its inventory.

The play runs against this machine (local connection) with the role's paths pointed into a temp directory and an
empty secrets directory: its first play generates the network's secrets on the controller (edge_secrets, tasks_from
central), the edge_central role installs them. VictoriaMetrics and vmauth then run with exactly the arguments,
environment and files it wrote (parsed from the defaults file and the unit), and clients trust the CA the play made.
A site's inventory with `edge_network_central_url` and `edge_network_secrets_dir` is rendered with the edge_secrets
role's network task and the edge_node role (its checks, its network secrets task and its node.yaml template), and
the real `edge collector` runs that config against them.
"""

from __future__ import annotations

import base64
import json
import os
import shlex
import shutil
import signal
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
from cryptography import x509

from edge.contract import DeskOccupancy, DeskState, Envelope, Event, Topics, encode
from tests.collector_support import CollectorProcess, Publisher, kill_leftovers
from tests.deploy_support import DEPLOY, PlaybookRun, ansible_env, ansible_tool, free_port, openssl
from tests.rig.servers import Mosquitto, wait_port
from tests.rig.waiting import wait_until
from tests.secrets_support import certificate, digests, signed_by

pytestmark = pytest.mark.slow

SITES = ["la-ruche", "le-hangar"]
NETWORK_FILES = sorted(
    ["ca.crt", "ca.key", "central.crt", "central.key", "network", "network/internal.key",
     *(f"network/{user}.password" for user in [*SITES, "portfolio"])]
)  # fmt: skip
SITE_PLAY = """\
- name: Install the hub collector's network secrets and render its config with the edge_node role
  hosts: hub
  gather_facts: false
  tasks:
    - name: Copy the site's network password and CA from the network's secrets, as the site's secrets play does
      ansible.builtin.include_role:
        name: edge_secrets
        tasks_from: network
      vars:
        edge_secrets_path: "{{{{ edge_secrets_dir }}}}"
      when: edge_network_secrets_dir is defined
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


def play(tmp: Path, inventory: dict[str, object], playbook: str | None = None, *args: str) -> PlaybookRun:
    """Run a playbook text, or deploy/network.yml when none is given, on an inventory."""
    (tmp / "inventory.yml").write_text(yaml.safe_dump(inventory))
    path = DEPLOY / "network.yml"
    if playbook is not None:
        path = tmp / "play.yml"
        path.write_text(playbook)
    result = subprocess.run(
        [str(ansible_tool("ansible-playbook")), "-i", str(tmp / "inventory.yml"), str(path), *args],
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
    inventory: dict[str, object]
    runs: tuple[PlaybookRun, PlaybookRun]
    files: tuple[dict[str, str], dict[str, str]]
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


def central_host(tmp: Path, secrets_dir: Path, **values: object) -> dict[str, object]:
    """The central store's host: this machine, every path of the role in tmp, no package, user or service."""
    return (
        local(
            edge_secrets_dir=str(secrets_dir),
            edge_central_sites=SITES,
            edge_central_names=["127.0.0.1"],
            edge_central_manage_package=False,
            edge_central_manage_service=False,
            edge_central_manage_user=False,
            edge_central_vmauth_user="root",
            edge_central_config_dir=str(tmp / "etc"),
            edge_central_defaults_file=str(tmp / "victoria-metrics.default"),
            edge_central_vmauth_unit_file=str(tmp / "edge-vmauth.service"),
            edge_central_data_dir=str(tmp / "data"),
        )
        | values
    )


def central_inventory(host: dict[str, object]) -> dict[str, object]:
    return {"all": {"children": {"edge_central": {"hosts": {"central": host}}}}}


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
    secrets_dir = tmp / "secrets"
    victoria_port, vmauth_port = free_port(), free_port()
    host = central_host(
        tmp,
        secrets_dir,
        edge_central_victoria_listen=f"127.0.0.1:{victoria_port}",
        edge_central_listen=f"127.0.0.1:{vmauth_port}",
    )
    inventory = central_inventory(host)
    first = play(tmp, inventory)
    assert first.returncode == 0, first.failures()
    made = digests(secrets_dir)
    second = play(tmp, inventory)
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
        files = (made, digests(secrets_dir))
        yield Network(tmp, secrets_dir, secrets_dir / "ca.crt", inventory, (first, second), files,
                      f"https://127.0.0.1:{vmauth_port}", victoria_port, processes)  # fmt: skip
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
    assert network.files[1] == network.files[0]


def test_the_play_makes_every_secret_of_the_network_readable_by_its_owner_only(network: Network) -> None:
    made = network.secrets
    assert sorted(str(p.relative_to(made)) for p in made.rglob("*") if not p.name.endswith("~")) == NETWORK_FILES
    assert {p.stat().st_mode & 0o777 for p in [made, made / "network"]} == {0o700}
    assert {p.stat().st_mode & 0o777 for p in made.rglob("*") if p.is_file()} == {0o600}
    passwords = {network.password(user) for user in [*SITES, "portfolio"]}
    assert len(passwords) == 3 and {len(p) for p in passwords} == {32}
    assert len(bytes.fromhex((made / "network" / "internal.key").read_text().strip())) == 32


def test_the_central_certificate_names_its_address_and_is_signed_by_the_network_ca(network: Network) -> None:
    ca, cert = certificate(network.ca), certificate(network.secrets / "central.crt")
    assert ca.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    assert signed_by(cert, ca)
    san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert [str(a) for a in san.get_values_for_type(x509.IPAddress)] == ["127.0.0.1"]
    assert (network.etc / "central.crt").read_text() == (network.secrets / "central.crt").read_text()


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


def test_replacing_one_sites_password_locks_out_only_that_sites_old_password(network: Network) -> None:
    before, old = digests(network.secrets), network.password("le-hangar")
    done = play(network.tmp, network.inventory, None, "-e", "edge_rotate=network/le-hangar")
    assert done.returncode == 0, done.failures()
    after = digests(network.secrets)
    assert {name for name in before if before[name] != after[name]} == {"network/le-hangar.password"}
    assert [p.name.split(".")[0] for p in (network.secrets / "network").glob("*~")] == ["le-hangar"]
    assert "Reload vmauth" in done.output
    network.processes[1].send_signal(signal.SIGHUP)  # what the handler's systemctl reload does (ExecReload)
    t = now_ns() - 2 * 10**9
    wait_until(lambda: network.write("le-hangar", LINE.format(site="x", t=t)) == 204, 30, "the new password works")
    assert network.write("le-hangar", LINE.format(site="x", t=t), old) in {400, 401, 403}
    assert network.write("la-ruche", LINE.format(site="x", t=t)) == 204


def test_a_rotation_of_a_name_the_network_does_not_have_is_refused(network: Network, tmp_path: Path) -> None:
    secrets_dir = tmp_path / "secrets"
    shutil.copytree(network.secrets, secrets_dir)
    before = digests(secrets_dir)
    inventory = central_inventory(central_host(tmp_path, secrets_dir))
    done = play(tmp_path, inventory, None, "--tags", "secrets", "-e", "edge_rotate=network/intruder")
    assert done.returncode != 0 and "edge_rotate (network/intruder) may name" in done.output
    assert digests(secrets_dir) == before


def hand_made(folder: Path, users: list[str]) -> Path:
    """A network's secrets directory as earlier versions of deploy/README.md had installers make it with openssl."""
    (folder / "network").mkdir(parents=True)
    ec_key = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"]
    openssl("req", "-x509", *ec_key, "-days", "3650", "-keyout", "ca.key", "-out", "ca.crt", "-subj",
            "/CN=edge network CA", cwd=folder)  # fmt: skip
    openssl("req", "-new", *ec_key, "-keyout", "central.key", "-out", "central.csr", "-subj", "/CN=central.example.org",
            cwd=folder)  # fmt: skip
    (folder / "san.ext").write_text("subjectAltName=DNS:central.example.org\n")
    openssl("x509", "-req", "-in", "central.csr", "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial", "-days",
            "825", "-extfile", "san.ext", "-out", "central.crt", cwd=folder)  # fmt: skip
    for user in users:
        openssl("rand", "-base64", "-out", f"network/{user}.password", "32", cwd=folder)
    openssl("rand", "-hex", "-out", "network/internal.key", "32", cwd=folder)
    return folder


def test_a_directory_made_by_hand_is_kept_and_completed(tmp_path: Path) -> None:
    secrets_dir = hand_made(tmp_path / "secrets", ["la-ruche", "portfolio"])
    before = digests(secrets_dir)
    inventory = central_inventory(central_host(tmp_path, secrets_dir, edge_central_names=["central.example.org"]))
    done = play(tmp_path, inventory, None, "--tags", "secrets")
    assert done.returncode == 0, done.failures()
    after = digests(secrets_dir)
    assert {name: after[name] for name in before} == before
    assert set(after) - set(before) == {"network/le-hangar.password"}
    assert {p.stat().st_mode & 0o777 for p in secrets_dir.rglob("*") if p.is_file()} == {0o600}


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
    broker = Mosquitto(tmp_path / "mosquitto")
    broker.start()
    try:
        etc = tmp_path / "etc-edge"
        hub = local(
            edge_site="la-ruche",
            edge_secrets_dir=str(site_secrets),
            edge_network_central_url=network.url,
            edge_network_secrets_dir=str(network.secrets),
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
        assert (site_secrets / "network.password").read_text().strip() == network.password("la-ruche")
        assert (site_secrets / "network-ca.crt").read_text() == network.ca.read_text()
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
        assert collector.stop() == 0
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
