"""The Ansible deployment: lint clean, syntax clean, and the edge_node role run for real on a Debian Bookworm root.

The real run bootstraps a minimal Debian Bookworm root with debootstrap, then runs deploy/site.yml against it
through the chroot connection, with the edge wheel built from this checkout. It must converge, change nothing
on a second run, leave a config that `edge check-config` accepts inside the root, put units and files in place
with the right owners and modes, and refuse to install a config that `edge check-config` rejects.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from edge.contract.limits import LARGE_PACKET_BYTES
from tests.deploy_support import (
    DEPLOY,
    REPO,
    PlaybookRun,
    ansible_env,
    ansible_tool,
    make_bookworm_root,
    make_secrets,
    parse_udev_rules,
    run_playbook,
)

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
pytestmark = pytest.mark.timeout(1500)


def run(*args: str, timeout: float = 600) -> subprocess.CompletedProcess[str]:
    return subprocess.run(list(args), capture_output=True, text=True, timeout=timeout, check=False)


@pytest.fixture(scope="session")
def bookworm_root(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A fresh Bookworm root shaped like Raspberry Pi OS, that used to be a desk node (set
    EDGE_DEBOOTSTRAP_TARBALL to keep the downloaded packages between sessions)."""
    base = tmp_path_factory.mktemp("bookworm")
    root = make_bookworm_root(base)
    (root / "boot/firmware/config.txt").write_text(PI_OS_CONFIG_TXT)
    (root / "boot/firmware/cmdline.txt").write_text(PI_OS_CMDLINE)
    # The node used to be a desk node: its old presence unit is installed and enabled.
    shutil.copy(REPO / "systemd/edge-presence.service", root / "etc/systemd/system/edge-presence.service")
    (root / "etc/systemd/system/multi-user.target.wants").mkdir(parents=True, exist_ok=True)
    (root / "etc/systemd/system/multi-user.target.wants/edge-presence.service").symlink_to(
        "/etc/systemd/system/edge-presence.service"
    )
    yield root
    shutil.rmtree(base, ignore_errors=True)


@pytest.fixture(scope="session")
def edge_wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The edge wheel built from this checkout, as an installer builds it on the controller."""
    out = tmp_path_factory.mktemp("dist")
    built = run(sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(out), str(REPO))
    assert built.returncode == 0, built.stderr[-3000:]
    (wheel,) = out.glob("edge-*.whl")
    return wheel


class Node:
    """The chroot node, its inventory and its secrets."""

    def __init__(self, tmp: Path, root: Path, wheel: Path) -> None:
        self.tmp, self.root = tmp, root
        self.secrets = make_secrets(tmp / "secrets", [HOST])
        host_vars = {
            "ansible_host": str(root),
            "ansible_connection": "community.general.chroot",
            "ansible_become": False,
            "edge_node_daemons": ["door"],
            "edge_node_firmware_fragments": ["common", "spi-mfrc522", "uart-gpio"],
            "edge_node_serial_links": SERIAL_LINKS,
            "edge_node_doors": DOORS,
            "edge_node_package_file": str(wheel),
            "edge_node_pip_environment": {"PIP_CERT": "/etc/edge-test/ca-bundle.pem"},
        }
        inventory = {
            "all": {
                "vars": {"edge_site": "testsite", "edge_secrets_dir": str(self.secrets), "edge_mqtt_host": "hub.test"},
                "children": {"edge_nodes": {"children": {"edge_doors": {"hosts": {HOST: host_vars}}}}},
            }
        }
        self.inventory = tmp / "inventory.yml"
        self.inventory.write_text(yaml.safe_dump(inventory))

    def play(self, *args: str) -> PlaybookRun:
        return run_playbook(self.tmp, self.inventory, "site.yml", *args)

    def path(self, inside: str) -> Path:
        return self.root / inside.lstrip("/")

    def ids(self, database: str) -> dict[int, str]:
        """uid or gid -> name, from the root's own /etc/passwd or /etc/group."""
        lines = self.path(f"/etc/{database}").read_text().splitlines()
        return {int(fields[2]): fields[0] for fields in (line.split(":") for line in lines if line)}


@pytest.fixture(scope="module")
def node(tmp_path_factory: pytest.TempPathFactory, bookworm_root: Path, edge_wheel: Path) -> Node:
    return Node(tmp_path_factory.mktemp("node"), bookworm_root, edge_wheel)


@pytest.fixture(scope="module")
def first_run(node: Node) -> PlaybookRun:
    return node.play()


@pytest.fixture(scope="module")
def second_run(node: Node, first_run: PlaybookRun) -> PlaybookRun:
    assert first_run.returncode == 0, first_run.output[-5000:]
    return node.play()


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
    "role", ["edge_node", "edge_broker", "edge_collector", "edge_console", "edge_grafana", "edge_central"]
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
    assert first_run.returncode == 0, first_run.output[-5000:]
    assert first_run.recap(HOST)["failed"] == 0
    assert first_run.recap(HOST)["changed"] > 0


@pytest.mark.slow
def test_second_run_changes_nothing(second_run: PlaybookRun) -> None:
    assert second_run.returncode == 0, second_run.output[-5000:]
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
        "port": 8883,
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
    bad = node.play("-e", json.dumps({"edge_node_config_extra": {"log_level": "loud", "mqtt": {"port": 0}}}))
    assert bad.returncode != 0
    assert "mqtt.port" in bad.output and "log_level" in bad.output
    assert node.path("/etc/edge/node.yaml").read_bytes() == before


@pytest.mark.slow
def test_door_without_remote_commands_loses_its_command_key(node: Node, second_run: PlaybookRun) -> None:
    done = node.play("-e", json.dumps({"edge_node_remote_commands": False}))
    assert done.returncode == 0, done.output[-5000:]
    config = yaml.safe_load(node.path("/etc/edge/node.yaml").read_text())
    assert config["access"]["command_keys"] == []
    assert not node.path("/etc/edge/secrets/command-signing.pub").exists()
    assert node.path("/etc/edge/secrets/snapshot-signing.pub").exists()
