"""The audit log keeps what staff need and no more: a removed member is restored from it, badges are masked on the
page, login records go after 90 days and other entries after the audit retention, expired sessions are deleted."""

from __future__ import annotations

import datetime as dt

from edge.staff.memberfile import load_member_file
from tests.console_support import ConsoleSite, field_value, logged_in


def remove(client: object, member_id: str) -> None:
    confirm = client.get(f"/members/{member_id}/remove/")  # type: ignore[attr-defined]
    client.post(f"/members/{member_id}/remove/", {"based_on": field_value(confirm, "based_on")})  # type: ignore[attr-defined]


def test_a_removed_member_is_restored_whole_from_the_audit_log(console_site: ConsoleSite) -> None:
    from edge.console.models import AuditEntry

    before = next(m for m in load_member_file(console_site.members_path).members if m.id == "M-0001")
    client = logged_in("alice", "manager")
    remove(client, "M-0001")
    page = client.get("/audit/").content.decode()
    assert "Rétablir Alice Martin" in page
    assert "04…00" in page and "04A23B119C8000" not in page  # masked on the page, whole in the database
    entry = AuditEntry.objects.get(action="member.remove")
    response = client.post(f"/audit/{entry.id}/restore/", {"member_id": "M-0001"}, follow=True)
    assert "Membre rétabli" in response.content.decode()
    after = next(m for m in load_member_file(console_site.members_path).members if m.id == "M-0001")
    assert after == before
    assert AuditEntry.objects.get(action="member.restore").details["from_entry"] == entry.id
    assert "Rétablir Alice Martin" not in client.get("/audit/").content.decode()  # back: nothing to restore


def test_a_restore_is_refused_when_the_card_was_given_to_someone_else_since(console_site: ConsoleSite) -> None:
    from edge.console.models import AuditEntry

    client = logged_in("alice", "manager")
    remove(client, "M-0001")
    add = client.get("/members/add/")
    form = {"member_id": "M-0099", "name": "Zoé", "plan": "resident", "new_badges": "04:A2:3B:11:9C:80:00",
            "based_on": field_value(add, "based_on"), "confirm": "1"}  # fmt: skip
    client.post("/members/add/", form)
    before = console_site.members_path.read_bytes()
    entry = AuditEntry.objects.get(action="member.remove")
    response = client.post(f"/audit/{entry.id}/restore/", {"member_id": "M-0001"}, follow=True)
    assert "Non rétabli" in response.content.decode() and "M-0099" in response.content.decode()
    assert console_site.members_path.read_bytes() == before


def test_a_viewer_cannot_restore(console_site: ConsoleSite) -> None:
    from edge.console.models import AuditEntry

    remove(logged_in("alice", "manager"), "M-0001")
    viewer = logged_in("victor", "viewer")
    assert "Rétablir" not in viewer.get("/audit/").content.decode()
    entry = AuditEntry.objects.get(action="member.remove")
    assert viewer.post(f"/audit/{entry.id}/restore/", {"member_id": "M-0001"}).status_code == 403


def test_records_are_purged_by_age_login_records_first(console_site: ConsoleSite) -> None:
    from axes.models import AccessAttempt, AccessLog
    from django.contrib.sessions.models import Session
    from django.utils import timezone

    from edge.console.models import AuditEntry
    from edge.console.retention import purge

    logged_in("alice", "manager")  # one live session
    now = timezone.now()
    old_login = AuditEntry.objects.create(user="a", action="login", at=now - dt.timedelta(days=91))
    recent_login = AuditEntry.objects.create(user="a", action="login", at=now - dt.timedelta(days=89))
    year_old_publish = AuditEntry.objects.create(user="a", action="publish", at=now - dt.timedelta(days=400))
    ancient_publish = AuditEntry.objects.create(user="a", action="publish", at=now - dt.timedelta(days=1900))
    for days in (91, 10):
        attempt = AccessAttempt.objects.create(
            username="a", ip_address=f"10.0.0.{days}", user_agent="", failures_since_start=1
        )
        AccessAttempt.objects.filter(pk=attempt.pk).update(attempt_time=now - dt.timedelta(days=days))
        log = AccessLog.objects.create(username="a", ip_address="10.0.0.1", user_agent="")
        AccessLog.objects.filter(pk=log.pk).update(attempt_time=now - dt.timedelta(days=days))
    Session.objects.create(session_key="x" * 32, session_data="", expire_date=now - dt.timedelta(minutes=1))

    done = purge(now, audit_days=1826, login_days=90)

    kept = set(AuditEntry.objects.values_list("id", flat=True))
    assert old_login.id not in kept and ancient_publish.id not in kept
    assert {recent_login.id, year_old_publish.id} <= kept
    assert AccessAttempt.objects.count() == 1 and AccessLog.objects.filter(username="a").count() == 1
    assert not Session.objects.filter(session_key="x" * 32).exists() and Session.objects.count() == 1
    assert (done.audit, done.logins, done.login_attempts, done.sessions) == (1, 1, 2, 1)


def test_login_records_cannot_be_kept_longer_than_90_days(tmp_path: object) -> None:
    import pytest

    from edge.config.console import ConsoleConfig

    fields = {"tls_cert_file": "c", "tls_key_file": "k", "members_file": "m", "snapshot_signing_key_file": "s"}
    with pytest.raises(ValueError, match="login_record_days"):
        ConsoleConfig.model_validate({**fields, "login_record_days": 91})
    assert ConsoleConfig.model_validate(fields).audit_log_days == 1826
