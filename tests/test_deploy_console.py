"""The edge_console role run for real on a Debian Bookworm root, as on a hub that also runs the collector.

deploy/site.yml runs against a debootstrap'ed root through the chroot connection with the edge wheel built from this
checkout. It must converge, change nothing on a second run, install a console config that `edge check-config`
accepts inside the root, the console's secrets readable by the edge user only, a member file it never overwrites,
the first manager account, and the unit as shipped; with the console disabled, the unit and the private keys go.
"""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from tests.deploy_roots import build_edge_wheel, remove_root
from tests.deploy_support import REPO, PlaybookRun, make_bookworm_root, make_secrets, run_playbook

HOST = "hub-test"
pytestmark = [pytest.mark.slow, pytest.mark.timeout(1800)]


def run(*args: str, timeout: float = 600) -> subprocess.CompletedProcess[str]:
    return subprocess.run(list(args), capture_output=True, text=True, timeout=timeout, check=False)


class Hub:
    """The chroot hub, its inventory and its secrets."""

    def __init__(self, tmp: Path, root: Path, wheel: Path) -> None:
        self.tmp, self.root = tmp, root
        self.secrets = make_secrets(tmp / "secrets", [HOST, "console"])
        host_vars = {
            "ansible_host": str(root),
            "ansible_connection": "community.general.chroot",
            "ansible_become": False,
            "edge_node_daemons": ["collector"],
            "edge_node_package_extras": [],
            "edge_node_firmware_fragments": [],
            "edge_node_package_file": str(wheel),
            "edge_node_pip_environment": {"PIP_CERT": "/etc/edge-test/ca-bundle.pem"},
            "edge_node_mqtt_host": "127.0.0.1",
            "edge_node_mqtt_port": 1883,
            "edge_node_mqtt_tls": False,
            "edge_collector_manage_bucket": False,
            "edge_console_allowed_hosts": ["hub.test"],
            "edge_console_manager": "manager",
        }
        inventory = {
            "all": {
                "vars": {"edge_site": "testsite", "edge_secrets_dir": str(self.secrets), "edge_mqtt_host": "hub.test"},
                "children": {
                    "edge_collectors": {"hosts": {HOST: host_vars}},
                    "edge_consoles": {"hosts": {HOST: {}}},
                },
            }
        }
        self.inventory = tmp / "inventory.yml"
        self.inventory.write_text(yaml.safe_dump(inventory))

    def play(self, *args: str) -> PlaybookRun:
        return run_playbook(self.tmp, self.inventory, "site.yml", *args, timeout=1500)

    def path(self, inside: str) -> Path:
        return self.root / inside.lstrip("/")

    def ids(self, database: str) -> dict[int, str]:
        lines = self.path(f"/etc/{database}").read_text().splitlines()
        return {int(fields[2]): fields[0] for fields in (line.split(":") for line in lines if line)}

    def owner_and_mode(self, inside: str) -> tuple[str, str, int]:
        info = self.path(inside).stat()
        return self.ids("passwd")[info.st_uid], self.ids("group")[info.st_gid], info.st_mode & 0o7777


@pytest.fixture(scope="module")
def hub(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Hub]:
    base = tmp_path_factory.mktemp("hub")
    (base / "debian").mkdir()
    (base / "play").mkdir()
    root = make_bookworm_root(base / "debian")
    wheel = build_edge_wheel(base / "dist")
    yield Hub(base / "play", root, wheel)
    remove_root(root)
    if not root.exists():  # never rmtree over a root with something still mounted inside
        shutil.rmtree(base, ignore_errors=True)


@pytest.fixture(scope="module")
def first_run(hub: Hub) -> PlaybookRun:
    return hub.play()


@pytest.fixture(scope="module")
def second_run(hub: Hub, first_run: PlaybookRun) -> PlaybookRun:
    assert first_run.returncode == 0, first_run.output[-6000:]
    return hub.play()


def test_the_console_role_converges_and_a_second_run_changes_nothing(
    first_run: PlaybookRun, second_run: PlaybookRun
) -> None:
    assert first_run.recap(HOST)["failed"] == 0 and first_run.recap(HOST)["changed"] > 0
    assert second_run.returncode == 0, second_run.output[-5000:]
    assert second_run.recap(HOST)["changed"] == 0, second_run.changed_tasks()


