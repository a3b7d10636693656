"""The Today page and the enrolment page, fed message by message as the broker would feed the console's site view:
what each door, desk and node said is what staff read (in French), the live endpoint follows every message, and a
card tapped at a reader can be given to a member — never one that someone else holds."""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Iterator

import pytest

from edge.contract import DeskOccupancy, DoorAccess, DoorAlarm, DoorState, NodeStatus, ZoneOccupancy, badge_token
from edge.contract.payloads import Alarm, BadgeScan, DeskState, DoorMode, Reason
from tests.console_support import NOW, ConsoleSite, feed, logged_in

NEW_CARD = "6677889900"


@pytest.fixture
def view(console_site: ConsoleSite) -> Iterator[object]:
    """The console's site view (a broker link that is not started: messages are fed by the test)."""
    from edge.staff.live import LiveLink

    link = LiveLink(console_site.config)
    console_site.runtime.link = link  # type: ignore[attr-defined]
    yield link.view
    console_site.runtime.link = None  # type: ignore[attr-defined]


def door_state(mode: str = "normal", *, locked: bool = True, open_: bool = False, version: int | None = 7) -> DoorState:
    return DoorState(
        door="front", locked=locked, open=open_, mode=DoorMode(mode), members_version=version,  # type: ignore[arg-type]
        members_applied_at=NOW - dt.timedelta(minutes=5) if version else None,
    )  # fmt: skip


def site(view: object) -> None:
    """A door, its node, two zones with desks, a decision: the site at 11:00 Paris time."""
    feed(view, door_state())
    feed(view, NodeStatus(state="online", version="1.2.0", outbox_depth=3, clock_synced=True, node_name="pi-front"))
    for desk, zone, state in (("d1", "open-space", "occupied"), ("d2", "open-space", "vacant"),
                              ("q1", "quiet", "unknown")):  # fmt: skip
        feed(view, DeskOccupancy(desk=desk, zone=zone, state=DeskState(state), since=NOW), node="pi-desks")
    feed(view, ZoneOccupancy(zone="open-space", occupied=1, vacant=1, unknown=0, total=2), node="pi-desks")
    feed(view, ZoneOccupancy(zone="quiet", occupied=0, vacant=0, unknown=1, total=1), node="pi-desks")
    token = "a" * 32
    feed(view, DoorAccess(door="front", reader="inside", token=token, member="M-0001", granted=True,
                          reason=Reason.GRANTED, latency_ms=12.0))  # fmt: skip


def live(client: object, url: str = "/today/live.json") -> dict[str, object]:
    response = client.get(url)  # type: ignore[attr-defined]
    assert response.status_code == 200 and response["Cache-Control"] == "no-store"
    return json.loads(response.content)  # type: ignore[no-any-return]


def test_today_shows_doors_desks_nodes_and_decisions_in_french(console_site: ConsoleSite, view: object) -> None:
    site(view)
    page = logged_in("victor", "viewer").get("/").content.decode()
    assert "Aujourd’hui" in page and "jeudi 3 décembre 2026" in page
    assert "verrouillée" in page and "fermée" in page and "normal" in page
    assert "1 poste occupé" in page and "sur 2" in page and "1 sans nouvelles" in page
    assert "en ligne" in page and "synchronisée" in page
    assert "Alice Martin" in page and "accordé" in page  # the member's name, resolved on the console
    assert 'data-live-url="/today/live.json"' in page


def test_the_live_endpoint_follows_each_message(console_site: ConsoleSite, view: object) -> None:
    site(view)
    client = logged_in("victor", "viewer")
    before = live(client)
    assert before["doors"][0]["mode"] == "normal" and before["doors"][0]["members_version"] == 7  # type: ignore[index]
    assert {z["zone"]: z["occupied"] for z in before["zones"]} == {"open-space": 1, "quiet": 0}  # type: ignore[union-attr]
    feed(view, door_state("lockdown", locked=True))
    feed(view, DoorAlarm(door="front", alarm=Alarm.HELD_OPEN, active=True))
    after = live(client)
    assert after["generation"] > before["generation"]  # type: ignore[operator]
    door = after["doors"][0]  # type: ignore[index]
    assert door["mode"] == "lockdown" and door["alarms"][0]["alarm"] == "held_open"
    sections = after["sections"]
    assert "confinement" in sections["today-doors"] and "maintenue ouverte" in sections["today-doors"]  # type: ignore[index]
    feed(view, DoorAlarm(door="front", alarm=Alarm.HELD_OPEN, active=False))
    assert live(client)["doors"][0]["alarms"] == []  # type: ignore[index]


