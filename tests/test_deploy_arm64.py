"""The deployment on the Raspberry Pi's own architecture: deploy/site.yml on an arm64 Debian Bookworm root, and a door
running there.

Raspberry Pi OS is arm64 Debian. An arm64 root (debootstrap --arch=arm64, python3 included as on Raspberry Pi OS
Lite) runs here through Debian's qemu-user-static and binfmt_misc. The play converges it as a door, with the secrets
it generates on the controller and the broker rendered on this machine (local connection); the edge wheel and the
`pi` extra (spidev built from source, lgpio, rpi-lgpio, mfrc522) are installed inside it. A second run changes
nothing. Then, as docs/installation.md's shortest path goes on: `edge door` runs inside the root (simulated pins, a
pty for the reader) against the broker running on this machine with the play's config, staff push the members, and
a badge presented on the pty is granted; `edge doctor` passes there.
"""

from __future__ import annotations

import json
import queue
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from edge.contract import Kind, decode
from edge.hardware.sim.serial_devices import Rdm6300Sim
from tests.deploy_roots import build_edge_wheel, chroot_mounts, remove_root, root_tarball, unpack_root
from tests.deploy_support import Client, Mosquitto, PlaybookRun, free_port, local_broker_vars, run_playbook
from tests.door_support import RESIDENT, UNKNOWN

pytestmark = [pytest.mark.slow, pytest.mark.timeout(3600)]

HOST = "door-arm64"
SITE = "armsite"
P = f"edge/{SITE}"
READER = "/dev/edge-reader-front"
DOORS = [
    {
        "name": "front",
        "readers": [{"direction": "in", "reader": {"name": "front-outside", "type": "rdm6300", "port": READER}}],
        "relay": {"pin": 5, "active_high": False, "lock_type": "fail_safe"},
        "unlock_s": 3,
        "contact": {"pin": 27},
        "rex": {"pin": 22},
    }
]
MEMBERS = f"""\
site: {SITE}
timezone: Europe/Paris
plans:
  resident: {{schedule: always}}
members:
  - {{id: M-1, name: Ann Resident, plan: resident, badges: ["{RESIDENT}"]}}
"""
# RFC 8032, section 7.1, test 1: the door's Ed25519 verification (ctypes into the root's libcrypto) on arm64.
RFC8032_PUBLIC = "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a"
RFC8032_SIGNATURE = (
    "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555"
    "fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b"
)


class Site:
    """A door in an arm64 root, the broker's files on this machine, and the secrets the play generates."""

    def __init__(self, tmp: Path, root: Path, wheel: Path) -> None:
        self.tmp, self.root = tmp, root
        self.secrets = tmp / "secrets"
        self.broker = tmp / "broker"
        (self.broker / "data").mkdir(parents=True)
        self.port, local_port = free_port(), free_port()
        broker_vars = local_broker_vars(
            self.broker,
            self.port,
            edge_broker_local_port=local_port,
            edge_broker_staff_users=["staff", "staff-watch"],  # the test watches while `edge members push` runs
        )
        door_vars = {
            "ansible_host": str(root),
            "ansible_connection": "community.general.chroot",
            "ansible_become": False,
            "edge_node_daemons": ["door"],
            "edge_node_firmware_fragments": ["common", "uart-gpio"],
            "edge_node_serial_links": [{"name": "reader-front", "kernel": "ttyAMA0"}],
            "edge_node_doors": DOORS,
            "edge_node_clock_trust": "rtc",  # this machine's clock may not be NTP-synchronised
        }
        site_vars = {
            "edge_site": SITE,
            "edge_secrets_dir": str(self.secrets),
            "edge_mqtt_host": "127.0.0.1",  # the root shares this machine's network
            "edge_mqtt_port": self.port,
            "edge_node_package_file": str(wheel),
            "edge_node_pip_environment": {"PIP_CERT": "/etc/edge-test/ca-bundle.pem"},
            "edge_node_reboot_for_firmware": False,  # a chroot is never rebooted
        }
        inventory = {
            "all": {
                "vars": site_vars,
                "children": {
                    "edge_brokers": {"hosts": {"broker": broker_vars}},
                    "edge_nodes": {"children": {"edge_doors": {"hosts": {HOST: door_vars}}}},
                },
            }
        }
        self.inventory = tmp / "inventory.yml"
        self.inventory.write_text(yaml.safe_dump(inventory))

    def play(self, *args: str) -> PlaybookRun:
        """Run site.yml, timing each task (the slowest are printed: pytest -s shows them)."""
        profile = {"ANSIBLE_CALLBACKS_ENABLED": "ansible.posix.profile_tasks", "PROFILE_TASKS_TASK_OUTPUT_LIMIT": "12"}
        return run_playbook(self.tmp, self.inventory, "site.yml", *args, timeout=3000, env=profile)

    def inside(self, *command: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
        """Run a command inside the arm64 root."""
        variables = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "LANG": "C.UTF-8"} | (env or {})
        return subprocess.run(
            ["chroot", str(self.root), "/usr/bin/env", "-i", *(f"{k}={v}" for k, v in variables.items()), *command],
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )

    def edge(self, *args: str) -> list[str]:
        """The command line of `edge ARGS` inside the root (for Popen)."""
        return ["chroot", str(self.root), "/opt/edge/venv/bin/edge", *args]


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    tarball = root_tarball("arm64", ("python3", "python3-venv"))  # Raspberry Pi OS Lite has Python
    base = tmp_path_factory.mktemp("arm64")
    root = unpack_root(tarball, base / "root")
    (root / "boot/firmware/config.txt").write_text("# Raspberry Pi OS default (abridged)\ndtparam=audio=on\n")
    (root / "boot/firmware/cmdline.txt").write_text("console=serial0,115200 console=tty1 root=PARTUUID=1-02 rootwait\n")
    yield Site(base, root, build_edge_wheel(base / "dist"))
    remove_root(root)


