"""The staff console in a real browser (Debian's Chromium driven by Playwright) against the real stack: Mosquitto,
`edge door --simulate` with a pty reader, `edge presence --simulate` with seat switches, `edge collector`, and
`edge console` serving HTTPS with its certificate — all real processes.

A community manager logs in (the console speaks French to an English browser), enrols a card by tapping it on the
door's reader, publishes, and the door grants the card; suspends the member, publishes, and the door refuses it
while the Today page — never reloaded — shows the door's new version; imports an export and sees the preview;
sends a lockdown and sees the door's mode change. A viewer can do none of it (no buttons, and direct POSTs are
refused), and a form sent without its CSRF token is refused.

With EDGE_DOCS_SCREENSHOTS=1 the tests also write the French screenshots of docs/console.md (docs/img/console-*.png).
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from edge.console.certificate import write_self_signed
from edge.hardware.sim.pinbridge import PinBridgeClient
from edge.hardware.sim.serial_devices import Rdm6300Sim
from tests.console_support import PASSWORD, console_config
from tests.door_site import Site
from tests.door_support import RESIDENT, UNKNOWN
from tests.rig.fixtures import REPO, run_edge
from tests.rig.process import EdgeProcess
from tests.rig.servers import Mosquitto
from tests.rig.waiting import wait_until

pytestmark = pytest.mark.slow
playwright_api = pytest.importorskip("playwright.sync_api")
expect = playwright_api.expect

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking",
    "--disable-component-update", "--no-first-run", "--disable-sync",
]  # fmt: skip
SCREENSHOTS = os.environ.get("EDGE_DOCS_SCREENSHOTS", "") not in ("", "0")
DOCS_IMG = REPO / "docs" / "img"
WAIT_MS = 30_000

MEMBERS = f"""\
site: lyon
timezone: Europe/Paris
plans:
  resident: {{description: Poste fixe, schedule: always}}
  flex: {{description: Nomade, schedule: "mon-fri 08:00-19:00"}}
  staff: {{schedule: always}}
accounts:
  ACME SARL: {{seats: 2}}
members:
  - {{id: M-0001, name: Camille Durand, email: camille@example.org, plan: resident, badges: ["{RESIDENT}"]}}
  - {{id: M-0002, name: Hugo Bernard, email: hugo@example.org, plan: flex, badges: ["0A1B2C3E"]}}
  - {{id: M-0003, name: Léa Moreau, plan: flex, account: ACME SARL, badges: ["0A1B2C40"]}}
  - {{id: M-0004, name: Nathan Petit, plan: resident, valid_until: 2027-06-30}}
  - {{id: S-0001, name: Accueil, plan: staff, staff: true, badges: ["1122334455"]}}
"""
DESKS = [("ouvert-01", "open-space", 17), ("ouvert-02", "open-space", 18), ("ouvert-03", "open-space", 19),
         ("ouvert-04", "open-space", 20), ("calme-01", "salle-calme", 21), ("calme-02", "salle-calme", 22)]  # fmt: skip
SEATED = ("ouvert-01", "ouvert-03", "calme-02")
EXPORT = (
    "member_id,name,plan,badges,valid_from,valid_until,account,suspended,staff\n"
    "G-100,Inès Garnier,flex,04AA0001,2026-12-01,,,non,non\n"
    "G-101,Jules Faure,resident,04AA0002,,,,non,non\n"
)


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Stack:
    """The processes of the site and where the console answers."""

    folder: Path
    site: Site
    reader: Rdm6300Sim
    base: str
    desks: PinBridgeClient

    @property
    def members_file(self) -> Path:
        return self.folder / "members.yaml"


def _presence_config(folder: Path, port: int) -> Path:
    desks = "".join(
        f"    - {{name: {name}, zone: {zone}, sensors: [{{type: seat, pin: {pin}}}]}}\n" for name, zone, pin in DESKS
    )
    path = folder / "desks.yaml"
    path.write_text(
        f"""site: lyon
node: pi-desks
state_dir: {folder / "desks-state"}
status_interval_s: 0.5
mqtt: {{host: 127.0.0.1, port: {port}, reconnect_min_s: 0.2, reconnect_max_s: 1}}
presence:
  heartbeat_s: 3600
  hysteresis:
    seat: {{enter_s: 0, release_s: 0}}
  zones: [{{name: open-space}}, {{name: salle-calme}}]
  desks:
{desks}"""
    )
    return path


def _collector_config(folder: Path, port: int) -> Path:
    path = folder / "collector.yaml"
    path.write_text(
        f"""site: lyon
