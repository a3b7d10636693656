"""The staff console's pages through Django's test client: login, French by default, every page renders."""

from __future__ import annotations

from tests.console_support import ConsoleSite, logged_in


def test_the_login_page_is_in_french_by_default(console_site: ConsoleSite) -> None:
    from django.test import Client

    response = Client(HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9").get("/login/")
    assert response.status_code == 200
    assert "Connexion à la console" in response.content.decode()


def test_a_manager_sees_the_member_list(console_site: ConsoleSite) -> None:
    client = logged_in("alice", "manager")
    response = client.get("/members/")
    assert response.status_code == 200, response.content[:2000]
    assert "Alice Martin" in response.content.decode()