@pytest.fixture(scope="module")
def first_run(site: Site) -> PlaybookRun:
    started = time.monotonic()
    done = site.play()
    print(f"arm64 converge: {time.monotonic() - started:.0f} s\n{slowest(done)}")
    return done


@pytest.fixture(scope="module")
def second_run(site: Site, first_run: PlaybookRun) -> PlaybookRun:
    assert first_run.returncode == 0, first_run.failures()
    started = time.monotonic()
    done = site.play()
    print(f"arm64 second run: {time.monotonic() - started:.0f} s\n{slowest(done)}")
    return done


def slowest(run: PlaybookRun) -> str:
    """The profile_tasks summary at the end of a run: its slowest tasks."""
    return run.output.rsplit("=" * 20, 1)[-1].strip() if "=" * 20 in run.output else ""


def test_the_root_is_arm64(site: Site) -> None:
    result = site.inside("dpkg", "--print-architecture")
    assert (result.returncode, result.stdout.strip()) == (0, "arm64")


def test_the_play_converges_the_arm64_door(first_run: PlaybookRun) -> None:
    assert first_run.returncode == 0, first_run.failures()
    assert first_run.recap(HOST)["failed"] == 0 and first_run.recap(HOST)["changed"] > 0


def test_a_second_run_changes_nothing(second_run: PlaybookRun) -> None:
    assert second_run.returncode == 0, second_run.failures()
    assert second_run.recap(HOST)["changed"] == 0, second_run.changed_tasks()
    assert second_run.recap("broker")["changed"] == 0, second_run.changed_tasks()


def test_the_pi_extra_is_built_for_arm64_with_rpi_gpio_from_rpi_lgpio(site: Site, second_run: PlaybookRun) -> None:
    probe = (
        "import importlib.metadata as m, json, platform, spidev, lgpio, mfrc522, RPi.GPIO; "
        "print(json.dumps({'machine': platform.machine(), 'spidev': spidev.__file__, "
        "'RPi': m.packages_distributions()['RPi'], 'mfrc522': m.version('mfrc522')}))"
    )
    # rpi-lgpio refuses to load off a Pi unless told which board it is on (here a Pi 5's revision code).
    result = site.inside("/opt/edge/venv/bin/python", "-c", probe, env={"RPI_LGPIO_REVISION": "0xc04170"})
    assert result.returncode == 0, result.stderr
    found = json.loads(result.stdout)
    assert (found["machine"], found["RPi"], found["mfrc522"]) == ("aarch64", ["rpi-lgpio"], "0.0.7")
    assert found["spidev"].endswith("-aarch64-linux-gnu.so")  # compiled in the root by its own gcc


def test_check_config_and_the_ed25519_known_answer_pass_on_arm64(site: Site, second_run: PlaybookRun) -> None:
    checked = site.inside("/opt/edge/venv/bin/edge", "check-config", "/etc/edge/node.yaml")
    assert (checked.returncode, checked.stderr) == (0, ""), checked.stdout
    verify = (
        "from edge.access.ed25519 import PublicKey; "
        f"key = PublicKey(bytes.fromhex('{RFC8032_PUBLIC}')); sig = bytes.fromhex('{RFC8032_SIGNATURE}'); "
        "print(key.verify(sig, b''), key.verify(sig, b'x'))"
    )
    result = site.inside("/opt/edge/venv/bin/python", "-c", verify)
    assert (result.returncode, result.stdout.strip()) == (0, "True False"), result.stderr


@pytest.fixture(scope="module")
def running(site: Site, second_run: PlaybookRun) -> Iterator[Site]:
    """The broker with the play's config on this machine, and /proc and /dev/pts inside the root."""
    assert second_run.returncode == 0, second_run.failures()
    with Mosquitto(site.broker / "mosquitto.conf", site.port), chroot_mounts(site.root):
        yield site


