"""The Ansible deployment: lint clean, syntax clean, and deploy/site.yml run for real, as docs/installation.md's
shortest path runs it, on Debian Bookworm roots.

Two roots bootstrapped with debootstrap stand for a fresh site: a hub (broker, collector, InfluxDB, Grafana) and a
door; the play reaches them through the chroot connection, installs the edge wheel built from this checkout, and
generates every secret of the site on the controller into an empty secrets directory. It must converge, change
nothing on a second run, leave configs that `edge check-config` accepts inside the roots, put units and files in
place with the right owners and modes, refuse to install a config that `edge check-config` rejects, run only the
config tasks with `--tags config`, and notify the reboot the new firmware config needs. The broker it configured
then runs (from the hub root) and accepts the door's generated credentials.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from edge.contract.limits import LARGE_PACKET_BYTES
from tests.deploy_roots import build_edge_wheel, remove_root, root_tarball, unpack_root
from tests.deploy_support import (
    DEPLOY,
    REPO,
    Client,
    Mosquitto,
    PlaybookRun,
    ansible_env,
    ansible_tool,
    free_port,
    parse_udev_rules,
    run_playbook,
)
from tests.secrets_support import site_secret_files

HOST = "door-test"
PI_OS_CONFIG_TXT = "# Raspberry Pi OS default (abridged)\ndtparam=audio=on\ncamera_auto_detect=1\n\n[all]\n"
PI_OS_CMDLINE = (
    "console=serial0,115200 console=tty1 root=PARTUUID=0f1e2d3c-02 rootfstype=ext4 fsck.repair=yes rootwait\n"
)
SERIAL_LINKS = [
    {"name": "reader-front", "kernel": "ttyAMA0"},
    {"name": "radar-desk-01", "serial": "A10KX7QZ"},
    {"name": "radar-desk-02", "usb_path": "platform-fd500000.pcie-pci-0000:01:00.0-usb-0:1.3:1.0"},
]

# A real door (docs/doors.md): check-config inside the root then validates the door and its `access` section.
DOORS = [
    {
        "name": "front",
        "readers": [
            {"direction": "in", "reader": {"name": "front-outside", "type": "mfrc522", "reset_pin": 25}},
            {
                "direction": "out",
                "reader": {"name": "front-inside", "type": "rdm6300", "port": "/dev/edge-reader-front"},
            },
        ],
        "relay": {"pin": 5, "active_high": False, "lock_type": "fail_safe"},
        "contact": {"pin": 27},
        "rex": {"pin": 22},
    }
]

# Bootstrapping a Debian root and converging it takes minutes, many more on a busy machine: the session fixtures
# that do it count against the first test that uses them.
pytestmark = pytest.mark.timeout(2400)


def run(*args: str, timeout: float = 600) -> subprocess.CompletedProcess[str]:
    return subprocess.run(list(args), capture_output=True, text=True, timeout=timeout, check=False)


@pytest.fixture(scope="session")
def edge_wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The edge wheel built from this checkout, as an installer builds it on the controller."""
    return build_edge_wheel(tmp_path_factory.mktemp("dist"))


