"""Shared by the deployment tests: a strict udev rules parser, Ansible runs with a clean environment, test secrets."""

from __future__ import annotations

import os
import queue
import re
import secrets
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from paho.mqtt.reasoncodes import ReasonCode

_MATCH_OPS = ("==", "!=")
_ASSIGN_OPS = ("=", "+=", "-=", ":=")
# Keys udev accepts; `{attr}` keys take an attribute name. Only what rules like ours can use.
_MATCH_KEYS = {
    "ACTION",
    "DEVPATH",
    "KERNEL",
    "KERNELS",
    "NAME",
    "SYMLINK",
    "SUBSYSTEM",
    "SUBSYSTEMS",
    "DRIVER",
    "DRIVERS",
    "TAG",
    "TAGS",
    "TEST",
    "PROGRAM",
    "RESULT",
}
_ATTR_MATCH_KEYS = {"ATTR", "ATTRS", "ENV", "SYSCTL", "CONST"}
_ASSIGN_KEYS = {"NAME", "SYMLINK", "OWNER", "GROUP", "MODE", "TAG", "RUN", "LABEL", "GOTO", "IMPORT", "OPTIONS"}
_ATTR_ASSIGN_KEYS = {"ENV", "ATTR", "SYSCTL", "IMPORT", "RUN"}
_PAIR = re.compile(r'\s*(?P<key>[A-Z_]+)(?:\{(?P<attr>[^}]+)\})?\s*(?P<op>==|!=|\+=|-=|:=|=)\s*"(?P<value>[^"]*)"\s*')


@dataclass(frozen=True)
class UdevRule:
    """One parsed rule: its match and assignment pairs as (key, attribute, operator, value)."""

    line: int
    matches: tuple[tuple[str, str | None, str, str], ...]
    assignments: tuple[tuple[str, str | None, str, str], ...]

    def value(self, key: str, attr: str | None = None) -> str | None:
        """The value a rule matches or assigns for a key, if any."""
        for k, a, _op, v in self.matches + self.assignments:
            if (k, a) == (key, attr):
                return v
        return None


def parse_udev_rules(text: str) -> list[UdevRule]:
    """Parse udev rules the way udev splits them; raise ValueError naming the line for anything malformed."""
    rules = []
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        matches, assignments = [], []
        for part in _split_pairs(line, number):
            found = _PAIR.fullmatch(part)
            if not found:
                raise ValueError(f"line {number}: cannot parse {part.strip()!r}")
            key, attr, op, value = found["key"], found["attr"], found["op"], found["value"]
            if op in _MATCH_OPS:
                if key not in (_ATTR_MATCH_KEYS if attr else _MATCH_KEYS):
                    raise ValueError(f"line {number}: {key} cannot be matched{' with {...}' if attr else ''}")
                matches.append((key, attr, op, value))
            else:
                if key not in (_ATTR_ASSIGN_KEYS if attr else _ASSIGN_KEYS):
                    raise ValueError(f"line {number}: {key} cannot be assigned")
                if key == "MODE" and not re.fullmatch(r"0[0-7]{3}", value):
                    raise ValueError(f"line {number}: MODE must be four octal digits")
                assignments.append((key, attr, op, value))
        if not matches or not assignments:
            raise ValueError(f"line {number}: a rule needs at least one match and one assignment")
        rules.append(UdevRule(number, tuple(matches), tuple(assignments)))
    return rules


def _split_pairs(line: str, number: int) -> list[str]:
    """Split on commas outside quotes."""
    parts, current, quoted = [], "", False
    for char in line:
        if char == '"':
            quoted = not quoted
        if char == "," and not quoted:
            parts.append(current)
            current = ""
        else:
            current += char
    if quoted:
        raise ValueError(f"line {number}: unterminated quote")
    parts.append(current)
    return parts


# --- Ansible runs ----------------------------------------------------------------------------------------------

REPO = Path(__file__).resolve().parents[1]
DEPLOY = REPO / "deploy"
_RECAP = re.compile(
    r"^(?P<host>\S+)\s+:\s+ok=(?P<ok>\d+)\s+changed=(?P<changed>\d+)\s+unreachable=(?P<unreachable>\d+)"
    r"\s+failed=(?P<failed>\d+)",
    re.MULTILINE,
)


