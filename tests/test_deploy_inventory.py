"""The example inventory, rendered with the edge_node role's checks and template, gives configs check-config accepts.

A play on the controller (connection local) runs the role's variable checks and its node.yaml template for every
node of deploy/inventory/example, into a temporary folder; each file is then checked with
`edge check-config --no-secrets`. This is what the real deployment does on each node before installing a config,
so an inventory that drifts from the config schemas fails here, not at a door.
"""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from edge.contract.limits import LARGE_PACKET_BYTES
from tests.deploy_support import DEPLOY, REPO, PlaybookRun, ansible_env, ansible_tool, make_secrets

EXAMPLE = DEPLOY / "inventory/example/hosts.yml"
RENDER_PLAY = """\
- name: Render each node's config with the edge_node role's checks and template
  hosts: edge_nodes:edge_collectors
  connection: local
  become: false
  gather_facts: false
  tasks:
    - name: Run the role's variable checks (and load its defaults)
      ansible.builtin.include_role:
        name: edge_node
        tasks_from: checks
        public: true
    - name: Render the node config
      ansible.builtin.template:
        src: {template}
        dest: "{{{{ edge_test_out }}}}/{{{{ inventory_hostname }}}}.yaml"
        mode: "0644"
"""


def example_nodes() -> list[str]:
    """Every host of the example inventory that runs the edge_node role (groups edge_nodes and edge_collectors)."""
    groups = yaml.safe_load(EXAMPLE.read_text())["all"]["children"]

    def hosts(group: dict[str, Any]) -> list[str]:
        children = (group.get("children") or {}).values()
        return list(group.get("hosts") or {}) + [host for child in children for host in hosts(child)]

    return sorted(set(hosts(groups["edge_nodes"]) + hosts(groups["edge_collectors"])))


NODES = example_nodes()


@dataclass(frozen=True)
class Rendered:
    """One render run: its outcome, where the configs went and the secrets it used."""

    run: PlaybookRun
    out: Path
    secrets: Path

    def config(self, host: str) -> dict[str, object]:
        """A host's rendered config, parsed."""
        loaded = yaml.safe_load((self.out / f"{host}.yaml").read_text())
        assert isinstance(loaded, dict)
        return loaded