def test_the_console_config_passes_check_config_inside_the_root(hub: Hub, second_run: PlaybookRun) -> None:
    result = run("chroot", str(hub.root), "/opt/edge/venv/bin/edge", "check-config", "/etc/edge/console.yaml")
    assert (result.returncode, result.stderr) == (0, ""), result.stdout
    config = yaml.safe_load(hub.path("/etc/edge/console.yaml").read_text())
    assert config["mqtt"]["username"] == "console" and config["mqtt"]["port"] == 1883
    assert config["console"]["allowed_hosts"] == ["hub.test"]
    assert config["console"]["command_signing_key_file"] == "/etc/edge/console/command-signing.key"


@pytest.mark.parametrize(
    ("path", "owner", "group", "mode"),
    [
        ("/etc/edge/console.yaml", "root", "edge", 0o640),
        ("/etc/edge/console", "root", "edge", 0o750),
        ("/etc/edge/console/snapshot-signing.key", "edge", "edge", 0o600),
        ("/etc/edge/console/command-signing.key", "edge", "edge", 0o600),
        ("/etc/edge/console/badge.key", "edge", "edge", 0o600),
        ("/etc/edge/console/mqtt.password", "edge", "edge", 0o600),
        ("/etc/edge/console/tls.key", "edge", "edge", 0o600),
        ("/var/lib/edge/console", "edge", "edge", 0o700),
        ("/var/lib/edge/console/members.yaml", "edge", "edge", 0o600),
        ("/etc/systemd/system/edge-console.service", "root", "root", 0o644),
    ],
)
def test_console_file_is_in_place_with_owner_and_mode(
    hub: Hub, second_run: PlaybookRun, path: str, owner: str, group: str, mode: int
) -> None:
    assert hub.owner_and_mode(path) == (owner, group, mode)


def test_the_secrets_are_the_site_s(hub: Hub, second_run: PlaybookRun) -> None:
    for installed, source in (("snapshot-signing.key", "snapshot-signing.key"), ("tls.crt", "console.crt"),
                              ("mqtt.password", "mqtt/console.password")):  # fmt: skip
        assert hub.path(f"/etc/edge/console/{installed}").read_text().strip() == (
            (hub.secrets / source).read_text().strip()
        )


def test_the_starter_member_file_is_valid_and_the_first_manager_exists(hub: Hub, second_run: PlaybookRun) -> None:
    members = run("chroot", str(hub.root), "/opt/edge/venv/bin/edge", "members", "list",
                  "--members", "/var/lib/edge/console/members.yaml")  # fmt: skip
    assert members.returncode == 0, members.stderr
    with sqlite3.connect(hub.path("/var/lib/edge/console/console.sqlite3")) as db:
        accounts = db.execute("SELECT username, role, is_active FROM console_staffuser").fetchall()
    assert accounts == [("manager", "manager", 1)]


def test_the_unit_is_installed_as_shipped_enabled_and_verifies(hub: Hub, second_run: PlaybookRun) -> None:
    assert hub.path("/etc/systemd/system/edge-console.service").read_bytes() == (
        (REPO / "systemd/edge-console.service").read_bytes()
    )
    wants = hub.path("/etc/systemd/system/multi-user.target.wants/edge-console.service")
    assert os.readlink(wants) == "/etc/systemd/system/edge-console.service"
    result = run(
        "systemd-analyze", "verify", "--man=no", f"--root={hub.root}", "/etc/systemd/system/edge-console.service"
    )
    assert (result.returncode, result.stderr, result.stdout) == (0, "", "")


def test_a_member_file_staff_changed_is_never_overwritten(hub: Hub, second_run: PlaybookRun) -> None:
    path = hub.path("/var/lib/edge/console/members.yaml")
    text = path.read_text().replace("members: []", "members:\n- {id: M-1, plan: member}")
    path.write_text(text)
    again = hub.play()
    assert again.returncode == 0, again.output[-5000:]
    assert path.read_text() == text


def test_disabling_the_console_removes_its_unit_and_private_keys_and_keeps_its_data(
    hub: Hub, second_run: PlaybookRun
) -> None:
    done = hub.play("-e", json.dumps({"edge_console_enabled": False}))
    assert done.returncode == 0, done.output[-5000:]
    assert not hub.path("/etc/systemd/system/edge-console.service").exists()
    assert not hub.path("/etc/systemd/system/multi-user.target.wants/edge-console.service").is_symlink()
    assert not hub.path("/etc/edge/console").exists()
    assert hub.path("/var/lib/edge/console/members.yaml").exists()
    assert hub.path("/var/lib/edge/console/console.sqlite3").exists()