class Node:
    """The site deployed with one command: a hub (broker, collector, InfluxDB, console, Grafana) and a door, each a
    Debian Bookworm root reached through the chroot connection, and the secrets directory the play fills (empty
    before)."""

    def __init__(self, tmp: Path, root: Path, hub: Path, wheel: Path) -> None:
        self.tmp, self.root, self.hub = tmp, root, hub
        self.secrets = tmp / "secrets"
        self.tls_port, self.local_port = free_port(), free_port()
        self.influx_url = f"http://127.0.0.1:{free_port()}"
        chroot = {"ansible_connection": "community.general.chroot", "ansible_become": False}
        door_vars = chroot | {
            "ansible_host": str(root),
            "edge_node_daemons": ["door"],
            "edge_node_firmware_fragments": ["common", "spi-mfrc522", "uart-gpio"],
            "edge_node_serial_links": SERIAL_LINKS,
            "edge_node_doors": DOORS,
        }
        hub_vars = chroot | {
            "ansible_host": str(hub),
            "edge_node_daemons": ["collector"],
            "edge_node_package_extras": [],
            "edge_node_mqtt_host": "127.0.0.1",
            "edge_node_mqtt_port": self.local_port,
            "edge_node_mqtt_tls": False,
            "edge_node_collector": {"influx": {"url": self.influx_url, "api": "v1", "bucket": "edge"}},
            "edge_influxdb_http_address": self.influx_url.removeprefix("http://"),
            "edge_influxdb_rpc_address": f"127.0.0.1:{free_port()}",
            "edge_collector_influxdb_api": "v1",
            "edge_collector_influxdb_url": self.influx_url,
            "edge_grafana_influxdb_url": self.influx_url,
            "edge_collector_manage_bucket": False,  # nothing runs in a chroot: no InfluxDB to create it in
            "edge_grafana_install": False,  # Grafana's repository is unreachable here: the package stands in (below)
            "edge_broker_tls_port": self.tls_port,
            "edge_broker_local_port": self.local_port,
            "edge_console_allowed_hosts": ["hub.test"],
            "edge_console_manager": "manager",
        }
        site_vars = {
            "edge_site": "testsite",
            "edge_secrets_dir": str(self.secrets),
            "edge_mqtt_host": "hub.test",
            "edge_mqtt_port": self.tls_port,
            "edge_secrets_broker_extra_names": ["127.0.0.1"],  # this test's MQTT clients connect to the address
            "edge_node_package_file": str(wheel),
            "edge_node_pip_environment": {"PIP_CERT": "/etc/edge-test/ca-bundle.pem"},
            "edge_node_reboot_for_firmware": False,  # a chroot is never rebooted; the handler is still notified
        }
        inventory = {
            "all": {
                "vars": site_vars,
                "children": {
                    "edge_brokers": {"hosts": {"hub": hub_vars}},
                    "edge_collectors": {"hosts": {"hub": None}},
                    "edge_consoles": {"hosts": {"hub": None}},
                    "edge_grafana": {"hosts": {"hub": None}},
                    "edge_nodes": {"children": {"edge_doors": {"hosts": {HOST: door_vars}}}},
                },
            }
        }
        self.inventory = tmp / "inventory.yml"
        self.inventory.write_text(yaml.safe_dump(inventory))

    def play(self, *args: str) -> PlaybookRun:
        return run_playbook(self.tmp, self.inventory, "site.yml", *args, timeout=2400)

    def path(self, inside: str) -> Path:
        return self.root / inside.lstrip("/")

    def ids(self, database: str, root: Path | None = None) -> dict[int, str]:
        """uid or gid -> name, from the root's own /etc/passwd or /etc/group."""
        lines = ((root or self.root) / f"etc/{database}").read_text().splitlines()
        return {int(fields[2]): fields[0] for fields in (line.split(":") for line in lines if line)}


def door_root(root: Path) -> Path:
    """A Raspberry Pi OS-like door root that used to be a desk node (its presence unit installed and enabled)."""
    (root / "boot/firmware/config.txt").write_text(PI_OS_CONFIG_TXT)
    (root / "boot/firmware/cmdline.txt").write_text(PI_OS_CMDLINE)
    shutil.copy(REPO / "systemd/edge-presence.service", root / "etc/systemd/system/edge-presence.service")
    (root / "etc/systemd/system/multi-user.target.wants").mkdir(parents=True, exist_ok=True)
    (root / "etc/systemd/system/multi-user.target.wants/edge-presence.service").symlink_to(
        "/etc/systemd/system/edge-presence.service"
    )
    return root


def hub_root(root: Path) -> Path:
    """A hub root where Grafana's package stands installed: its group and provisioning folders, as its postinst
    makes them (apt.grafana.com is unreachable here; the role's install steps are checked on their own)."""
    (root / "boot/firmware/config.txt").write_text(PI_OS_CONFIG_TXT)
    (root / "boot/firmware/cmdline.txt").write_text(PI_OS_CMDLINE)
    assert run("chroot", str(root), "groupadd", "--system", "grafana").returncode == 0
    for folder in ("datasources", "dashboards"):
        (root / "etc/grafana/provisioning" / folder).mkdir(parents=True)
    return root


