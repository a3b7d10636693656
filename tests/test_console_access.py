"""Who may reach what: nothing but the login page without a session, viewers read but never change, every POST
needs its CSRF token, login attempts are rate-limited, sessions end, and the security headers are sent."""

from __future__ import annotations

import time

import pytest

from tests.console_support import PASSWORD, ConsoleSite, field_value, logged_in, make_user

READ_PAGES = [
    "/",
    "/members/",
    "/members/?q=martin&status=active",
    "/members/M-0001/",
    "/plans/",
    "/doors/",
    "/log/",
    "/log/export.csv",
    "/report/",
    "/audit/",
    "/password/",
    "/today/live.json",
    "/doors/live.json",
]
# Every page that leads to a change, with the method that changes something; a viewer gets 403 on each.
MANAGER_PAGES = [
    ("get", "/members/add/"),
    ("post", "/members/add/"),
    ("get", "/members/M-0001/edit/"),
    ("post", "/members/M-0001/edit/"),
    ("get", "/members/M-0001/suspend/"),
    ("post", "/members/M-0001/suspend/"),
    ("get", "/members/M-0005/unsuspend/"),
    ("post", "/members/M-0005/unsuspend/"),
    ("get", "/members/M-0001/remove/"),
    ("post", "/members/M-0001/remove/"),
    ("get", "/members/M-0001/enrol/"),
    ("post", "/members/M-0001/enrol/"),
    ("get", "/members/M-0001/enrol/live.json"),
    ("get", "/members/import/"),
    ("post", "/members/import/"),
    ("post", "/members/import/confirm/"),
    ("post", "/plans/seats/"),
    ("get", "/doors/publish/"),
    ("post", "/doors/publish/"),
    ("get", "/doors/front/lockdown/"),
    ("post", "/doors/front/lockdown/"),
    ("post", "/doors/front/unlock_once/"),
    ("post", "/doors/front/normal/"),
    ("post", "/doors/front/unlocked/"),
    ("get", "/staff/"),
    ("get", "/staff/add/"),
    ("post", "/staff/add/"),
    ("get", "/staff/1/"),
    ("post", "/staff/1/"),
    ("get", "/staff/1/password/"),
    ("post", "/staff/1/password/"),
]


@pytest.mark.parametrize("url", READ_PAGES + sorted({u for _m, u in MANAGER_PAGES}))
def test_without_a_session_every_page_leads_to_the_login_page(console_site: ConsoleSite, url: str) -> None:
    from django.test import Client

    client = Client()
    for method in ("get", "post"):
        response = getattr(client, method)(url)
        assert response.status_code == 302, (method, url)
        assert response["Location"].startswith("/login/?next="), (method, url)


@pytest.mark.parametrize("url", READ_PAGES)
def test_a_viewer_reads_every_page(console_site: ConsoleSite, url: str) -> None:
    client = logged_in("victor", "viewer")
    assert client.get(url, follow=True).status_code == 200


@pytest.mark.parametrize(("method", "url"), MANAGER_PAGES)
def test_a_viewer_is_refused_every_page_that_changes_something(
    console_site: ConsoleSite, method: str, url: str
) -> None:
    before = console_site.members_path.read_bytes()
    client = logged_in("victor", "viewer")
    response = getattr(client, method)(url, {"based_on": "x", "confirm": "1"})
    assert response.status_code == 403, (method, url)
    assert "Non autorisé" in response.content.decode()
    assert console_site.members_path.read_bytes() == before


def test_a_post_without_its_csrf_token_is_refused(console_site: ConsoleSite) -> None:
    client = logged_in("alice", "manager", enforce_csrf_checks=True)
    version = field_value(client.get("/members/M-0001/suspend/"), "based_on")
    before = console_site.members_path.read_bytes()
    response = client.post("/members/M-0001/suspend/", {"based_on": version})
    assert response.status_code == 403
    assert console_site.members_path.read_bytes() == before