def staff_config(site: Site) -> Path:
    """The staff tool's config, with the staff user's generated password and the site's generated CA."""
    path = site.tmp / "staff.yaml"
    mqtt = {
        "host": "127.0.0.1",
        "port": site.port,
        "username": "staff",
        "password_file": str(site.secrets / "mqtt/staff.password"),
        "tls": {"ca_file": str(site.secrets / "ca.crt")},
    }
    path.write_text(yaml.safe_dump({"site": SITE, "node": "staff", "mqtt": mqtt}))
    return path


def push_members(site: Site) -> None:
    """`edge members push` from this machine, signed with the play's generated snapshot key and badge key."""
    (site.tmp / "members.yaml").write_text(MEMBERS)
    pushed = subprocess.run(
        [sys.executable, "-m", "edge", "members", "push", "--members", str(site.tmp / "members.yaml"),
         "-c", str(staff_config(site)), "--signing-key", str(site.secrets / "snapshot-signing.key"),
         "--badge-key", str(site.secrets / "badge.key")],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert pushed.returncode == 0, pushed.stdout + pushed.stderr


def wait_for_log(log: Path, text: str, process: subprocess.Popen[bytes], timeout: float) -> None:
    """Wait until the daemon's output holds `text` (a daemon under qemu starts in tens of seconds)."""
    deadline = time.monotonic() + timeout
    while text not in log.read_text(errors="replace"):
        assert process.poll() is None, f"the door exited with {process.returncode}:\n{log.read_text()[-3000:]}"
        assert time.monotonic() < deadline, f"no {text!r} from the door in {timeout} s:\n{log.read_text()[-3000:]}"
        time.sleep(0.2)


def access_decisions(staff: Client, seconds: float) -> list[tuple[bool, str]]:
    """(granted, reason) of the door's access events received within `seconds`."""
    decisions: list[tuple[bool, str]] = []
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            topic, payload = staff.messages.get(timeout=0.5)
        except queue.Empty:
            continue
        if topic == f"{P}/door/front/access" and payload:
            body = decode(Kind.DOOR_ACCESS, payload).body
            decisions.append((body.granted, str(body.reason)))
    return decisions


def test_a_door_running_in_the_arm64_root_grants_a_members_badge_and_refuses_a_stranger(running: Site) -> None:
    site = running
    log = site.tmp / "door.log"
    staff_password = (site.secrets / "mqtt/staff-watch.password").read_text().strip()
    with Rdm6300Sim(site.root / READER.lstrip("/")) as reader, log.open("wb") as out:
        door = subprocess.Popen(
            site.edge("door", "-c", "/etc/edge/node.yaml", "--simulate", "/tmp/edge-sim"),
            stdout=out, stderr=subprocess.STDOUT,
        )  # fmt: skip
        staff = Client(site.port, site.secrets / "ca.crt", "staff-watch", staff_password)
        try:
            wait_for_log(log, "ready in", door, timeout=300)
            assert not staff.connect().is_failure
            assert staff.subscribe(f"{P}/door/front/access").value < 0x80
            push_members(site)
            wait_for_log(log, "member snapshot v", door, timeout=120)
            reader.send_card(UNKNOWN)
            refused = access_decisions(staff, 20)
            time.sleep(0.5)  # the card is taken away: longer than the reader's re-arm time
            reader.send_card(RESIDENT)
            granted = access_decisions(staff, 20)
        finally:
            staff.close()
            door.send_signal(signal.SIGTERM)
            code = door.wait(60)
    assert refused[:1] == [(False, "unknown_badge")], log.read_text()[-3000:]
    assert granted[:1] == [(True, "granted")], log.read_text()[-3000:]
    assert code == 0, log.read_text()[-3000:]


def test_edge_doctor_passes_on_the_deployed_arm64_door(running: Site) -> None:
    site = running
    stop = threading.Event()
    with Rdm6300Sim(site.root / READER.lstrip("/")) as reader:

        def card_held_on_the_reader() -> None:
            while not stop.wait(0.2):
                reader.send_card(RESIDENT)

        holder = threading.Thread(target=card_held_on_the_reader, daemon=True)
        holder.start()
        try:
            # As root: the pty is this machine's (root:tty), not a device the edge user's groups reach.
            result = subprocess.run(
                site.edge("doctor", "-c", "/etc/edge/node.yaml", "--simulate", "--json", "--user", "root",
                          "--timeout", "60"),
                capture_output=True, text=True, timeout=600, check=False,
            )  # fmt: skip
        finally:
            stop.set()
            holder.join()
    report = json.loads(result.stdout)
    failed = [r for r in report["results"] if r["status"] == "fail"]
    assert (result.returncode, failed) == (0, []), result.stdout + result.stderr
    checks = {r["check"] for r in report["results"]}
    assert {"config", "broker", "board", "firmware config", "reader front-outside", "member snapshot"} <= checks
