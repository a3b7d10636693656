"""The broker check: the node's credentials, without disturbing the node's own broker session.

The site broker makes a client's user name its client id (docs/security.md): logging in with a node's user takes
that node's connection over, and a clean start discards its persistent session with the messages queued in it.
So the doctor logs in only when no daemon of the node is running and the node keeps no persistent session (a
collector keeps one). Otherwise it checks what it can without logging in (the broker answers, and its TLS
certificate verifies against the node's CA) and says why it went no further.
"""

from __future__ import annotations

import os
import socket
import ssl
import threading
from collections.abc import Iterable

from edge.bus.session import NetworkLoop, connect_properties, make_client
from edge.config import NodeConfig
from edge.doctor.checks import Context
from edge.doctor.report import Result, Status
from edge.files import lock_holder


def check_broker(ctx: Context) -> Iterable[Result]:
    """The broker accepts this node's credentials (or, when logging in would disturb the node, answers over TLS)."""
    config = ctx.config
    if config is None:
        return
    running = running_daemon(config)
    if running is not None:
        yield from _check_reachable(config, ctx.timeout, running)
    elif config.collector is not None:
        yield from _check_reachable(
            config, ctx.timeout, "this node's collector keeps a persistent session that logging in would discard"
        )
    else:
        yield from _check_login(config, ctx.timeout)


def running_daemon(config: NodeConfig) -> str | None:
    """Why the node's broker connection may be in use ("the door daemon (pid 812) is running ..."), or None."""
    # Every daemon holds an exclusive lock on its outbox (or the collector on its store) while it runs.
    locks = sorted(config.state_dir.glob("outbox-*.sqlite3.lock"))
    store = (config.collector.store_path if config.collector else None) or config.state_dir / "collector.sqlite3"
    locks.append(store.with_suffix(store.suffix + ".lock"))
    for lock in locks:
        name = lock.name.removeprefix("outbox-").split(".", 1)[0]
        try:
            holder = lock_holder(lock)
        except OSError as exc:
            return f"cannot tell whether the {name} daemon is running ({lock}: {exc.strerror}; run the doctor as root)"
        if holder is not None:
            return f"the {name} daemon ({holder}) is running and holds this node's connection"
    return None


def _check_reachable(config: NodeConfig, timeout: float, why: str) -> Iterable[Result]:
    where = f"{config.mqtt.host}:{config.mqtt.port}"
    tls = config.mqtt.tls
    try:
        with socket.create_connection((config.mqtt.host, config.mqtt.port), timeout=timeout) as sock:
            if tls is not None:
                context = ssl.create_default_context(cafile=str(tls.ca_file))
                if tls.cert_file is not None and tls.key_file is not None:
                    context.load_cert_chain(str(tls.cert_file), str(tls.key_file))
                if tls.insecure_skip_verify:
                    context.check_hostname = False
                    context.verify_mode = ssl.CERT_NONE
                with context.wrap_socket(sock, server_hostname=config.mqtt.host):
                    pass
    except ssl.SSLError as exc:
        detail = (
            f"its TLS certificate does not verify ({exc.verify_message})"
            if isinstance(exc, ssl.SSLCertVerificationError)
            else f"the TLS handshake failed ({exc.reason or exc})"
        )
        yield Result(
            "broker",
            Status.FAIL,
            f"the broker at {where} answers but {detail}",
            "check mqtt.tls.ca_file (the site CA that signed the broker's certificate) and that the certificate "
            "names mqtt.host",
        )
        return
    except OSError as exc:
        yield _unreachable(where, exc)
        return
    verified = "; its TLS certificate verified" if tls is not None and not tls.insecure_skip_verify else ""
    yield Result(
        "broker",
        Status.OK,
        f"the broker at {where} answers{verified}. This node's credentials were not tried: {why} (the broker "
        "allows one connection per user)",
    )


def _check_login(config: NodeConfig, timeout: float) -> Iterable[Result]:
    where = f"{config.mqtt.host}:{config.mqtt.port}"
    try:
        client = make_client(config.mqtt, f"edge-doctor-{config.node}-{os.getpid()}", reconnect=False)
    except (OSError, ValueError) as exc:
        yield Result(
            "broker", Status.FAIL, f"cannot set up the MQTT client: {exc}", "check mqtt.tls and password files"
        )
        return
    done = threading.Event()
    outcome: list[str] = []

    def on_connect(_c: object, _u: object, _f: object, reason: object, _p: object = None) -> None:
        outcome.append(str(reason))
        done.set()

    client.on_connect = on_connect
    loop = NetworkLoop(
        client,
        config.mqtt.model_copy(update={"keepalive": 10}),  # one CONNACK to wait for: no long keepalive needed
        name="doctor-mqtt",
        properties=connect_properties(config.mqtt, "doctor"),
        reconnect=False,
    )
    try:
        loop.connect()
        done.wait(timeout)
    except OSError as exc:
        yield _unreachable(where, exc)
        return
    finally:
        loop.stop()
    if not outcome:
        yield Result("broker", Status.FAIL, f"no answer from the broker at {where} within {timeout:.0f} s")
    elif outcome[0] == "Success":
        yield Result("broker", Status.OK, f"the broker at {where} accepts this node's credentials")
    else:
        yield Result(
            "broker",
            Status.FAIL,
            f"the broker at {where} refused the connection: {outcome[0]}",
            "check mqtt.username and the password file against the broker's password file (Ansible edge_broker role)",
        )


def _unreachable(where: str, exc: OSError) -> Result:
    return Result(
        "broker",
        Status.FAIL,
        f"cannot reach the broker at {where}: {exc.strerror or exc}",
        "check that the broker runs, the host name and port, and the network (firewall)",
    )