def test_a_post_with_its_csrf_token_goes_through(console_site: ConsoleSite) -> None:
    client = logged_in("alice", "manager", enforce_csrf_checks=True)
    page = client.get("/members/M-0001/suspend/")
    token = page.cookies["csrftoken"].value
    version = field_value(page, "based_on")
    response = client.post("/members/M-0001/suspend/", {"based_on": version, "csrfmiddlewaretoken": token})
    assert response.status_code == 302
    assert "suspended: true" in console_site.members_path.read_text().split("M-0001")[1].split("- id:")[0]


def test_the_login_itself_needs_its_csrf_token(console_site: ConsoleSite) -> None:
    from django.test import Client

    make_user("alice", "manager")
    response = Client(enforce_csrf_checks=True).post("/login/", {"username": "alice", "password": PASSWORD})
    assert response.status_code == 403


def test_logins_are_locked_after_too_many_failures_for_that_user_and_address(console_site: ConsoleSite) -> None:
    from django.test import Client

    make_user("alice", "manager")
    client = Client()
    for _ in range(2):
        assert client.post("/login/", {"username": "alice", "password": "wrong"}).status_code == 200
    locked = client.post("/login/", {"username": "alice", "password": "wrong"})
    assert locked.status_code == 429
    assert "Trop de tentatives" in locked.content.decode()
    # Even the right password is refused now, from that address.
    assert client.post("/login/", {"username": "alice", "password": PASSWORD}).status_code == 429
    # Another address is not locked out.
    other = Client(REMOTE_ADDR="10.0.0.9")
    assert other.post("/login/", {"username": "alice", "password": PASSWORD}).status_code == 302


def test_a_session_ends_after_its_absolute_lifetime(console_site: ConsoleSite) -> None:
    from edge.console.settings import SESSION_STARTED

    client = logged_in("alice", "manager")
    assert client.get("/members/").status_code == 200
    session = client.session
    session[SESSION_STARTED] = time.time() - 13 * 3600
    session.save()
    response = client.get("/members/")
    assert response.status_code == 302 and response["Location"].startswith("/login/")


def test_a_session_is_renewed_on_each_request_and_expires_when_idle(console_site: ConsoleSite) -> None:
    from django.conf import settings

    client = logged_in("alice", "manager")
    client.get("/members/")
    cookie = client.cookies[settings.SESSION_COOKIE_NAME]
    assert settings.SESSION_SAVE_EVERY_REQUEST and settings.SESSION_COOKIE_AGE == 30 * 60
    assert cookie["secure"] and cookie["httponly"] and cookie["samesite"] == "Strict"
    session = client.session
    session.set_expiry(-1)  # as if the idle time had passed
    session.save()
    response = client.get("/members/")
    assert response.status_code == 302 and response["Location"].startswith("/login/")


def test_a_live_page_polling_does_not_keep_an_idle_session_alive(console_site: ConsoleSite) -> None:
    from django.contrib.sessions.models import Session

    client = logged_in("alice", "manager")
    key = client.session.session_key
    expiry = Session.objects.get(session_key=key).expire_date
    time.sleep(0.01)
    for _ in range(3):
        assert client.get("/today/live.json").status_code == 200
    assert Session.objects.get(session_key=key).expire_date == expiry
    # A page staff asked for does renew it.
    client.get("/members/")
    assert Session.objects.get(session_key=key).expire_date > expiry


def test_pages_carry_the_security_headers(console_site: ConsoleSite) -> None:
    from django.test import Client

    response = Client().get("/login/", secure=True)
    csp = response["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "'unsafe-inline'" not in csp and "frame-ancestors 'none'" in csp
    assert response["X-Frame-Options"] == "DENY"
    assert response["Strict-Transport-Security"].startswith("max-age=31536000")
    assert response["X-Content-Type-Options"] == "nosniff"


def test_static_files_are_served_by_the_console(console_site: ConsoleSite) -> None:
    from django.test import Client

    response = Client().get("/static/console/console.css")
    assert response.status_code == 200
    assert b"--accent" in b"".join(response.streaming_content)


def test_the_language_can_be_switched_to_english_from_the_login_page(console_site: ConsoleSite) -> None:
    from django.test import Client

    client = Client()
    assert client.post("/language/", {"language": "en", "next": "/login/"}).status_code == 302
    assert "Log in to the staff console" in client.get("/login/").content.decode()