def ansible_tool(name: str) -> Path:
    """A tool of the Ansible installation next to this Python (the `deploy` extra)."""
    path = Path(sys.executable).parent / name
    if not path.exists():
        raise RuntimeError(f"{name} is missing: install the deploy extra (pip install -e '.[deploy]')")
    return path


def ansible_env(tmp: Path) -> dict[str, str]:
    """A clean environment: no pip or proxy settings of this machine leak into a target."""
    return {
        "PATH": f"{Path(sys.executable).parent}:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
        "HOME": str(tmp),
        "LANG": "C.UTF-8",
        "ANSIBLE_CONFIG": str(DEPLOY / "ansible.cfg"),
        "ANSIBLE_LOCAL_TEMP": str(tmp / "ansible-local"),
        "ANSIBLE_NOCOLOR": "1",
        "ANSIBLE_DEPRECATION_WARNINGS": "0",
    }


@dataclass(frozen=True)
class PlaybookRun:
    """The outcome of one ansible-playbook run."""

    returncode: int
    output: str

    def recap(self, host: str) -> dict[str, int]:
        """The PLAY RECAP counters of one host."""
        for found in _RECAP.finditer(self.output):
            if found["host"] == host:
                return {k: int(v) for k, v in found.groupdict().items() if k != "host"}
        raise AssertionError(f"no recap for {host} in:\n{self.output[-3000:]}")

    def failures(self) -> str:
        """Each failed task with its error, then the end of the output (for readable failures)."""
        out, task = [], ""
        for line in self.output.splitlines():
            if line.startswith(("TASK [", "RUNNING HANDLER [")):
                task = line
            elif line.startswith(("fatal:", "failed:", "[ERROR]")):
                out.append(f"{task}\n{line[:3000]}")
        return "\n".join(out) + "\n...\n" + self.output[-2000:]

    def changed_tasks(self) -> list[str]:
        """Names of the tasks that reported a change (for readable failures)."""
        out, task = [], ""
        for line in self.output.splitlines():
            if line.startswith(("TASK [", "RUNNING HANDLER [")):
                task = line
            elif line.startswith("changed:"):
                out.append(task)
        return out


def run_playbook(
    tmp: Path, inventory: Path, *args: str, timeout: float = 900, env: dict[str, str] | None = None
) -> PlaybookRun:
    """Run deploy/site.yml (or what args name) from deploy/ with a clean environment (plus `env`)."""
    result = subprocess.run(
        [str(ansible_tool("ansible-playbook")), "-i", str(inventory), *args],
        cwd=DEPLOY,
        env=ansible_env(tmp) | (env or {}),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    return PlaybookRun(result.returncode, result.stdout + result.stderr)


# --- A Debian Bookworm root to deploy to ---------------------------------------------------------------------------


def make_bookworm_root(base: Path) -> Path:
    """A fresh amd64 Bookworm (minbase) root in base/root, from the day's cached tarball (tests/deploy_roots.py):
    packages start no service, pip trusts this machine's CA bundle, /boot/firmware exists and is empty."""
    from tests.deploy_roots import root_tarball, unpack_root

    if os.geteuid() != 0:
        raise AssertionError("debootstrap and the chroot connection need root (CI runs as root)")
    return unpack_root(root_tarball("amd64"), base / "root")


# --- Secrets -----------------------------------------------------------------------------------------------------


def local_broker_vars(folder: Path, tls_port: int, **values: object) -> dict[str, object]:
    """A broker host for the broker role on this machine: its files in `folder` (with `data/` for persistence), no
    package or service, run as root (the tests run as root in a 0700 temp dir), TLS on 127.0.0.1:`tls_port`."""
    return {
        "ansible_connection": "local",
        "ansible_become": False,
        "ansible_python_interpreter": sys.executable,
        "edge_broker_manage_package": False,
        "edge_broker_manage_service": False,
        "edge_broker_run_user": "root",
        "edge_broker_run_group": "root",
        "edge_broker_config_file": str(folder / "mosquitto.conf"),
        "edge_broker_config_dir": str(folder / "edge"),
        "edge_broker_persistence_dir": f"{folder / 'data'}/",
        "edge_broker_pid_file": str(folder / "mosquitto.pid"),
        "edge_broker_log_dest": f"file {folder / 'mosquitto.log'}",
        "edge_broker_tls_port": tls_port,
        "edge_broker_tls_address": "127.0.0.1",
    } | values


def openssl(*args: str, cwd: Path) -> None:
    """Run openssl quietly; raise with its message when it fails."""
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True, timeout=60)