def test_a_door_behind_the_last_publish_is_named(console_site: ConsoleSite, view: object) -> None:
    from edge.staff.push import PushRecord, record_path

    site(view)
    record = PushRecord("coworking-lyon", 9, NOW - dt.timedelta(seconds=30), "t", 6, 7, 100, "x")
    record_path(console_site.members_path).write_bytes(record.to_json())
    data = live(logged_in("victor", "viewer"), "/doors/live.json")
    assert data["behind"] == ["front"] and not data["all_current"]
    assert "1 porte est en retard : front" in data["sections"]["doors-report"]  # type: ignore[index]
    feed(view, door_state(version=9))
    data = live(logged_in("walter", "viewer"), "/doors/live.json")
    assert data["all_current"] and "Toutes les portes l’ont" in data["sections"]["doors-report"]  # type: ignore[index]


def test_without_news_the_today_page_says_so(console_site: ConsoleSite, view: object) -> None:
    page = logged_in("victor", "viewer").get("/").content.decode()
    assert "n’est pas connectée" in page and "Aucune porte" in page and "Aucun poste" in page


# --- enrolling a tapped card -------------------------------------------------------------------------------


def tap(console_site: ConsoleSite, view: object, uid: str, *, at: dt.datetime = NOW, door: bool = False) -> str:
    """A card presented at the reception reader (a scan), or at the door's reader (refused if unknown)."""
    token = badge_token(console_site.runtime.badge_key, uid)  # type: ignore[attr-defined]
    if door:
        body = DoorAccess(door="front", reader="inside", token=token, member=None, granted=False,
                          reason=Reason.UNKNOWN_BADGE, latency_ms=3.0)  # fmt: skip
        return feed(view, body, at=at)
    return feed(view, BadgeScan(reader="reception", token=token), node="pi-reception", at=at)


def test_a_card_tapped_at_the_reception_reader_is_offered_then_given_to_the_member(
    console_site: ConsoleSite, view: object
) -> None:
    from edge.console.models import AuditEntry
    from edge.staff.memberfile import load_member_file

    client = logged_in("alice", "manager")
    page = client.get("/members/M-0004/enrol/").content.decode()
    assert "En attente d’une carte" in page
    presented = tap(console_site, view, NEW_CARD)
    data = live(client, "/members/M-0004/enrol/live.json")
    assert data["cards"] == [{"id": presented, "reader": "reception", "door": None, "held": False}]
    section = data["sections"]["enrol-cards"]  # type: ignore[index]
    assert "nouvelle carte" in section and "Attribuer cette carte à David Leroy" in section
    token = badge_token(console_site.runtime.badge_key, NEW_CARD)  # type: ignore[attr-defined]
    assert token not in section and NEW_CARD not in section  # the browser gets neither the token nor the UID
    based_on = re.search(r'name="based_on" value="([0-9a-f]+)"', section)
    assert based_on is not None
    response = client.post(
        "/members/M-0004/enrol/", {"presentation": presented, "based_on": based_on.group(1)}, follow=True
    )
    assert "Badge attribué à David Leroy" in response.content.decode()
    member = next(m for m in load_member_file(console_site.members_path).members if m.id == "M-0004")
    assert member.badges == ("0A1B2C40", f"token:{token}")
    entry = AuditEntry.objects.get(action="member.enrol")
    assert (
        entry.target == "M-0004" and entry.details["reader"] == "reception" and token not in json.dumps(entry.details)
    )
    # Offered again, the card now shows as this member's, with nothing to give.
    again = live(client, "/members/M-0004/enrol/live.json")["sections"]["enrol-cards"]  # type: ignore[index]
    assert "déjà une carte de ce membre" in again and "Attribuer" not in again