node: collector
state_dir: {folder / "collector-state"}
status_interval_s: 0.5
mqtt: {{host: 127.0.0.1, port: {port}, reconnect_min_s: 0.2, reconnect_max_s: 1}}
collector: {{store_path: {folder / "collector.sqlite3"}}}
"""
    )
    return path


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """One site for the whole module: broker, door, desks, collector and the console over HTTPS."""
    folder = tmp_path_factory.mktemp("browser")
    broker = Mosquitto(folder / "mosquitto")
    broker.start()
    reader = Rdm6300Sim()
    site = Site(folder, broker, reader, member_file=MEMBERS)
    write_self_signed(folder / "cert.pem", folder / "key.pem", ["127.0.0.1"])
    port = free_port()
    config = console_config(folder, port=broker.port, site="lyon",
                            console_extra=f"  listen: 127.0.0.1\n  port: {port}\n")  # fmt: skip
    for user, role in (("camille", "manager"), ("victor", "viewer")):
        created = run_edge("console", "-c", str(config), "create-user", user, "--role", role, "--password-stdin",
                           input_text=PASSWORD + "\n")  # fmt: skip
        assert created.returncode == 0, created.stderr
    daemons = [
        EdgeProcess("collector", "-c", str(_collector_config(folder, broker.port)), log=folder / "collector.log"),
        EdgeProcess(
            "presence",
            "-c",
            str(_presence_config(folder, broker.port)),
            "--simulate",
            str(folder / "sim"),
            log=folder / "desks.log",
        ),
        EdgeProcess("console", "-c", str(config), log=folder / "console.log"),
    ]
    desks: PinBridgeClient | None = None
    try:
        site.start_door()
        assert site.pins is not None
        site.pins.drive(27, 0)  # the door contact: the door is shut
        for daemon in daemons:
            daemon.start()
        for daemon in daemons:
            daemon.wait_ready(timeout=90)
        bridge = folder / "sim" / "pi-desks.pins"
        wait_until(bridge.exists, timeout=30, what="the desks' pin bridge")
        desks = PinBridgeClient(bridge)
        for name, _zone, pin in DESKS:
            desks.drive(pin, 0 if name in SEATED else 1)  # a seat switch pulls its pin low when someone sits
        yield Stack(folder, site, reader, f"https://127.0.0.1:{port}", desks)
    finally:
        if desks is not None:
            desks.close()
        started = [daemon for daemon in daemons if daemon.proc is not None]
        for daemon in started:
            daemon.terminate()  # all at once, then each awaited: the stack stops in one SIGTERM's time
        try:
            for daemon in started:
                daemon.stop(15)  # fails the module if one does not stop: a unit would be killed by systemd
        finally:
            site.close()
            reader.close()
            broker.kill()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Debian's Chromium, headless, driven by Playwright (never a downloaded browser)."""
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: run ./tools/setup.sh (apt-get install chromium)")
    expect.set_options(timeout=WAIT_MS)
    with playwright_api.sync_playwright() as pw:
        launched = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield launched
        launched.close()


@pytest.fixture
def context(browser: Any) -> Iterator[Any]:
    """A fresh browser profile set to English, as on a shared laptop: the console must still speak French."""
    ctx = browser.new_context(ignore_https_errors=True, locale="en-US", viewport={"width": 1280, "height": 860})
    ctx.set_default_timeout(WAIT_MS)
    yield ctx
    ctx.close()


def log_in(context: Any, stack: Stack, user: str) -> Any:
    page = context.new_page()
    page.goto(f"{stack.base}/login/")
    page.get_by_label("Nom d’utilisateur").fill(user)
    page.get_by_label("Mot de passe").fill(PASSWORD)
    page.get_by_role("button", name="Se connecter").click()
    expect(page.locator("h1")).to_contain_text("Aujourd’hui")
    return page


def shot(page: Any, name: str) -> None:
    """A screenshot for docs/console.md, only when asked for (CI must not dirty the tree)."""
    if SCREENSHOTS:
        DOCS_IMG.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(DOCS_IMG / f"console-{name}.png"), full_page=True)


