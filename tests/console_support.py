"""The staff console in tests: Django configured once per test session, a fresh site (keys, member file, runtime)
and an empty database for each test, and clients logged in as a manager or a viewer."""

from __future__ import annotations

import datetime as dt
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from edge.clock import ManualClock
from edge.config import NodeConfig, load_config
from tests.rig.fixtures import REPO

PASSWORD = "correct horse battery"
NOW = dt.datetime(2026, 12, 3, 10, 0, tzinfo=dt.UTC)  # a Thursday


def console_config(
    folder: Path, *, port: int = 1883, extra: str = "", console_extra: str = "", site: str = "coworking-lyon"
) -> Path:
    """A hub config with a console section in `folder` (keys made with `edge members keygen`'s layout)."""
    from edge.staff.keygen import generate_site_keys

    folder.mkdir(parents=True, exist_ok=True)
    if not (folder / "keys").exists():
        generate_site_keys(folder / "keys")
    if not (folder / "members.yaml").exists():
        shutil.copy(REPO / "examples" / "members.yaml", folder / "members.yaml")
    for name in ("cert.pem", "key.pem"):
        if not (folder / name).exists():
            (folder / name).write_text("not used by the test client\n")
    path = folder / "hub.yaml"
    path.write_text(
        f"""site: {site}
node: hub
badge_key_file: keys/badge.key
mqtt: {{host: 127.0.0.1, port: {port}, reconnect_min_s: 0.2, reconnect_max_s: 1}}
{extra}console:
  tls_cert_file: cert.pem
  tls_key_file: key.pem
  state_dir: {folder / "state"}
  members_file: members.yaml
  snapshot_signing_key_file: keys/snapshot-signing.key
  command_signing_key_file: keys/command-signing.key
  allowed_hosts: [testserver]
  login_failures: 3
  collector_store: collector.sqlite3
{console_extra}"""
    )
    if not (folder / "collector.sqlite3").exists():
        from edge.collector.store import Store

        Store(folder / "collector.sqlite3").close()
    return path


_configured: list[NodeConfig] = []


@pytest.fixture(scope="session")
def django_console(tmp_path_factory: pytest.TempPathFactory) -> NodeConfig:
    """Django configured once for the whole test session (whichever module asks first), its database migrated."""
    if _configured:
        return _configured[0]
    from django.conf import settings
    from django.core.management import call_command
    from django.test.utils import setup_test_environment

    from edge.console.settings import configure

    config = load_config(console_config(tmp_path_factory.mktemp("console-django")))
    configure(config)
    # Tests log in hundreds of times: a fast hash here; the console itself uses Django's PBKDF2 default.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    setup_test_environment()
    call_command("migrate", verbosity=0, interactive=False)
    _configured.append(config)
    return config


@dataclass
class ConsoleSite:
    """One test's site: its folder, config and the runtime the views use."""

    folder: Path
    config: NodeConfig
    runtime: object

    @property
    def members_path(self) -> Path:
        return self.folder / "members.yaml"


@pytest.fixture
def console_site(django_console: NodeConfig, tmp_path: Path) -> Iterator[ConsoleSite]:
    """A fresh site and an empty console database, runtime installed, clock fixed at NOW."""
    from django.core.management import call_command

    from edge.console import runtime

    config = load_config(console_config(tmp_path / "site"))
    rt = runtime.Runtime.from_config(config)
    rt.clock = ManualClock(NOW)
    runtime.install(rt)
    yield ConsoleSite(tmp_path / "site", config, rt)
    runtime.install(None)
    call_command("flush", verbosity=0, interactive=False)
    from edge.console.views import common, members

    members._index = None
    common.forget()


def make_user(name: str, role: str, password: str = PASSWORD) -> object:
    """A staff account."""
    from edge.console.models import StaffUser

    return StaffUser.objects.create_user(username=name, password=password, role=role)


def logged_in(name: str, role: str, **client_options: object) -> object:
    """A test client logged in through the login page (as a browser would)."""
    from django.test import Client

    make_user(name, role)
    client = Client(**client_options)
    client.get("/login/")
    token = client.cookies["csrftoken"].value
    response = client.post("/login/", {"username": name, "password": PASSWORD, "csrfmiddlewaretoken": token})
    assert response.status_code == 302, response.content[:500]
    return client


def field_value(response: object, name: str) -> str:
    """The value of the (first) input named `name` in a rendered page."""
    import html
    import re

    text = response.content.decode()  # type: ignore[attr-defined]
    for tag in re.findall(r"<input[^>]*>", text):
        if re.search(rf'\bname="{re.escape(name)}"', tag):
            found = re.search(r'\bvalue="([^"]*)"', tag)
            return html.unescape(found.group(1)) if found else ""
    raise AssertionError(f"no input named {name!r} in the page")


_counter = [0]


def feed(view: object, body: object, *, node: str = "pi-front", at: dt.datetime = NOW, event_id: str = "") -> str:
    """Deliver one contract message to a site view as the broker would (encoded, on its topic); its event id."""
    from edge.contract import Event, encode
    from edge.contract.payloads import Envelope

    _counter[0] += 1
    event_id = event_id or f"{node}-{_counter[0]}"
    topic = body.topic(view.topics)  # type: ignore[attr-defined]
    payload = encode(Event(Envelope(id=event_id, ts=at, node=node, seq=_counter[0]), body))  # type: ignore[arg-type]
    view.apply(topic, payload, bool(getattr(body, "retain", False)))  # type: ignore[attr-defined]
    return event_id