def make_secrets(directory: Path, users: list[str]) -> Path:
    """A site's secrets directory as deploy/README.md describes it: CA, broker cert, passwords, keys."""
    directory.mkdir(parents=True, exist_ok=True)
    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"]
    openssl(
        "req",
        "-x509",
        *ec,
        "-keyout",
        "ca.key",
        "-out",
        "ca.crt",
        "-days",
        "2",
        "-subj",
        "/CN=edge test CA",
        cwd=directory,
    )
    openssl("req", "-new", *ec, "-keyout", "broker.key", "-out", "broker.csr", "-subj", "/CN=localhost", cwd=directory)
    (directory / "san.ext").write_text("subjectAltName=DNS:localhost,IP:127.0.0.1\n")
    openssl(
        "x509",
        "-req",
        "-in",
        "broker.csr",
        "-CA",
        "ca.crt",
        "-CAkey",
        "ca.key",
        "-CAcreateserial",
        "-out",
        "broker.crt",
        "-days",
        "2",
        "-extfile",
        "san.ext",
        cwd=directory,
    )
    (directory / "mqtt").mkdir(exist_ok=True)
    for user in users:
        (directory / "mqtt" / f"{user}.password").write_text(secrets.token_urlsafe(24) + "\n")
    (directory / "badge.key").write_text(secrets.token_hex(32) + "\n")
    openssl("genpkey", "-algorithm", "ed25519", "-out", "snapshot-signing.key", cwd=directory)
    openssl("pkey", "-in", "snapshot-signing.key", "-pubout", "-out", "snapshot-signing.pub", cwd=directory)
    openssl("genpkey", "-algorithm", "ed25519", "-out", "command-signing.key", cwd=directory)
    openssl("pkey", "-in", "command-signing.key", "-pubout", "-out", "command-signing.pub", cwd=directory)
    # The staff console's HTTPS certificate (signed by the site's CA) and its first manager's password.
    openssl("req", "-new", *ec, "-keyout", "console.key", "-out", "console.csr", "-subj", "/CN=localhost",
            cwd=directory)  # fmt: skip
    openssl("x509", "-req", "-in", "console.csr", "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial",
            "-out", "console.crt", "-days", "2", "-extfile", "san.ext", cwd=directory)  # fmt: skip
    (directory / "console-manager.password").write_text(secrets.token_urlsafe(18) + "\n")
    return directory


def password(secrets_dir: Path, user: str) -> str:
    """A user's MQTT password from a secrets directory."""
    return (secrets_dir / "mqtt" / f"{user}.password").read_text().strip()


# --- Mosquitto and MQTT v5 clients ---------------------------------------------------------------------------

WAIT = 10.0