def publish(page: Any, stack: Stack) -> int:
    """Publish from the console and wait, on the doors page, until every door has the new version."""
    page.goto(f"{stack.base}/doors/publish/")
    page.get_by_role("button", name="Publier", exact=True).click()
    progress = page.locator("#publish-progress")
    expect(progress).to_contain_text("Toutes les portes l’ont")
    found = re.search(r"Dernière version publiée : (\d+)", progress.inner_text())
    assert found is not None
    return int(found.group(1))


def door_cell(page: Any, field: str) -> Any:
    return page.locator(f'#doors-today tr[data-door="front"] [data-field="{field}"]')


def csrf_token(context: Any) -> str:
    return next(c["value"] for c in context.cookies() if c["name"] == "csrftoken")


# --- the tests, in the order a community manager meets them --------------------------------------------------


def test_the_login_page_is_in_french_for_an_english_browser(context: Any, stack: Stack) -> None:
    page = context.new_page()
    page.goto(f"{stack.base}/")
    expect(page).to_have_url(re.compile(r"/login/\?next=/$"))  # nothing but the login page without a session
    expect(page.locator("h1")).to_have_text("Connexion à la console de l’équipe")
    assert page.locator("html").get_attribute("lang") == "fr"
    shot(page, "login")


def test_a_card_enrolled_by_tapping_it_opens_the_door_until_its_member_is_suspended(context: Any, stack: Stack) -> None:
    page = log_in(context, stack, "camille")
    today = context.new_page()
    today.goto(f"{stack.base}/")
    today.evaluate("window.edgeNeverReloaded = true")
    expect(today.locator('#today-occupancy [data-zone="open-space"]')).to_contain_text("2 postes occupés")

    # Enrol: Camille's member page, "enrol by tapping", the card is tapped on the door's reader.
    page.goto(f"{stack.base}/members/M-0004/")
    page.get_by_role("link", name="Enregistrer un badge en le présentant").click()
    expect(page.locator("#enrol-cards")).to_contain_text("En attente d’une carte")
    stack.reader.send_card(UNKNOWN)
    row = page.locator("#cards tbody tr").first
    expect(row).to_contain_text("nouvelle carte")
    expect(row).to_contain_text("porte front, lecteur inside")
    shot(page, "enrol")
    give = page.get_by_role("button", name="Attribuer cette carte à Nathan Petit")
    # The live list does not replace an unchanged row: the button stays the one the pointer is on.
    give.evaluate("button => { button.dataset.seen = '1'; }")
    polls = int(page.locator("[data-live-url]").get_attribute("data-polls") or "0")
    page.wait_for_function("n => Number(document.querySelector('[data-live-url]').dataset.polls) >= n", arg=polls + 2)
    expect(page.locator("#cards button[data-seen]")).to_have_count(1)
    give.click()
    expect(page.locator(".flash")).to_contain_text("Badge attribué à Nathan Petit")
    assert UNKNOWN not in stack.members_file.read_text()  # held by its badge token, never by its UID
    shot(page, "member")

    first = publish(page, stack)
    shot(page, "doors")
    expect(door_cell(today, "version")).to_have_text(str(first))
    stack.reader.send_card(UNKNOWN)
    wait_until(lambda: not stack.site.relay_locked(), timeout=30, what="the door to unlock for the enrolled card")
    decisions = today.locator("#decisions tbody tr").first
    expect(decisions).to_contain_text("Nathan Petit")
    expect(decisions).to_contain_text("accordé")
    shot(today, "today")

    # Suspend Nathan, publish: the door refuses the card, and the Today page follows without a reload.
    page.goto(f"{stack.base}/members/M-0004/")
    page.get_by_role("link", name="Suspendre").click()
    page.get_by_role("button", name="Confirmer").click()
    expect(page.locator(".flash")).to_contain_text("Membre suspendu")
    second = publish(page, stack)
    assert second > first
    expect(door_cell(today, "version")).to_have_text(str(second))
    wait_until(stack.site.relay_locked, timeout=30, what="the door to lock again")
    stack.reader.send_card(UNKNOWN)
    expect(decisions).to_contain_text("suspendu")
    assert stack.site.relay_locked()
    assert today.evaluate("window.edgeNeverReloaded") is True


