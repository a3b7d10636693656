"""Publishing and commands from the console against the real stack: a real Mosquitto, `edge door --simulate` with a
pty reader, and the console's own broker link. What the console publishes, the door applies; what it commands,
the door obeys; the doors page shows both."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from edge.config import load_config
from edge.hardware.sim.serial_devices import Rdm6300Sim
from tests.console_support import console_config, field_value, logged_in
from tests.door_site import Site
from tests.door_support import RESIDENT, UNKNOWN
from tests.rig.process import EdgeProcess
from tests.rig.servers import Mosquitto
from tests.rig.waiting import wait_until


@pytest.fixture
def stack(django_console: object, tmp_path: Path, mosquitto: Mosquitto, reader: Rdm6300Sim) -> Iterator[Site]:
    """A door run as `edge door --simulate`, and the console's runtime with a live broker link on the same site."""
    from django.core.management import call_command

    from edge.console import runtime
    from edge.staff.live import LiveLink

    site = Site(tmp_path, mosquitto, reader)
    config = load_config(console_config(tmp_path, port=mosquitto.port, site="lyon"))
    rt = runtime.Runtime.from_config(config)
    rt.link = LiveLink(config)
    rt.link.start()
    runtime.install(rt)
    site.start_door()
    assert rt.link.wait_synced(30)
    yield site
    runtime.install(None)
    rt.link.stop()
    site.close()
    call_command("flush", verbosity=0, interactive=False)


def door_state(attribute: str) -> object:
    from edge.console.runtime import current

    link = current().link
    assert link is not None
    state = link.view.doors().get("front")
    return getattr(state, attribute) if state is not None else None


def decisions() -> list[str]:
    from edge.console.runtime import current

    link = current().link
    assert link is not None
    return [d.reason for d in link.view.recent_decisions()]


def publish(client: object) -> int:
    from edge.console.models import AuditEntry

    assert client.get("/doors/publish/").status_code == 200  # type: ignore[attr-defined]
    response = client.post("/doors/publish/")  # type: ignore[attr-defined]
    assert response.status_code == 302
    entry = AuditEntry.objects.filter(action="publish").order_by("-id").first()
    assert entry is not None, client.get("/doors/").content.decode()  # type: ignore[attr-defined]
    return int(entry.target)


def test_a_snapshot_published_by_the_console_is_applied_by_the_door(stack: Site) -> None:
    client = logged_in("alice", "manager")
    version = publish(client)
    wait_until(lambda: door_state("members_version") == version, timeout=30, what="the door to apply the snapshot")
    page = client.get("/doors/").content.decode()
    assert "à jour" in page and str(version) in page and "Toutes les portes l’ont" in page
    stack.reader.send_card(RESIDENT)
    wait_until(lambda: decisions() == ["granted"], timeout=30, what="the door to grant the card")

    # Suspend the member in the console, publish again: the door refuses the same card.
    suspend = client.get("/members/M-1/suspend/")
    client.post("/members/M-1/suspend/", {"based_on": field_value(suspend, "based_on")})
    second = publish(client)
    assert second > version
    wait_until(lambda: door_state("members_version") == second, timeout=30, what="the second snapshot")
    time.sleep(0.3)  # the card is taken away and presented again
    stack.reader.send_card(RESIDENT)
    wait_until(lambda: decisions() == ["granted", "suspended"], timeout=30, what="the door to refuse the card")


def test_a_command_sent_from_the_console_is_obeyed_by_the_door(stack: Site) -> None:
    client = logged_in("alice", "manager")
    publish(client)
    wait_until(lambda: door_state("mode") == "normal", timeout=30, what="the door's state")
    assert "Confinement à la porte front" in client.get("/doors/front/lockdown/").content.decode()
    assert client.post("/doors/front/lockdown/").status_code == 302
    wait_until(lambda: door_state("mode") == "lockdown", timeout=30, what="the door to go into lockdown")
    assert "confinement" in client.get("/doors/").content.decode()
    client.post("/doors/front/normal/")
    wait_until(lambda: door_state("mode") == "normal", timeout=30, what="the door to go back to normal")
    audit = client.get("/audit/").content.decode()
    assert audit.split("<tbody>")[1].count("A envoyé une commande de porte") == 2


def test_publishing_without_the_broker_says_so_and_records_nothing(stack: Site, mosquitto: Mosquitto) -> None:
    from edge.console.models import AuditEntry

    client = logged_in("alice", "manager")
    mosquitto.stop()
    from edge.console.runtime import current

    link = current().link
    assert link is not None
    wait_until(lambda: not link.connected, timeout=30, what="the console to notice the broker is gone")
    page = client.post("/doors/publish/", follow=True).content.decode()
    assert "Non publié" in page
    assert not AuditEntry.objects.filter(action="publish").exists()


def start_reception(folder: Path, port: int, reader: Rdm6300Sim) -> EdgeProcess:
    """`edge badge` for a reception reader on its own pty, with the site's badge key."""
    config = folder / "reception.yaml"
    config.write_text(
        f"""site: lyon
node: pi-reception
state_dir: {folder / "reception-state"}
badge_key_file: {folder / "keys" / "badge.key"}
status_interval_s: 0.5
mqtt: {{host: 127.0.0.1, port: {port}, reconnect_min_s: 0.2, reconnect_max_s: 1}}
readers:
  - {{name: reception, type: rdm6300, port: {reader.path}, rearm_s: 0.3}}
"""
    )
    reception = EdgeProcess("badge", "-c", str(config), log=folder / "reception.log").start()
    reception.wait_ready()
    return reception


def offered(client: object) -> list[dict[str, object]]:
    response = client.get("/members/M-1/enrol/live.json")  # type: ignore[attr-defined]
    return json.loads(response.content)["cards"]  # type: ignore[no-any-return]


def test_a_card_tapped_at_reception_is_enrolled_published_and_granted_at_the_door(
    stack: Site, mosquitto: Mosquitto, tmp_path: Path
) -> None:
    reception = Rdm6300Sim()
    badge = start_reception(tmp_path, mosquitto.port, reception)
    try:
        client = logged_in("alice", "manager")
        publish(client)
        stack.reader.send_card(UNKNOWN)  # before: the door does not know the card
        wait_until(lambda: decisions() == ["unknown_badge"], timeout=30, what="the door to refuse the unknown card")

        # Ann's enrolment page offers the card the door just refused; it is tapped at reception too, and offered.
        assert "porte front, lecteur inside" in client.get("/members/M-1/enrol/").content.decode()
        reception.send_card(UNKNOWN)
        wait_until(lambda: any(c["reader"] == "reception" for c in offered(client)), timeout=30,
                   what="the tapped card to be offered")  # fmt: skip
        card = next(c for c in offered(client) if c["reader"] == "reception")
        assert card["held"] is False
        page = client.post("/members/M-1/enrol/", {"presentation": card["id"]}, follow=True).content.decode()
        assert "Badge attribué à Ann Resident" in page
        assert UNKNOWN not in (stack.folder / "members.yaml").read_text()  # held by its token, never the UID

        version = publish(client)
        wait_until(lambda: door_state("members_version") == version, timeout=30, what="the door to apply it")
        time.sleep(0.3)  # the card is taken away from the door's reader and presented again
        stack.reader.send_card(UNKNOWN)
        wait_until(lambda: decisions() == ["unknown_badge", "granted"], timeout=30, what="the door to grant it")
    finally:
        badge.stop()
        reception.close()