@pytest.fixture(scope="module")
def node(tmp_path_factory: pytest.TempPathFactory, edge_wheel: Path) -> Iterator[Node]:
    tarball = root_tarball("amd64")
    base = tmp_path_factory.mktemp("site")
    roots = [door_root(unpack_root(tarball, base / "door")), hub_root(unpack_root(tarball, base / "hub"))]
    yield Node(base, *roots, edge_wheel)
    for root in roots:
        remove_root(root)


@pytest.fixture(scope="module")
def first_run(node: Node) -> PlaybookRun:
    started = time.monotonic()
    done = node.play()
    print(f"amd64 site converge: {time.monotonic() - started:.0f} s")  # pytest -s shows it
    return done


@pytest.fixture(scope="module")
def second_run(node: Node, first_run: PlaybookRun) -> PlaybookRun:
    assert first_run.returncode == 0, first_run.failures()
    started = time.monotonic()
    done = node.play()
    print(f"amd64 site second run: {time.monotonic() - started:.0f} s")
    return done


# --- Static checks ------------------------------------------------------------------------------------------------


@pytest.mark.slow
def test_ansible_lint_reports_nothing(tmp_path: Path) -> None:
    result = subprocess.run(
        [str(ansible_tool("ansible-lint")), "--offline", "--nocolor"],
        cwd=DEPLOY,
        env=ansible_env(tmp_path),
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert result.returncode == 0, result.stdout[-5000:] + result.stderr[-3000:]


def test_site_playbook_passes_syntax_check(tmp_path: Path) -> None:
    result = run_playbook(tmp_path, DEPLOY / "inventory/example/hosts.yml", "--syntax-check", "site.yml")
    assert result.returncode == 0, result.output[-3000:]


def test_network_playbook_passes_syntax_check(tmp_path: Path) -> None:
    result = run_playbook(tmp_path, DEPLOY / "inventory/network-example/hosts.yml", "--syntax-check", "network.yml")
    assert result.returncode == 0, result.output[-3000:]


def test_example_inventory_gives_every_node_daemons_and_a_valid_name(tmp_path: Path) -> None:
    result = subprocess.run(
        [str(ansible_tool("ansible-inventory")), "-i", "inventory/example/hosts.yml", "--list"],
        cwd=DEPLOY,
        env=ansible_env(tmp_path),
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    hostvars = json.loads(result.stdout)["_meta"]["hostvars"]
    daemons = {host: tuple(values.get("edge_node_daemons", ())) for host, values in hostvars.items()}
    assert daemons == {
        "hub": ("collector",),
        "door-front": ("door",),
        "door-back": ("door",),
        "desks-east": ("presence",),
        "desks-west": ("presence",),
    }
    assert all(re.fullmatch(r"[a-z0-9][a-z0-9_-]{0,47}", host) for host in hostvars)


def test_node_role_installs_the_units_from_the_repo_systemd_directory() -> None:
    defaults = yaml.safe_load((DEPLOY / "roles/edge_node/defaults/main.yml").read_text())
    assert defaults["edge_node_units_dir"] == "{{ role_path }}/../../../systemd"
    assert (DEPLOY / "roles/edge_node" / "../../../systemd").resolve() == REPO / "systemd"
    assert defaults["edge_node_venv"] == "{{ edge_node_prefix }}/venv" and defaults["edge_node_prefix"] == "/opt/edge"


@pytest.mark.parametrize(
    "role",
    [
        "edge_secrets",
        "edge_node",
        "edge_broker",
        "edge_influxdb",
        "edge_collector",
        "edge_console",
        "edge_grafana",
        "edge_central",
    ],
)
def test_role_variables_are_prefixed_and_documented(role: str) -> None:
    defaults = yaml.safe_load((DEPLOY / "roles" / role / "defaults/main.yml").read_text())
    readme = (DEPLOY / "roles" / role / "README.md").read_text()
    assert all(name.startswith("edge_") for name in defaults)
    assert [name for name in defaults if f"`{name}`" not in readme] == []


@pytest.mark.parametrize("template", sorted(DEPLOY.glob("roles/*/templates/*.j2")), ids=lambda p: p.name)
def test_template_starts_with_the_ansible_managed_comment(template: Path) -> None:
    assert template.read_text().startswith("{{ ansible_managed | comment")


# --- A real run on a Debian Bookworm root -----------------------------------------------------------------------


@pytest.mark.slow
def test_node_role_converges_on_a_bookworm_root(first_run: PlaybookRun) -> None:
    assert first_run.returncode == 0, first_run.failures()
    assert first_run.recap(HOST)["failed"] == 0
    assert first_run.recap(HOST)["changed"] > 0


@pytest.mark.slow
def test_second_run_changes_nothing(second_run: PlaybookRun) -> None:
    assert second_run.returncode == 0, second_run.failures()
    assert second_run.recap(HOST)["changed"] == 0, second_run.changed_tasks()


@pytest.mark.slow
def test_installed_config_passes_check_config_inside_the_root(node: Node, second_run: PlaybookRun) -> None:
    result = run("chroot", str(node.root), "/opt/edge/venv/bin/edge", "check-config", "/etc/edge/node.yaml")
    assert (result.returncode, result.stderr) == (0, "")
    assert "valid (site testsite, node door-test)" in result.stdout


@pytest.mark.slow
def test_installed_config_names_the_node_broker_and_secret_files(node: Node, second_run: PlaybookRun) -> None:
    config = yaml.safe_load(node.path("/etc/edge/node.yaml").read_text())
    assert (config["site"], config["node"]) == ("testsite", HOST)
    assert config["mqtt"] | {"tls": None} == {
        "host": "hub.test",
        "port": node.tls_port,
        "client_id": HOST,
        "username": HOST,
        "password_file": "/etc/edge/secrets/mqtt.password",
        "prefix": "edge",
        "max_packet_size": LARGE_PACKET_BYTES,  # a door accepts every packet the broker accepts
        "tls": None,
    }
    assert config["mqtt"]["tls"] == {"ca_file": "/etc/edge/secrets/ca.crt"}
    assert config["badge_key_file"] == "/etc/edge/secrets/badge.key"
    assert config["access"] == {
        "snapshot_keys": ["/etc/edge/secrets/snapshot-signing.pub"],
        "command_keys": ["/etc/edge/secrets/command-signing.pub"],
        "clock_trust": "ntp",
        "home_assistant": False,
        "min_snapshot_version": 0,
    }
    assert config["doors"] == DOORS
    assert (
        node.path("/etc/edge/secrets/mqtt.password").read_text()
        == (node.secrets / "mqtt/door-test.password").read_text()
    )


@pytest.mark.slow
@pytest.mark.parametrize(
    ("path", "owner", "group", "mode"),
    [
        ("/etc/edge", "root", "edge", 0o750),
        ("/etc/edge/node.yaml", "root", "edge", 0o640),
        ("/etc/edge/secrets", "root", "edge", 0o750),
        ("/etc/edge/secrets/mqtt.password", "root", "edge", 0o640),
        ("/etc/edge/secrets/ca.crt", "root", "edge", 0o640),
        ("/etc/edge/secrets/badge.key", "root", "edge", 0o640),
        ("/etc/edge/secrets/snapshot-signing.pub", "root", "edge", 0o644),
        ("/etc/edge/secrets/command-signing.pub", "root", "edge", 0o644),
        ("/var/lib/edge", "edge", "edge", 0o750),
        ("/opt/edge/venv/bin/edge", "root", "root", 0o755),
        ("/etc/systemd/system/edge-door.service", "root", "root", 0o644),
        ("/etc/systemd/journald@edge.conf", "root", "root", 0o644),
        ("/etc/systemd/system.conf.d/edge-watchdog.conf", "root", "root", 0o644),
        ("/etc/udev/rules.d/70-edge-serial.rules", "root", "root", 0o644),
    ],
)
def test_file_is_in_place_with_owner_and_mode(
    node: Node, second_run: PlaybookRun, path: str, owner: str, group: str, mode: int
) -> None:
    info = node.path(path).stat()
    users, groups = node.ids("passwd"), node.ids("group")
    assert (users[info.st_uid], groups[info.st_gid], info.st_mode & 0o7777) == (owner, group, mode)


@pytest.mark.slow
def test_edge_user_is_a_system_user_without_login_or_device_groups(node: Node, second_run: PlaybookRun) -> None:
    entry = next(
        line.split(":") for line in node.path("/etc/passwd").read_text().splitlines() if line.startswith("edge:")
    )
    assert int(entry[2]) < 1000 and entry[6] == "/usr/sbin/nologin"
    members = {
        fields[0]: fields[3].split(",")
        for fields in (line.split(":") for line in node.path("/etc/group").read_text().splitlines())
    }
    assert {"gpio", "spi", "dialout"} <= set(members)
    assert [name for name, users in members.items() if "edge" in users] == []


@pytest.mark.slow
def test_unit_is_installed_byte_for_byte_as_shipped_and_enabled(node: Node, second_run: PlaybookRun) -> None:
    installed = node.path("/etc/systemd/system/edge-door.service")
    assert installed.read_bytes() == (REPO / "systemd/edge-door.service").read_bytes()
    wants = node.path("/etc/systemd/system/multi-user.target.wants/edge-door.service")
    assert os.readlink(wants) == "/etc/systemd/system/edge-door.service"
    assert not node.path("/etc/systemd/system/edge-collector.service").exists()


@pytest.mark.slow
def test_installed_unit_passes_systemd_analyze_verify_against_the_root(node: Node, second_run: PlaybookRun) -> None:
    # Against the node's own systemd: its journald@.socket units are what LogNamespace=edge pulls in.
    result = run(
        "systemd-analyze", "verify", "--man=no", f"--root={node.root}", "/etc/systemd/system/edge-door.service"
    )
    assert (result.returncode, result.stderr, result.stdout) == (0, "", "")


@pytest.mark.slow
def test_edge_journal_config_is_installed_byte_for_byte_as_shipped(node: Node, second_run: PlaybookRun) -> None:
    installed = node.path("/etc/systemd/journald@edge.conf")
    assert installed.read_bytes() == (REPO / "systemd/journald@edge.conf").read_bytes()
    assert node.path("/usr/lib/systemd/system/systemd-journald@.service").exists()  # the namespace's journald


@pytest.mark.slow
def test_unit_of_a_daemon_the_node_no_longer_runs_is_disabled_and_removed(node: Node, second_run: PlaybookRun) -> None:
    assert not node.path("/etc/systemd/system/multi-user.target.wants/edge-presence.service").is_symlink()
    assert not node.path("/etc/systemd/system/edge-presence.service").exists()


@pytest.mark.slow
def test_package_is_installed_in_the_venv_with_the_pi_extra(node: Node, second_run: PlaybookRun) -> None:
    result = run("chroot", str(node.root), "/opt/edge/venv/bin/python", "-m", "pip", "list", "--format=json")
    installed = {item["name"].lower() for item in json.loads(result.stdout)}
    assert {"edge", "mfrc522", "gpiozero", "paho-mqtt"} <= installed


@pytest.mark.slow
def test_firmware_fragments_are_in_config_txt_once_after_the_existing_lines(
    node: Node, second_run: PlaybookRun
) -> None:
    text = node.path("/boot/firmware/config.txt").read_text()
    assert text.startswith(PI_OS_CONFIG_TXT)
    assert text.count("# BEGIN edge firmware config") == 1
    for fragment in ["common", "spi-mfrc522", "uart-gpio"]:
        assert (REPO / "firmware_config" / f"{fragment}.txt").read_text().strip() in text


@pytest.mark.slow
def test_each_door_relay_is_held_at_its_locked_level_from_boot(node: Node, second_run: PlaybookRun) -> None:
    # fail_safe maglock through NC on an active-low board: coil off = locked = pin high
    text = node.path("/boot/firmware/config.txt").read_text()
    block = text.split("# BEGIN edge door relays at boot (managed by Ansible)\n", 1)[1].split("\n# END edge door")[0]
    assert [line for line in block.splitlines() if not line.startswith("#")] == ["[all]", "gpio=5=op,dh"]


@pytest.mark.slow
def test_serial_console_is_removed_from_the_kernel_command_line(node: Node, second_run: PlaybookRun) -> None:
    assert node.path("/boot/firmware/cmdline.txt").read_text() == PI_OS_CMDLINE.replace("console=serial0,115200 ", "")


@pytest.mark.slow
def test_udev_rules_parse_and_name_each_serial_device(node: Node, second_run: PlaybookRun) -> None:
    rules = parse_udev_rules(node.path("/etc/udev/rules.d/70-edge-serial.rules").read_text())
    assert [
        (
            r.value("KERNEL"),
            r.value("ENV", "ID_SERIAL_SHORT"),
            r.value("ENV", "ID_PATH"),
            r.value("SYMLINK"),
        )
        for r in rules
    ] == [
        ("ttyAMA0", None, None, "edge-reader-front"),
        (None, "A10KX7QZ", None, "edge-radar-desk-01"),
        (None, None, SERIAL_LINKS[2]["usb_path"], "edge-radar-desk-02"),
    ]


@pytest.mark.slow
def test_systemd_feeds_the_hardware_watchdog(node: Node, second_run: PlaybookRun) -> None:
    text = node.path("/etc/systemd/system.conf.d/edge-watchdog.conf").read_text()
    assert "[Manager]\nRuntimeWatchdogSec=15s\nRebootWatchdogSec=120s\n" in text


@pytest.mark.slow
@pytest.mark.parametrize("pair", ["snapshot-signing", "command-signing"])
def test_private_signing_key_never_reaches_the_node(node: Node, second_run: PlaybookRun, pair: str) -> None:
    private = (node.secrets / f"{pair}.key").read_text().splitlines()[1]
    public = (node.secrets / f"{pair}.pub").read_text()
    assert node.path(f"/etc/edge/secrets/{pair}.pub").read_text() == public
    holders = [
        path
        for top in ["etc", "opt/edge", "var/lib/edge", "boot", "root", "tmp"]
        for path in node.path(top).rglob("*")
        if path.is_file() and not path.is_symlink() and private.encode() in path.read_bytes()
    ]
    assert holders == []


@pytest.mark.slow
def test_config_refused_by_check_config_is_never_installed(node: Node, second_run: PlaybookRun) -> None:
    before = node.path("/etc/edge/node.yaml").read_bytes()
    # Only the door's config tasks: the refusal is the config template's, and a whole-site run would only repeat
    # what second_run already checked.
    extra = json.dumps({"edge_node_config_extra": {"log_level": "loud", "mqtt": {"port": 0}}})
    bad = node.play("--tags", "config", "--limit", HOST, "-e", extra)
    assert bad.returncode != 0
    assert "mqtt.port" in bad.output and "log_level" in bad.output
    assert node.path("/etc/edge/node.yaml").read_bytes() == before


# --- The rest of the site: the hub, the secrets, tags, the reboot ------------------------------------------------


@pytest.mark.slow
def test_hub_converges_and_a_second_run_changes_nothing_there(first_run: PlaybookRun, second_run: PlaybookRun) -> None:
    assert first_run.recap("hub")["failed"] == 0 and first_run.recap("hub")["changed"] > 0
    assert second_run.recap("hub")["changed"] == 0, second_run.changed_tasks()


@pytest.mark.slow
def test_the_play_generates_every_secret_of_the_site_on_the_controller(node: Node, second_run: PlaybookRun) -> None:
    files = sorted(str(path.relative_to(node.secrets)) for path in node.secrets.rglob("*"))
    assert files == site_secret_files(["console", "door-test", "hub", "staff"])
    modes = {path.stat().st_mode & 0o777 for path in [node.secrets, node.secrets / "mqtt"]}
    assert modes == {0o700}
    assert {path.stat().st_mode & 0o777 for path in node.secrets.rglob("*") if path.is_file()} == {0o600}


@pytest.mark.slow
def test_hub_has_the_broker_collector_time_series_store_and_grafana_provisioning(
    node: Node, second_run: PlaybookRun
) -> None:
    hub = node.hub
    assert (hub / "usr/sbin/mosquitto").exists() and (hub / "usr/bin/influxd").exists()
    influx = (hub / "etc/influxdb/influxdb.conf").read_text()
    assert f'bind-address = "{node.influx_url.removeprefix("http://")}"' in influx
    assert "reporting-disabled = true" in influx
    result = run("chroot", str(hub), "/opt/edge/venv/bin/edge", "check-config", "/etc/edge/node.yaml")
    assert (result.returncode, result.stderr) == (0, "")
    collector = yaml.safe_load((hub / "etc/edge/node.yaml").read_text())["collector"]
    assert collector["influx"] == {"url": node.influx_url, "api": "v1", "bucket": "edge"}
    datasource = yaml.safe_load((hub / "etc/grafana/provisioning/datasources/edge.yaml").read_text())
    assert datasource["datasources"][0] | {"secureJsonData": None} == {
        "name": "edge",
        "uid": "edge-influxdb",
        "type": "influxdb",
        "access": "proxy",
        "url": node.influx_url,
        "database": "edge",
        "editable": False,
        "jsonData": {"httpMode": "POST"},
        "secureJsonData": None,
    }
    shipped = sorted(p.name for p in (DEPLOY / "roles/edge_grafana/files/dashboards").glob("*.json"))
    assert sorted(p.name for p in (hub / "var/lib/grafana/dashboards/edge").glob("*.json")) == shipped


@pytest.mark.slow
def test_the_broker_the_play_configured_accepts_the_doors_generated_credentials(
    node: Node, second_run: PlaybookRun
) -> None:
    # systemd would make the unit's runtime directory; the broker runs from the hub root, on this machine's network.
    (node.hub / "run/mosquitto").mkdir(exist_ok=True)
    uid = {name: uid for uid, name in node.ids("passwd", node.hub).items()}["mosquitto"]
    os.chown(node.hub / "run/mosquitto", uid, uid)
    config = Path("/etc/mosquitto/mosquitto.conf")
    door_password = node.path("/etc/edge/secrets/mqtt.password").read_text().strip()
    with Mosquitto(config, node.tls_port, command=["chroot", str(node.hub), "mosquitto", "-c", str(config)]):
        door = Client(node.tls_port, node.secrets / "ca.crt", HOST, door_password)
        intruder = Client(node.tls_port, node.secrets / "ca.crt", HOST, "not-the-password")
        try:
            assert not door.connect().is_failure
            assert door.publish("edge/testsite/door/front/state") == "accepted"
            assert door.publish("edge/testsite/door/other/state") == "Not authorized"
            assert intruder.connect().is_failure
        finally:
            door.close()
            intruder.close()


@pytest.mark.slow
def test_a_changed_firmware_config_notifies_the_reboot_and_a_second_run_does_not(
    first_run: PlaybookRun, second_run: PlaybookRun
) -> None:
    reboot = "RUNNING HANDLER [edge_node : Reboot the node for the new firmware config]"
    report = f'"msg": "{HOST}: the firmware config changed; reboot the node for it to take effect."'
    assert reboot in first_run.output and report in first_run.output
    assert reboot not in second_run.output and report not in second_run.output


CONFIG_TASKS = [
    "edge_node : Write the node config, refused before installation when edge check-config finds a problem",
    "edge_node : Install the MQTT password and the broker's CA certificate",
    "edge_broker : Write the ACL file from the inventory",
    "edge_broker : Write the Mosquitto config",
]
OTHER_TASKS = [
    "edge_node : Install the Debian packages the venv needs",
    "edge_node : Install the edge package and its dependencies in the venv",
    "edge_node : Install the systemd units as shipped in systemd/",
    "edge_node : Put the firmware config fragments in config.txt",
    "edge_broker : Install Mosquitto",
    "edge_influxdb : Install InfluxDB from Debian",
    "edge_grafana : Copy the dashboards",
]


def tasks_run(run: PlaybookRun) -> set[str]:
    return set(re.findall(r"^TASK \[(.+?)\] \*+$", run.output, re.MULTILINE))


@pytest.mark.slow
def test_tags_config_reruns_only_the_config_tasks_on_the_converged_site(node: Node, second_run: PlaybookRun) -> None:
    done = node.play("--tags", "config")
    assert done.returncode == 0, done.output[-5000:]
    assert (done.recap(HOST)["changed"], done.recap("hub")["changed"]) == (0, 0), done.changed_tasks()
    ran = tasks_run(done)
    assert set(CONFIG_TASKS) <= ran
    assert ran.isdisjoint(OTHER_TASKS)


@pytest.mark.parametrize(
    ("tag", "included", "excluded"),
    [
        ("firmware", "edge_node : Put the firmware config fragments in config.txt", CONFIG_TASKS[0]),
        ("broker", "edge_broker : Install Mosquitto", "edge_node : Install the Debian packages the venv needs"),
        ("node", "edge_node : Install the Debian packages the venv needs", "edge_broker : Install Mosquitto"),
        ("collector", "edge_influxdb : Install InfluxDB from Debian", "edge_broker : Install Mosquitto"),
        ("grafana", "edge_grafana : Copy the dashboards", "edge_influxdb : Install InfluxDB from Debian"),
        ("secrets", "edge_secrets : Create one MQTT password per broker user", "edge_broker : Install Mosquitto"),
    ],
)
def test_each_tag_selects_its_part_of_the_site(tmp_path: Path, tag: str, included: str, excluded: str) -> None:
    listed = run_playbook(tmp_path, DEPLOY / "inventory/example/hosts.yml", "site.yml", "--list-tasks", "--tags", tag)
    assert listed.returncode == 0, listed.output[-3000:]
    assert included in listed.output and excluded not in listed.output


def retention_policies(url: str, database: str) -> set[tuple[str, bool]]:
    """(name, default) of a database's retention policies on a running InfluxDB 1.x."""
    query = urllib.parse.urlencode({"q": f'SHOW RETENTION POLICIES ON "{database}"'})
    with urllib.request.urlopen(f"{url}/query?{query}", timeout=10) as response:
        result = json.load(response)["results"][0]
    return {(row[0], row[-1]) for row in result["series"][0]["values"]}


@pytest.mark.slow
def test_the_time_series_store_the_play_installed_takes_the_collectors_database(
    node: Node, second_run: PlaybookRun
) -> None:
    # systemd would start it: here Debian's influxd from the hub root runs with the config the play wrote.
    command = ["chroot", str(node.hub), "influxd", "-config", "/etc/influxdb/influxdb.conf"]
    server = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                urllib.request.urlopen(f"{node.influx_url}/ping", timeout=1).close()
                break
            except OSError:
                assert server.poll() is None and time.monotonic() < deadline, "influxd did not answer"
                time.sleep(0.2)
        done = node.play("--tags", "collector", "--limit", "hub", "-e", '{"edge_collector_manage_bucket": true}')
        assert done.returncode == 0, done.failures()
        assert retention_policies(node.influx_url, "edge") == {("raw", True), ("longterm", False)}
    finally:
        server.terminate()
        server.wait(30)


def test_grafana_is_installed_as_grafana_documents_it_for_debian() -> None:
    tasks = yaml.safe_load((DEPLOY / "roles/edge_grafana/tasks/install.yml").read_text())
    defaults = yaml.safe_load((DEPLOY / "roles/edge_grafana/defaults/main.yml").read_text())
    named = {task["name"]: task for task in tasks}
    key = named["Download Grafana's repository signing key"]["ansible.builtin.get_url"]
    source = named["Add Grafana's apt repository, trusted for its own key only"]["ansible.builtin.copy"]
    install = named["Install Grafana"]["ansible.builtin.apt"]
    assert (defaults["edge_grafana_apt_key_url"], key["dest"]) == (
        "https://apt.grafana.com/gpg.key",
        "{{ edge_grafana_apt_keyring }}",
    )
    assert defaults["edge_grafana_apt_keyring"].startswith("/etc/apt/keyrings/")
    line = source["content"].replace("{{ edge_grafana_apt_keyring }}", defaults["edge_grafana_apt_keyring"])
    line = line.replace("{{ edge_grafana_apt_repository }}", defaults["edge_grafana_apt_repository"])
    assert line == "deb [signed-by=/etc/apt/keyrings/grafana.asc] https://apt.grafana.com stable main\n"
    assert source["dest"] == "/etc/apt/sources.list.d/grafana.list"
    assert (install["name"], defaults["edge_grafana_package"]) == ("{{ edge_grafana_package }}", "grafana")
    assert defaults["edge_grafana_install"] is True


# Last: it leaves the door without remote commands.
@pytest.mark.slow
def test_door_without_remote_commands_loses_its_command_key(node: Node, second_run: PlaybookRun) -> None:
    done = node.play("--tags", "config", "--limit", HOST, "-e", json.dumps({"edge_node_remote_commands": False}))
    assert done.returncode == 0, done.output[-5000:]
    config = yaml.safe_load(node.path("/etc/edge/node.yaml").read_text())
    assert config["access"]["command_keys"] == []
    assert not node.path("/etc/edge/secrets/command-signing.pub").exists()
    assert node.path("/etc/edge/secrets/snapshot-signing.pub").exists()