def test_an_export_is_previewed_by_name_before_anything_changes(context: Any, stack: Stack) -> None:
    page = log_in(context, stack, "camille")
    before = stack.members_file.read_bytes()
    page.goto(f"{stack.base}/members/import/")
    page.set_input_files('input[name="export"]', files=[
        {"name": "export.csv", "mimeType": "text/csv", "buffer": EXPORT.encode()}])  # fmt: skip
    page.get_by_label("Plateforme").select_option("generic")
    page.get_by_role("button", name="Voir ce que cela change").click()
    preview = page.locator("#import-preview")
    expect(preview).to_contain_text("2 ajoutés")
    expect(preview).to_contain_text("Inès Garnier")
    expect(preview).to_contain_text("Jules Faure")
    shot(page, "import")
    assert stack.members_file.read_bytes() == before  # a preview changes nothing


def test_a_lockdown_sent_from_the_console_shows_on_the_today_page(context: Any, stack: Stack) -> None:
    page = log_in(context, stack, "camille")
    today = context.new_page()
    today.goto(f"{stack.base}/")
    expect(door_cell(today, "mode")).to_contain_text("normal")
    page.goto(f"{stack.base}/doors/")
    page.locator('#doors tr[data-door="front"]').get_by_role("link", name="Confinement").click()
    expect(page.locator("h1")).to_contain_text("Confinement à la porte front")
    shot(page, "command")
    page.get_by_role("button", name="Envoyer").click()
    expect(door_cell(today, "mode")).to_contain_text("confinement")
    page.goto(f"{stack.base}/doors/front/normal/")
    page.get_by_role("button", name="Envoyer").click()
    expect(door_cell(today, "mode")).to_contain_text("normal")
    page.goto(f"{stack.base}/log/")
    expect(page.locator("main table")).to_contain_text("Nathan Petit")
    shot(page, "door-log")
    page.goto(f"{stack.base}/audit/")
    expect(page.locator("main table")).to_contain_text("A envoyé une commande de porte")
    shot(page, "audit")
    page.goto(f"{stack.base}/members/")
    shot(page, "members")


def test_a_viewer_sees_no_button_and_every_direct_post_is_refused(context: Any, stack: Stack) -> None:
    page = log_in(context, stack, "victor")
    page.goto(f"{stack.base}/members/M-0001/")
    expect(page.locator("h1")).to_contain_text("Camille Durand")
    for label in ("Modifier", "Suspendre", "Retirer", "Enregistrer un badge en le présentant"):
        expect(page.get_by_role("link", name=label)).to_have_count(0)
    page.goto(f"{stack.base}/doors/")
    expect(page.locator("#doors")).to_contain_text("front")
    expect(page.get_by_role("link", name="Publier les membres vers les portes")).to_have_count(0)
    expect(page.get_by_role("link", name="Confinement")).to_have_count(0)
    before = stack.members_file.read_bytes()
    token, referer = csrf_token(context), f"{stack.base}/doors/"
    for url, form in (
        ("/doors/publish/", {}),
        ("/doors/front/lockdown/", {}),
        ("/members/M-0001/suspend/", {"based_on": "x"}),
        ("/members/M-0001/enrol/", {"presentation": "x"}),
        ("/members/add/", {"member_id": "X-1", "plan": "flex", "based_on": "x"}),
        ("/staff/add/", {"username": "mallory", "role": "manager"}),
    ):
        response = context.request.post(f"{stack.base}{url}", form={**form, "csrfmiddlewaretoken": token},
                                         headers={"Referer": referer}, max_redirects=0)  # fmt: skip
        assert response.status == 403, url
        assert "Non autorisé" in response.text(), url
    assert stack.members_file.read_bytes() == before
    expect(page.locator("#doors")).to_contain_text("normal")


def test_a_form_sent_without_its_csrf_token_is_refused(context: Any, stack: Stack) -> None:
    page = log_in(context, stack, "camille")
    page.goto(f"{stack.base}/members/M-0002/suspend/")
    based_on = page.locator('input[name="based_on"]').input_value()
    before = stack.members_file.read_bytes()
    response = context.request.post(f"{stack.base}/members/M-0002/suspend/", form={"based_on": based_on},
                                    headers={"Referer": page.url}, max_redirects=0)  # fmt: skip
    assert response.status == 403
    assert "Le formulaire a été refusé" in response.text()
    assert stack.members_file.read_bytes() == before
    # The same form, sent by the page itself (with its token), goes through.
    page.get_by_role("button", name="Confirmer").click()
    expect(page.locator(".flash")).to_contain_text("Membre suspendu")