def free_port() -> int:
    """A TCP port free on loopback right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Mosquitto:
    """A real Mosquitto running a given config file; stopped (by its own PID) on exit.

    `command` runs another way, e.g. `chroot ROOT mosquitto -c FILE` (chroot execs mosquitto: the PID stays its).
    """

    def __init__(self, config: Path, port: int, *, command: list[str] | None = None) -> None:
        self.config, self.port = config, port
        self.command = command or ["mosquitto", "-c", str(config)]
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        """Start the broker and wait until it accepts connections."""
        self.process = subprocess.Popen(self.command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + WAIT
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"mosquitto exited with {self.process.returncode} ({self.config})")
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                return
            except OSError:
                time.sleep(0.02)
        raise RuntimeError(f"mosquitto did not open port {self.port}")

    def stop(self) -> None:
        """Stop the broker with SIGTERM (it saves its persistent state)."""
        if self.process is not None and self.process.poll() is None:
            os.kill(self.process.pid, signal.SIGTERM)
            self.process.wait(timeout=WAIT)

    def __enter__(self) -> Mosquitto:
        self.start()
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, tb: TracebackType | None) -> None:
        self.stop()


class Client:
    """A paho MQTT client (v5 unless told, over TLS when given a CA) that returns the broker's reason codes.

    `max_packet_size` is the MQTT 5 Maximum Packet Size the client announces; `disconnects` receives the reason of
    every disconnection the client did not ask for (a takeover by another client, an oversized packet).
    """

    def __init__(
        self,
        port: int,
        ca: Path | None,
        user: str | None,
        secret: str | None,
        *,
        client_id: str | None = None,
        persistent: bool = False,
        protocol: int = mqtt.MQTTv5,
        max_packet_size: int | None = None,
    ) -> None:
        self.v5 = protocol == mqtt.MQTTv5
        self.client = mqtt.Client(
            CallbackAPIVersion.VERSION2,
            client_id=client_id or f"t-{uuid.uuid4().hex[:8]}",
            protocol=protocol,
            clean_session=None if self.v5 else not persistent,
        )
        if ca is not None:
            self.client.tls_set(ca_certs=str(ca))
        if user is not None:
            self.client.username_pw_set(user, secret)
        self.persistent = persistent
        self.max_packet_size = max_packet_size
        self._connack: queue.Queue[tuple[ReasonCode, bool, Properties | None]] = queue.Queue()
        self._acks: dict[int, queue.Queue[ReasonCode]] = {}
        self._lock = threading.Lock()
        self._closing = False
        self.messages: queue.Queue[tuple[str, bytes]] = queue.Queue()
        self.disconnects: queue.Queue[str] = queue.Queue()
        self.client.on_connect = lambda c, u, f, rc, p: self._connack.put((rc, bool(f.session_present), p))
        self.client.on_publish = lambda c, u, mid, rc, p: self._ack(mid).put(rc)
        self.client.on_subscribe = lambda c, u, mid, rcs, p: self._ack(mid).put(rcs[0])
        self.client.on_message = lambda c, u, m: self.messages.put((m.topic, bytes(m.payload)))
        self.client.on_disconnect = self._on_disconnect
        self.port = port
        self.session_present = False
        self.connack_properties: Properties | None = None

    def _on_disconnect(self, _c: mqtt.Client, _u: object, _f: object, reason: ReasonCode, _p: object) -> None:
        if not self._closing:
            self.disconnects.put(str(reason))

    def _ack(self, mid: int) -> queue.Queue[ReasonCode]:
        with self._lock:
            return self._acks.setdefault(mid, queue.Queue())

    def connect(self) -> ReasonCode:
        """Connect and return the CONNACK reason code (a persistent client resumes its session)."""
        properties = None
        if self.v5:
            properties = Properties(PacketTypes.CONNECT)
            if self.persistent:
                properties.SessionExpiryInterval = 3600
            if self.max_packet_size is not None:
                properties.MaximumPacketSize = self.max_packet_size
            self.client.connect(
                "127.0.0.1", self.port, keepalive=30, clean_start=not self.persistent, properties=properties
            )
        else:
            self.client.connect("127.0.0.1", self.port, keepalive=30)
        self.client.loop_start()
        code, self.session_present, self.connack_properties = self._connack.get(timeout=WAIT)
        return code

    def publish(self, topic: str, payload: bytes = b"{}", *, retain: bool = False) -> str:
        """'accepted' or the broker's refusal ('Not authorized'); v5 also says 'No matching subscribers'."""
        info = self.client.publish(topic, payload, qos=1, retain=retain)
        code = self._ack(info.mid).get(timeout=WAIT)
        return str(code) if code.is_failure else "accepted"

    def subscribe(self, topic: str) -> ReasonCode:
        """Subscribe at QoS 1 and return the SUBACK reason code."""
        _result, mid = self.client.subscribe(topic, qos=1)
        assert mid is not None
        return self._ack(mid).get(timeout=WAIT)

    def wait_for(self, topic: str, payload: bytes) -> list[tuple[str, bytes]]:
        """Every message received until (and with) `payload` on `topic`; raise queue.Empty when it does not come."""
        seen = [self.messages.get(timeout=WAIT)]
        while seen[-1] != (topic, payload):
            seen.append(self.messages.get(timeout=WAIT))
        return seen

    def close(self) -> None:
        """Disconnect and stop the network thread."""
        self._closing = True
        self.client.disconnect()
        self.client.loop_stop()
