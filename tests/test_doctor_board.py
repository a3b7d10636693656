"""`edge doctor` names the board from the device tree's model file and says what GPIO libraries it expects there.

The model file is the boundary: each test writes the model a Raspberry Pi's firmware would write (NUL-terminated).
Which libraries are installed in the node's venv is read from its package metadata; the tests say what is installed.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from gpiozero.pins.mock import MockFactory

from edge.doctor.board import check_board
from edge.doctor.checks import Context, check_config
from edge.doctor.report import Result, Status
from edge.doctor.runner import run_checks
from edge.hardware import board as boards
from tests.door_support import door_config, make_site

PI5 = "Raspberry Pi 5 Model B Rev 1.0"
PI4 = "Raspberry Pi 4 Model B Rev 1.4"
MFRC522_NODE = "readers:\n  - {type: mfrc522, name: front, reset_pin: 25}\n"


@pytest.mark.parametrize(
    ("model", "family"),
    [
        (PI5, "pi5"),
        ("Raspberry Pi 500 Rev 1.0", "pi5"),
        ("Raspberry Pi Compute Module 5 Rev 1.0", "pi5"),
        (PI4, "pi4"),
        ("Raspberry Pi 400 Rev 1.0", "pi4"),
        ("Raspberry Pi Compute Module 4 Rev 1.0", "pi4"),
        ("Raspberry Pi 3 Model B Plus Rev 1.3", "pi3"),
        ("Raspberry Pi 3 Model A Plus Rev 1.0", "pi3"),
        ("Raspberry Pi Zero 2 W Rev 1.0", "pi02"),
        ("Raspberry Pi Zero W Rev 1.1", ""),
        ("Raspberry Pi 2 Model B Rev 1.1", ""),
        ("Raspberry Pi Model B Rev 2", ""),
    ],
)
def test_the_board_family_follows_from_the_firmware_model(model: str, family: str) -> None:
    board = boards.board_of(model + "\0")
    assert (board.model, board.family, board.is_pi) == (model, family, True)


@pytest.mark.parametrize(
    ("family", "distribution", "works"),
    [
        ("pi5", "rpi-lgpio", True),
        ("pi5", "RPi.GPIO", False),
        ("pi4", "RPi.GPIO", True),
        ("pi3", "rpi_gpio", True),
        ("pi02", "rpi-lgpio", True),
    ],
)
def test_rpi_lgpio_drives_every_board_and_the_original_rpi_gpio_all_but_the_pi_5(
    family: str, distribution: str, works: bool
) -> None:
    assert boards.Board("Raspberry Pi", family).accepts_gpio_library(distribution) is works


def node(tmp_path: Path, model: str | None, extra: str = MFRC522_NODE, **options: object) -> Context:
    """A node with `extra` sections (a standalone MFRC522 by default) on a board whose firmware names `model`."""
    make_site(tmp_path)
    path = tmp_path / "node.yaml"
    path.write_text(
        f"site: lyon\nnode: pi-1\nstate_dir: {tmp_path / 'state'}\nbadge_key_file: keys/badge.key\n"
        f"mqtt: {{host: 127.0.0.1, port: 1}}\n{extra}"
    )
    return on_board(tmp_path, path, model, **options)


def door(tmp_path: Path, model: str | None, **options: object) -> Context:
    """A door node (relay, no MFRC522) on a board whose firmware names `model`."""
    make_site(tmp_path)
    return on_board(tmp_path, door_config(tmp_path, 1), model, **options)


def on_board(tmp_path: Path, path: Path, model: str | None, **options: object) -> Context:
    model_file = tmp_path / "model"
    if model is not None:
        model_file.write_bytes(model.encode() + b"\0")
    ctx = Context(config_path=path, model_file=model_file, **options)  # type: ignore[arg-type]
    assert [r.status for r in check_config(ctx)] == [Status.OK]
    return ctx


@pytest.fixture
def installed(monkeypatch: pytest.MonkeyPatch) -> dict[str, object]:
    """What the node's venv holds: lgpio, and the distributions providing RPi.GPIO (tests change them)."""
    venv: dict[str, object] = {"lgpio": True, "RPi": [boards.GPIO_SHIM]}
    monkeypatch.setattr(boards, "module_installed", lambda name: bool(venv.get(name)))
    monkeypatch.setattr(boards, "gpio_module_providers", lambda: list(venv["RPi"]))  # type: ignore[call-overload]
    return venv


