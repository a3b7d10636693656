"""Members in the console: search and pages, changes previewed before they are saved, the version check against a
concurrent editor, removals kept in the audit log, and imports that are all or nothing behind the removal guard."""

from __future__ import annotations

from pathlib import Path

from edge.staff.memberfile import load_member_file
from edge.staff.memberstore import MemberStore
from tests.console_support import ConsoleSite, field_value, logged_in

NEXUDUS_HEADER = "Coworker Id,Full Name,Tariff,Access Card Id,Start Date,End Date,Company Name,Active\n"


def members_of(site: ConsoleSite) -> dict[str, object]:
    return {m.id: m for m in load_member_file(site.members_path).members}


def test_the_search_finds_members_by_name_id_email_plan_and_account(console_site: ConsoleSite) -> None:
    client = logged_in("alice", "viewer")
    for query, expected, absent in (
        ("chloé", "M-0003", "M-0001"),
        ("m-0002", "Bruno Petit", "Alice Martin"),
        ("evening", "Emma Girard", "Bruno Petit"),
        ("acme", "David Leroy", "Emma Girard"),
    ):
        page = client.get("/members/", {"q": query}).content.decode()
        assert expected in page and absent not in page, query


def test_the_list_pages_through_many_members(console_site: ConsoleSite) -> None:
    from edge.staff import edits

    store = MemberStore(console_site.members_path)
    for n in range(120):
        store.edit(lambda m, n=n: edits.add_member(m, member_id=f"X-{n:03d}", plan="flex", name=f"Extra {n:03d}"))
    client = logged_in("alice", "viewer")
    first = client.get("/members/").content.decode()
    assert "Page 1 sur 3" in first and "Alice Martin" in first and "Extra 119" not in first
    third = client.get("/members/", {"page": 3}).content.decode()
    assert "Extra 119" in third and "Alice Martin" not in third


def test_adding_a_member_shows_the_change_and_the_doors_first_then_saves_it(console_site: ConsoleSite) -> None:
    client = logged_in("alice", "manager")
    version = field_value(client.get("/members/add/"), "based_on")
    form = {"member_id": "M-0100", "name": "Zoé Blanc", "email": "zoe@example.org", "plan": "flex",
            "new_badges": "04:aa:bb:cc", "based_on": version}  # fmt: skip
    preview = client.post("/members/add/", form)
    text = preview.content.decode()
    assert preview.status_code == 200 and "Ce que fait ce changement" in text and "Zoé Blanc" in text
    assert "toutes les portes du site" in text
    assert "M-0100" not in members_of(console_site)  # nothing saved yet
    saved = client.post("/members/add/", {**form, "confirm": "1"})
    assert saved.status_code == 302
    member = members_of(console_site)["M-0100"]
    assert member.name == "Zoé Blanc" and member.email == "zoe@example.org" and member.badges == ("04AABBCC",)
    audit = client.get("/audit/").content.decode()
    assert "A ajouté un membre" in audit and "M-0100" in audit


def test_a_badge_held_by_someone_else_is_refused_naming_the_holder(console_site: ConsoleSite) -> None:
    client = logged_in("alice", "manager")
    version = field_value(client.get("/members/add/"), "based_on")
    page = client.post(
        "/members/add/", {"member_id": "M-0100", "plan": "flex", "new_badges": "DEADBEEF", "based_on": version}
    )
    assert "already belongs to member S-0001" in page.content.decode()
    assert "M-0100" not in members_of(console_site)


def test_an_edit_based_on_an_old_version_is_refused_and_shows_the_current_data(console_site: ConsoleSite) -> None:
    client = logged_in("alice", "manager")
    page = client.get("/members/M-0002/edit/")
    version = field_value(page, "based_on")
    # Meanwhile someone suspends the same member with the command line.
    from edge.staff import edits

    MemberStore(console_site.members_path).edit(lambda m: edits.set_suspended(m, "M-0002", True))
    changed_by_cli = console_site.members_path.read_bytes()
    form = {"name": "Bruno P.", "plan": "flex", "keep_badges": ["5B00A1C2D3"], "based_on": version, "confirm": "1"}
    response = client.post("/members/M-0002/edit/", form)
    assert response.status_code == 409
    text = response.content.decode()
    assert "Quelqu’un d’autre a modifié le fichier des membres" in text and "Bruno Petit" in text
    assert console_site.members_path.read_bytes() == changed_by_cli
    assert members_of(console_site)["M-0002"].suspended


def test_removing_asks_first_and_keeps_the_member_in_the_audit_log(console_site: ConsoleSite) -> None:
    from edge.console.models import AuditEntry

    client = logged_in("alice", "manager")
    confirm = client.get("/members/M-0001/remove/")
    assert "Retirer Alice Martin" in confirm.content.decode()
    assert "M-0001" in members_of(console_site)
    client.post("/members/M-0001/remove/", {"based_on": field_value(confirm, "based_on")})
    assert "M-0001" not in members_of(console_site)
    entry = AuditEntry.objects.get(action="member.remove")
    assert entry.user == "alice" and entry.target == "M-0001"
    assert entry.details["removed"]["name"] == "Alice Martin"
    assert entry.details["removed"]["badges"] == ["04A23B119C8000"]  # recoverable in full