def render(tmp: Path, secrets: Path, *args: str) -> Rendered:
    """Render the example inventory's node configs into tmp/out with the role's checks and template."""
    out = tmp / "out"
    out.mkdir(parents=True, exist_ok=True)
    play = tmp / "render.yml"
    play.write_text(RENDER_PLAY.format(template=DEPLOY / "roles/edge_node/templates/node.yaml.j2"))
    env = ansible_env(tmp) | {"EDGE_SECRETS_DIR": str(secrets), "ANSIBLE_ROLES_PATH": str(DEPLOY / "roles")}
    extra = {"edge_test_out": str(out), "ansible_python_interpreter": sys.executable}
    result = subprocess.run(
        [str(ansible_tool("ansible-playbook")), "-i", str(EXAMPLE), str(play), "-e", json.dumps(extra), *args],
        cwd=DEPLOY,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    return Rendered(PlaybookRun(result.returncode, result.stdout + result.stderr), out, secrets)


def check_config(path: Path) -> subprocess.CompletedProcess[str]:
    """`edge check-config --no-secrets FILE` from this checkout, as an installer runs it on the controller."""
    return subprocess.run(
        [sys.executable, "-m", "edge", "check-config", "--no-secrets", str(path)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.fixture(scope="module")
def site_secrets(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_secrets(tmp_path_factory.mktemp("secrets") / "site", NODES)


@pytest.fixture(scope="module")
def rendered(tmp_path_factory: pytest.TempPathFactory, site_secrets: Path) -> Rendered:
    done = render(tmp_path_factory.mktemp("render"), site_secrets)
    assert done.run.returncode == 0, done.run.output[-5000:]
    return done


def test_example_inventory_has_doors_desks_and_a_collector() -> None:
    assert NODES == ["desks-east", "desks-west", "door-back", "door-front", "hub"]


def test_every_example_node_passes_the_role_checks_and_renders(rendered: Rendered) -> None:
    assert [rendered.run.recap(host)["failed"] for host in NODES] == [0] * len(NODES)
    assert sorted(path.stem for path in rendered.out.glob("*.yaml")) == NODES


@pytest.mark.parametrize("host", NODES)
def test_rendered_config_of_example_node_passes_check_config(rendered: Rendered, host: str) -> None:
    result = check_config(rendered.out / f"{host}.yaml")
    assert (result.returncode, result.stderr) == (0, ""), result.stdout + result.stderr
    assert f"node {host})" in result.stdout


@pytest.mark.parametrize(
    ("host", "sections"),
    [
        ("door-front", {"access", "doors"}),
        ("door-back", {"access", "doors"}),
        ("desks-east", {"presence"}),
        ("desks-west", {"presence"}),
        ("hub", {"collector"}),
    ],
)
def test_example_node_config_has_its_device_sections(rendered: Rendered, host: str, sections: set[str]) -> None:
    device_sections = {"access", "readers", "doors", "presence", "collector"}
    assert set(rendered.config(host)) & device_sections == sections


def test_door_trusts_the_snapshot_and_command_keys_installed_by_the_role(rendered: Rendered) -> None:
    assert rendered.config("door-front")["access"] == {
        "snapshot_keys": ["/etc/edge/secrets/snapshot-signing.pub"],
        "command_keys": ["/etc/edge/secrets/command-signing.pub"],
        "clock_trust": "ntp",
        "home_assistant": True,
        "min_snapshot_version": 0,
    }


def test_door_without_remote_commands_lists_no_command_key(rendered: Rendered) -> None:
    assert rendered.config("door-back")["access"] == {
        "snapshot_keys": ["/etc/edge/secrets/snapshot-signing.pub"],
        "command_keys": [],
        "clock_trust": "rtc",
        "home_assistant": False,
        "min_snapshot_version": 0,
    }


def test_site_without_a_command_key_pair_deploys_doors_that_take_no_command(tmp_path: Path, site_secrets: Path) -> None:
    secrets = tmp_path / "secrets"
    subprocess.run(["cp", "-a", str(site_secrets), str(secrets)], check=True)
    (secrets / "command-signing.pub").unlink()
    (secrets / "command-signing.key").unlink()
    done = render(tmp_path, secrets, "--limit", "door-front", "-e", json.dumps({"edge_node_remote_commands": False}))
    assert done.run.returncode == 0, done.run.output[-5000:]
    assert done.config("door-front")["access"]["command_keys"] == []  # type: ignore[index]


@pytest.mark.parametrize(
    ("variable", "key_file"),
    [
        ("edge_node_command_public_key", "command-signing.key"),
        ("edge_node_snapshot_public_key", "snapshot-signing.key"),
    ],
)
def test_role_refuses_a_private_signing_key_for_a_door(
    tmp_path: Path, site_secrets: Path, variable: str, key_file: str
) -> None:
    private = (site_secrets / key_file).read_text()
    done = render(tmp_path, site_secrets, "--limit", "door-front", "-e", json.dumps({variable: private}))
    assert done.run.returncode != 0
    assert f"{variable} must be a PEM public key" in done.run.output
    assert not (done.out / "door-front.yaml").exists()
    assert private.splitlines()[1] not in done.run.output


@pytest.mark.parametrize("value", ["gps", "NTP", ""])
def test_role_refuses_an_unknown_clock_trust(tmp_path: Path, site_secrets: Path, value: str) -> None:
    done = render(tmp_path, site_secrets, "--limit", "door-back", "-e", json.dumps({"edge_node_clock_trust": value}))
    assert done.run.returncode != 0
    assert "edge_node_clock_trust" in done.run.output and "must be ntp or rtc" in done.run.output


def test_role_refuses_remote_commands_given_as_text(tmp_path: Path, site_secrets: Path) -> None:
    done = render(tmp_path, site_secrets, "--limit", "door-front", "-e", "edge_node_remote_commands=no")
    assert done.run.returncode != 0
    assert "edge_node_remote_commands (no) must be true or false" in done.run.output


def test_an_installers_minimum_snapshot_version_reaches_the_door_config(tmp_path: Path, site_secrets: Path) -> None:
    done = render(tmp_path, site_secrets, "--limit", "door-back", "-e", "edge_node_min_snapshot_version=1764149000000")
    assert done.run.returncode == 0, done.run.output[-5000:]
    assert done.config("door-back")["access"]["min_snapshot_version"] == 1764149000000  # type: ignore[index]
    assert check_config(done.out / "door-back.yaml").returncode == 0


@pytest.mark.parametrize("value", ['"-1"', '"v12"', "true", "1.5"])
def test_role_refuses_a_minimum_snapshot_version_that_is_not_a_whole_number(
    tmp_path: Path, site_secrets: Path, value: str
) -> None:
    extra = json.dumps({"edge_node_min_snapshot_version": json.loads(value)})
    done = render(tmp_path, site_secrets, "--limit", "door-back", "-e", extra)
    assert done.run.returncode != 0
    assert "edge_node_min_snapshot_version" in done.run.output and "must be a whole number" in done.run.output


@pytest.mark.parametrize("host", NODES)
def test_each_node_logs_in_with_its_name_as_user_and_client_id(rendered: Rendered, host: str) -> None:
    mqtt = rendered.config(host)["mqtt"]
    assert (mqtt["username"], mqtt["client_id"]) == (host, host)  # type: ignore[index]


@pytest.mark.parametrize("host", NODES)
def test_doors_accept_every_packet_the_broker_accepts_and_other_nodes_keep_their_small_limit(
    rendered: Rendered, host: str
) -> None:
    expected = LARGE_PACKET_BYTES if host.startswith("door-") else None
    assert rendered.config(host)["mqtt"].get("max_packet_size") == expected  # type: ignore[attr-defined]


def test_a_site_wide_packet_limit_reaches_the_doors(tmp_path: Path, site_secrets: Path) -> None:
    limit = {"edge_mqtt_max_packet_size": 16 * 1024 * 1024}
    done = render(tmp_path, site_secrets, "--limit", "door-front", "-e", json.dumps(limit))
    assert done.run.returncode == 0, done.run.output[-5000:]
    assert done.config("door-front")["mqtt"]["max_packet_size"] == 16 * 1024 * 1024  # type: ignore[index]


def test_role_refuses_a_node_running_two_daemons(tmp_path: Path, site_secrets: Path) -> None:
    two = {"edge_node_daemons": ["door", "badge"]}
    done = render(tmp_path, site_secrets, "--limit", "door-front", "-e", json.dumps(two))
    assert done.run.returncode != 0
    assert "must list one of door, badge, presence, collector" in done.run.output
    assert not (done.out / "door-front.yaml").exists()


CONSOLE_PLAY = """\
- name: Render the hub's console config with the edge_console role's checks and template
  hosts: edge_consoles
  connection: local
  become: false
  gather_facts: false
  tasks:
    - name: Run the role's variable checks (and load its defaults)
      ansible.builtin.include_role:
        name: edge_console
        tasks_from: checks
        public: true
    - name: Render the console config
      ansible.builtin.template:
        src: {template}
        dest: "{{{{ edge_test_out }}}}/{{{{ inventory_hostname }}}}-console.yaml"
        mode: "0644"
"""


def test_the_hub_s_console_config_renders_and_passes_check_config(tmp_path: Path, site_secrets: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    play = tmp_path / "console.yml"
    play.write_text(CONSOLE_PLAY.format(template=DEPLOY / "roles/edge_console/templates/console.yaml.j2"))
    env = ansible_env(tmp_path) | {"EDGE_SECRETS_DIR": str(site_secrets), "ANSIBLE_ROLES_PATH": str(DEPLOY / "roles")}
    extra = {"edge_test_out": str(out), "ansible_python_interpreter": sys.executable}
    done = subprocess.run(
        [str(ansible_tool("ansible-playbook")), "-i", str(EXAMPLE), str(play), "-e", json.dumps(extra)],
        cwd=DEPLOY, env=env, capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert done.returncode == 0, (done.stdout + done.stderr)[-5000:]
    rendered = out / "hub-console.yaml"
    result = check_config(rendered)
    assert (result.returncode, result.stderr) == (0, ""), result.stdout + result.stderr
    config = yaml.safe_load(rendered.read_text())
    assert config["node"] == "console" and config["mqtt"]["username"] == config["mqtt"]["client_id"] == "console"
    assert config["console"]["allowed_hosts"] == ["hub.edge.lan"]
    assert config["console"]["snapshot_signing_key_file"] == "/etc/edge/console/snapshot-signing.key"
    assert config["console"]["members_file"] == "/var/lib/edge/console/members.yaml"
    assert config["console"]["collector_store"] == "/var/lib/edge/collector.sqlite3"