def statuses(results: list[Result]) -> list[tuple[Status, str]]:
    return [(r.status, r.message) for r in results]


def test_a_pi_5_with_rpi_lgpio_is_named_and_passes(tmp_path: Path, installed: dict[str, object]) -> None:
    results = list(check_board(node(tmp_path, PI5)))
    assert statuses(results) == [
        (
            Status.OK,
            f"{PI5} (Raspberry Pi 5): expects pins through lgpio (the kernel's GPIO device), and RPi.GPIO from "
            "rpi-lgpio for the MFRC522 library",
        ),
        (Status.OK, "RPi.GPIO comes from rpi-lgpio, which works on every supported Pi"),
    ]


def test_the_original_rpi_gpio_on_a_pi_5_fails_and_says_to_replace_it(
    tmp_path: Path, installed: dict[str, object]
) -> None:
    installed["RPi"] = [boards.ORIGINAL_GPIO]
    *_, result = check_board(node(tmp_path, PI5))
    assert result.status is Status.FAIL
    assert "cannot drive a Raspberry Pi 5's pins" in result.message
    assert result.fix.endswith("pip uninstall -y RPi.GPIO && pip install rpi-lgpio")


def test_the_original_rpi_gpio_on_a_pi_4_passes_and_says_it_would_not_on_a_pi_5(
    tmp_path: Path, installed: dict[str, object]
) -> None:
    installed["RPi"] = [boards.ORIGINAL_GPIO]
    *_, result = check_board(node(tmp_path, PI4))
    assert result.status is Status.OK
    assert "works on a Raspberry Pi 4 but not on a Pi 5" in result.message


@pytest.mark.parametrize(
    ("providers", "problem"),
    [
        ([], "no RPi.GPIO module is installed"),
        ([boards.ORIGINAL_GPIO, boards.GPIO_SHIM], "both rpi-gpio and rpi-lgpio are installed"),
    ],
)
def test_an_mfrc522_node_without_exactly_one_rpi_gpio_fails(
    tmp_path: Path, installed: dict[str, object], providers: list[str], problem: str
) -> None:
    installed["RPi"] = providers
    *_, result = check_board(node(tmp_path, PI4))
    assert (result.status, result.message.startswith(problem)) == (Status.FAIL, True)


def test_a_pi_without_lgpio_fails_for_its_pins(tmp_path: Path, installed: dict[str, object]) -> None:
    installed["lgpio"] = False
    results = list(check_board(door(tmp_path, PI5)))
    assert [r.status for r in results] == [Status.OK, Status.FAIL]
    assert results[1].message.startswith("lgpio is not installed")


def test_a_door_without_an_mfrc522_needs_no_rpi_gpio(tmp_path: Path, installed: dict[str, object]) -> None:
    installed["RPi"] = []
    assert [r.status for r in check_board(door(tmp_path, PI5))] == [Status.OK]


@pytest.mark.parametrize("model", ["Raspberry Pi 2 Model B Rev 1.1", "Raspberry Pi Zero W Rev 1.1"])
def test_an_unsupported_pi_fails_naming_the_supported_boards(
    tmp_path: Path, installed: dict[str, object], model: str
) -> None:
    (result,) = check_board(node(tmp_path, model))
    assert result.status is Status.FAIL
    supported = "Raspberry Pi 3, 4, 5 or Zero 2 W, 64-bit Raspberry Pi OS"
    assert result.message == f"{model} is not a board edge supports ({supported})"


def test_off_a_pi_the_board_is_a_warning_unless_the_pins_are_simulated(tmp_path: Path) -> None:
    (real,) = check_board(node(tmp_path, None))
    (simulated,) = check_board(node(tmp_path, None, pin_factory=MockFactory()))
    assert (real.status, simulated.status) == (Status.WARN, Status.OK)
    assert "names no board" in real.message


def test_the_doctor_checks_the_board_of_nodes_with_pins_only(tmp_path: Path) -> None:
    (tmp_path / "door").mkdir()
    a_door = door(tmp_path / "door", PI5, pin_factory=MockFactory(), timeout=0.2)
    hub = node(tmp_path / "hub", PI5, extra="", pin_factory=MockFactory(), timeout=0.2)
    assert "board" in {r.check for r in run_checks(a_door)}
    assert "board" not in {r.check for r in run_checks(hub)}