def test_suspending_and_lifting_are_audited(console_site: ConsoleSite) -> None:
    client = logged_in("alice", "manager")
    for action, suspended in (("suspend", True), ("unsuspend", False)):
        page = client.get(f"/members/M-0002/{action}/")
        client.post(f"/members/M-0002/{action}/", {"based_on": field_value(page, "based_on")})
        assert members_of(console_site)["M-0002"].suspended is suspended
    audit = client.get("/audit/").content.decode()
    assert "A suspendu un membre" in audit and "A levé une suspension" in audit


def _upload(client: object, csv_text: str) -> object:
    from django.core.files.uploadedfile import SimpleUploadedFile

    upload = SimpleUploadedFile("export.csv", csv_text.encode(), content_type="text/csv")
    return client.post("/members/import/", {"export": upload, "platform": "nexudus"})  # type: ignore[attr-defined]


def _nexudus_rows(count: int) -> str:
    return "".join(f"N-{n},Person {n},flex,{0xA000 + n:08X},01/09/2026,,,true\n" for n in range(count))


def test_an_import_is_previewed_by_name_then_applied(console_site: ConsoleSite) -> None:
    client = logged_in("alice", "manager")
    preview = _upload(client, NEXUDUS_HEADER + _nexudus_rows(3))
    text = preview.content.decode()
    assert "3 ajoutés" in text and "Person 0" in text and "Person 2" in text
    assert "N-0" not in members_of(console_site)
    form = {name: field_value(preview, name) for name in ("upload", "platform", "based_on", "name")}
    assert client.post("/members/import/confirm/", form).status_code == 302
    imported = members_of(console_site)
    assert {"N-0", "N-1", "N-2"} <= set(imported) and "M-0001" in imported


def test_an_import_with_one_bad_row_changes_nothing(console_site: ConsoleSite) -> None:
    client = logged_in("alice", "manager")
    before = console_site.members_path.read_bytes()
    page = _upload(client, NEXUDUS_HEADER + _nexudus_rows(2) + "N-9,Bad Plan,gold,0000B009,01/09/2026,,,true\n")
    text = page.content.decode()
    assert "n’a pas été importé" in text and "formule inconnue" in text
    assert console_site.members_path.read_bytes() == before


def test_an_import_that_empties_a_platform_needs_the_exact_number_confirmed(console_site: ConsoleSite) -> None:
    client = logged_in("alice", "manager")
    first = _upload(client, NEXUDUS_HEADER + _nexudus_rows(5))
    client.post(
        "/members/import/confirm/", {n: field_value(first, n) for n in ("upload", "platform", "based_on", "name")}
    )
    assert len([i for i in members_of(console_site) if i.startswith("N-")]) == 5
    empty = _upload(client, NEXUDUS_HEADER)
    assert "Cet export retire 5 membres sur 5" in empty.content.decode()
    form = {n: field_value(empty, n) for n in ("upload", "platform", "based_on", "name")}
    refused = client.post("/members/import/confirm/", form, follow=True)
    assert "retire trop de membres" in refused.content.decode()
    assert len([i for i in members_of(console_site) if i.startswith("N-")]) == 5
    wrong = client.post("/members/import/confirm/", {**form, "confirm_removals": "4"}, follow=True)
    assert "retire trop de membres" in wrong.content.decode()
    client.post("/members/import/confirm/", {**form, "confirm_removals": "5"})
    assert not [i for i in members_of(console_site) if i.startswith("N-")]
    from edge.console.models import AuditEntry

    removed = AuditEntry.objects.filter(action="import").order_by("-id").first().details["removed"]
    assert sorted(m["id"] for m in removed) == [f"N-{n}" for n in range(5)]


def test_setting_an_account_s_seats_is_saved_and_audited(console_site: ConsoleSite) -> None:
    client = logged_in("alice", "manager")
    version = field_value(client.get("/plans/"), "based_on")
    client.post("/plans/seats/", {"account": "ACME SARL", "seats": "5", "based_on": version})
    assert load_member_file(console_site.members_path).accounts["ACME SARL"].seats == 5


def test_the_member_file_helper_refuses_a_stale_version(tmp_path: Path) -> None:
    import shutil

    import pytest

    from edge.staff import edits
    from edge.staff.memberstore import MemberFileChanged
    from tests.rig.fixtures import REPO

    path = tmp_path / "members.yaml"
    shutil.copy(REPO / "examples" / "members.yaml", path)
    store = MemberStore(path)
    seen = store.load().version
    store.edit(lambda m: edits.set_suspended(m, "M-0001", True))
    with pytest.raises(MemberFileChanged) as refused:
        store.edit(lambda m: edits.remove_member(m, "M-0002"), based_on=seen)
    assert refused.value.current.version != seen
    assert any(m.id == "M-0002" for m in load_member_file(path).members)