def test_a_card_tapped_at_a_door_reader_can_be_enrolled_too(console_site: ConsoleSite, view: object) -> None:
    client = logged_in("alice", "manager")
    presented = tap(console_site, view, NEW_CARD, door=True)
    data = live(client, "/members/M-0004/enrol/live.json?reader=front/inside")
    assert data["cards"] == [{"id": presented, "reader": "inside", "door": "front", "held": False}]
    assert "porte front, lecteur inside" in data["sections"]["enrol-cards"]  # type: ignore[index]
    assert live(client, "/members/M-0004/enrol/live.json?reader=reception")["cards"] == []


def test_a_card_someone_else_holds_is_refused_naming_them(console_site: ConsoleSite, view: object) -> None:
    client = logged_in("alice", "manager")
    before = console_site.members_path.read_bytes()
    presented = tap(console_site, view, "04A23B119C8000")  # Alice Martin's card, held by its UID
    section = live(client, "/members/M-0004/enrol/live.json")["sections"]["enrol-cards"]  # type: ignore[index]
    assert "appartient à Alice Martin (M-0001)" in section and "Attribuer" not in section
    # Posting it anyway (an old page, a forged form) is refused the same way.
    response = client.post("/members/M-0004/enrol/", {"presentation": presented}, follow=True)
    assert "Cette carte appartient déjà à Alice Martin (M-0001)" in response.content.decode()
    assert console_site.members_path.read_bytes() == before


@pytest.mark.parametrize("case", ["too old", "never presented", "malformed id"])
def test_a_card_not_presented_lately_cannot_be_enrolled(console_site: ConsoleSite, view: object, case: str) -> None:
    client = logged_in("alice", "manager")
    before = console_site.members_path.read_bytes()
    presentation = {
        "too old": lambda: tap(console_site, view, NEW_CARD, at=NOW - dt.timedelta(minutes=11)),
        "never presented": lambda: "pi-reception-999999",
        "malformed id": lambda: "<script>",
    }[case]()
    response = client.post("/members/M-0004/enrol/", {"presentation": presentation}, follow=True)
    assert "présentée il y a trop longtemps, ou pas du tout" in response.content.decode()
    assert console_site.members_path.read_bytes() == before


def test_the_member_page_leads_a_manager_to_enrolment_but_not_a_viewer(console_site: ConsoleSite) -> None:
    assert "/members/M-0004/enrol/" in logged_in("alice", "manager").get("/members/M-0004/").content.decode()
    assert "/enrol/" not in logged_in("victor", "viewer").get("/members/M-0004/").content.decode()


def test_a_card_enrolled_by_token_cannot_be_typed_in_or_imported_for_someone_else(
    console_site: ConsoleSite, view: object
) -> None:
    from django.core.files.uploadedfile import SimpleUploadedFile

    from tests.console_support import field_value

    client = logged_in("alice", "manager")
    presented = tap(console_site, view, NEW_CARD)
    client.post("/members/M-0004/enrol/", {"presentation": presented})
    # The same card by its number, typed in for a new member: the console has the badge key and knows it is one card.
    add = client.get("/members/add/")
    form = {"member_id": "M-0100", "name": "Zoé", "plan": "flex", "new_badges": "66:77:88:99:00",
            "based_on": field_value(add, "based_on")}  # fmt: skip
    assert "already belongs to member M-0004" in client.post("/members/add/", form).content.decode()
    # ... or in an export.
    export = (
        "member_id,name,plan,badges,valid_from,valid_until,account,suspended,staff\n"
        "G-1,Zoé,flex,6677889900,,,,non,non\n"
    )
    upload = SimpleUploadedFile("export.csv", export.encode(), content_type="text/csv")
    page = client.post("/members/import/", {"export": upload, "platform": "generic"}).content.decode()
    assert "is the same card as" in page and "M-0004" in page
