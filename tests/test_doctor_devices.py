"""`edge doctor`'s device checks against simulated hardware: pty readers and radars, the register-level MFRC522,
MockFactory pins for the door, real firmware config files and signed snapshots."""

from __future__ import annotations

import json
import os
import pwd
import threading
from collections.abc import Callable, Iterator
from itertools import groupby
from pathlib import Path

import pytest
from gpiozero.pins.mock import MockFactory, MockPin

from edge.doctor.checks import Context, check_config
from edge.doctor.device_files import check_device_files
from edge.doctor.doors import check_doors
from edge.doctor.firmware import check_firmware_config, firmware_needs
from edge.doctor.readers import check_readers
from edge.doctor.report import Result, Status
from edge.doctor.runner import run_checks
from edge.doctor.sensors import check_sensors
from edge.doctor.snapshot import check_snapshot
from edge.door.floor import VersionFloor, save_floor
from edge.door.sim import SimulatedDoor
from edge.hardware.sim import gpio_standin
from edge.hardware.sim.ld2410 import RadarSimulator, someone
from edge.hardware.sim.mfrc522_sim import Mfrc522Sim
from edge.hardware.sim.serial_devices import Rdm6300Sim
from edge.hardware.sim.wiegand_sim import WiegandSim
from edge.hardware.wiegand import encode_wiegand
from tests.door_support import door_config, make_site, signed_snapshot
from tests.rig.fixtures import run_edge
from tests.rig.servers import Mosquitto

TAG = "0A1B2C3D4E"
PRESENCE = """presence:
  zones: [{{name: open}}]
  desks:
    - {{name: d1, zone: open, sensors: [{sensors}]}}
"""


def load(path: Path, **options: object) -> Context:
    """A context with the config at `path` loaded (as the runner's first check does)."""
    ctx = Context(config_path=path, **options)  # type: ignore[arg-type]
    assert [r.status for r in check_config(ctx)] == [Status.OK]
    return ctx


def node(tmp_path: Path, extra: str = "") -> Path:
    """A node without doors; `extra` adds sections."""
    path = tmp_path / "node.yaml"
    make_site(tmp_path)
    path.write_text(
        f"site: lyon\nnode: pi-1\nstate_dir: {tmp_path / 'state'}\nbadge_key_file: keys/badge.key\n"
        f"mqtt: {{host: 127.0.0.1, port: 1}}\n{extra}"
    )
    return path


def by_check(results: list[Result]) -> dict[str, Result]:
    return {r.check: r for r in results}


def repeat_writes(write: Callable[[], None], stop: threading.Event) -> None:
    """Keep a simulated device sending (bytes written before the reader opens the port are lost)."""

    def loop() -> None:
        while not stop.wait(0.05):
            try:
                write()
            except OSError:
                return

    threading.Thread(target=loop, daemon=True).start()


@pytest.fixture
def rdm(tmp_path: Path) -> Iterator[Rdm6300Sim]:
    with Rdm6300Sim(tmp_path / "edge-reader-front") as sim:
        yield sim


@pytest.fixture
def stop() -> Iterator[threading.Event]:
    event = threading.Event()
    yield event
    event.set()


# -- firmware config --------------------------------------------------------------------------------------------

MFRC522_DOOR = "    readers:\n      - reader: {type: mfrc522, name: front-in}\n"


RELAY_AT_BOOT = "gpio=5=op,dh"  # the test door: fail-safe maglock through NC on an active-low board, GPIO 5


@pytest.mark.parametrize(
    ("readers", "model", "expected"),
    [
        ("", "", {"dtparam=watchdog=on", "dtparam=strict_gpiod", RELAY_AT_BOOT}),
        (MFRC522_DOOR, "", {"dtparam=watchdog=on", "dtparam=strict_gpiod", RELAY_AT_BOOT, "dtparam=spi=on"}),
        (
            "    readers:\n      - reader: {type: rdm6300, name: front-in, port: /dev/ttyAMA0}\n",
            "Raspberry Pi 4 Model B Rev 1.4",
            {"dtparam=watchdog=on", "dtparam=strict_gpiod", RELAY_AT_BOOT, "enable_uart=1", "dtoverlay=disable-bt"},
        ),
        (
            "    readers:\n      - reader: {type: rdm6300, name: front-in, port: /dev/serial0}\n",
            "Raspberry Pi 5 Model B Rev 1.0",
            {"dtparam=watchdog=on", "dtparam=strict_gpiod", RELAY_AT_BOOT, "enable_uart=1", "dtoverlay=uart0-pi5"},
        ),
        (
            "    readers:\n      - reader: {type: rdm6300, name: front-in, port: /dev/ttyUSB0}\n",
            "Raspberry Pi 4 Model B Rev 1.4",
            {"dtparam=watchdog=on", "dtparam=strict_gpiod", RELAY_AT_BOOT},
        ),
    ],
    ids=["door", "mfrc522", "uart-pi4", "uart-pi5", "usb-serial"],
)
def test_the_firmware_lines_follow_from_the_hardware_in_the_config(tmp_path, readers, model, expected):
    make_site(tmp_path)
    ctx = load(door_config(tmp_path, 1, readers=readers))
    assert ctx.config is not None
    needs = firmware_needs(ctx.config, model)
    assert {line for need in needs for line in need.lines} == expected


def test_a_firmware_config_with_every_needed_line_passes(tmp_path):
    make_site(tmp_path)
    boot = tmp_path / "config.txt"
    boot.write_text("[all]\ndtparam=watchdog=on\ngpio=5=op,dh\ndtparam=strict_gpiod\ndtparam=spi=on\n")
    ctx = load(door_config(tmp_path, 1, readers=MFRC522_DOOR), boot_config=boot)
    results = list(check_firmware_config(ctx))
    assert len(results) == 4
    assert all(r.status is Status.OK for r in results)


def test_a_door_relay_without_its_boot_line_fails_and_says_which_line(tmp_path):
    make_site(tmp_path)
    boot = tmp_path / "config.txt"
    boot.write_text("[all]\ndtparam=watchdog=on\ndtparam=strict_gpiod\n")
    ctx = load(door_config(tmp_path, 1), boot_config=boot)
    failed = [r for r in check_firmware_config(ctx) if r.status is Status.FAIL]
    assert len(failed) == 1
    assert "gpio=5=op,dh is missing" in failed[0].message and "locked level from power-on" in failed[0].message
    assert "add `gpio=5=op,dh`" in failed[0].fix


def test_a_missing_spi_line_fails_and_says_what_to_add(tmp_path):
    make_site(tmp_path)
    boot = tmp_path / "config.txt"
    boot.write_text("[all]\ndtparam=watchdog=on\ngpio=5=op,dh\ndtparam=strict_gpiod\n")
    ctx = load(door_config(tmp_path, 1, readers=MFRC522_DOOR), boot_config=boot)
    failed = [r for r in check_firmware_config(ctx) if r.status is Status.FAIL]
    assert len(failed) == 1
    assert "dtparam=spi=on is missing" in failed[0].message
    assert "MFRC522 reader front-in" in failed[0].message
    assert "add `dtparam=spi=on`" in failed[0].fix and "reboot" in failed[0].fix


def test_the_kernel_option_stands_in_for_strict_gpiod(tmp_path):
    make_site(tmp_path)
    (tmp_path / "config.txt").write_text("dtparam=watchdog=on\ngpio=5=op,dh\n")
    (tmp_path / "cmdline.txt").write_text("console=tty1 root=PARTUUID=1 pinctrl_bcm2835.persist_gpio_outputs=n\n")
    ctx = load(door_config(tmp_path, 1), boot_config=tmp_path / "config.txt")
    assert all(r.status is Status.OK for r in check_firmware_config(ctx))


def test_a_serial_console_on_the_readers_uart_fails(tmp_path):
    make_site(tmp_path)
    (tmp_path / "config.txt").write_text("dtparam=watchdog=on\ngpio=5=op,dh\ndtparam=strict_gpiod\nenable_uart=1\n")
    (tmp_path / "cmdline.txt").write_text("console=serial0,115200 console=tty1 root=PARTUUID=1\n")
    readers = "    readers:\n      - reader: {type: rdm6300, name: front-in, port: /dev/ttyAMA0}\n"
    ctx = load(door_config(tmp_path, 1, readers=readers), boot_config=tmp_path / "config.txt")
    failed = [r for r in check_firmware_config(ctx) if r.status is Status.FAIL]
    assert len(failed) == 1
    assert "serial login console" in failed[0].message
    assert "console=serial0" in failed[0].fix


@pytest.mark.parametrize(
    ("target", "model", "warning"),
    [
        ("/dev/ttyS0", "Raspberry Pi 4 Model B Rev 1.4", "is the mini UART (ttyS0)"),
        ("/dev/ttyAMA10", "Raspberry Pi 5 Model B Rev 1.0", "is the Pi 5's debug header (ttyAMA10)"),
    ],
)
def test_a_udev_name_pointing_at_the_wrong_uart_is_a_warning(tmp_path, target, model, warning):
    make_site(tmp_path)
    link = tmp_path / "edge-reader-front"
    link.symlink_to(target)
    (tmp_path / "model").write_bytes(model.encode() + b"\0")
    readers = f"    readers:\n      - reader: {{type: rdm6300, name: front-in, port: {link}}}\n"
    boot = tmp_path / "config.txt"
    boot.write_text(
        "dtparam=watchdog=on\ngpio=5=op,dh\ndtparam=strict_gpiod\nenable_uart=1\ndtoverlay=disable-bt\ndtoverlay=uart0-pi5\n"
    )
    ctx = load(door_config(tmp_path, 1, readers=readers), model_file=tmp_path / "model", boot_config=boot)
    warnings = [r for r in check_firmware_config(ctx) if r.status is not Status.OK]
    assert [w.status for w in warnings] == [Status.WARN]
    assert warnings[0].message.startswith(f"{link} {warning}")
    assert "/dev/ttyAMA0" in warnings[0].fix


# -- device files -------------------------------------------------------------------------------------------------


def test_a_missing_serial_port_fails_and_points_at_the_udev_rule(tmp_path):
    ctx = load(node(tmp_path, f"readers:\n  - {{type: rdm6300, name: front, port: {tmp_path / 'edge-gone'}}}\n"))
    (result,) = list(check_device_files(ctx))
    assert result.status is Status.FAIL
    assert "does not exist" in result.message
    assert "udev rule" in result.fix


def test_a_present_serial_port_passes(tmp_path, rdm):
    # The pty is this process's own: judged for this process's user, as the daemons' user on a node.
    me = pwd.getpwuid(os.getuid()).pw_name
    ctx = load(node(tmp_path, f"readers:\n  - {{type: rdm6300, name: front, port: {rdm.path}}}\n"), daemon_user=me)
    assert [r.status for r in check_device_files(ctx)] == [Status.OK]


def test_without_a_gpio_chip_a_door_node_fails_on_gpio(tmp_path):
    make_site(tmp_path)
    ctx = load(door_config(tmp_path, 1))
    (result,) = list(check_device_files(ctx, gpiochips=str(tmp_path / "gpiochip*")))
    assert result.status is Status.FAIL
    assert "no GPIO chip" in result.message


# -- serial readers ---------------------------------------------------------------------------------------------


def serial_reader_ctx(tmp_path: Path, sim: Rdm6300Sim, prompt: Callable[[str], None], timeout: float = 2.0) -> Context:
    path = node(tmp_path, f"readers:\n  - {{type: rdm6300, name: front, port: {sim.path}}}\n")
    return load(path, timeout=timeout, prompt=prompt)


def test_a_serial_reader_that_sends_a_frame_passes_without_showing_the_card(tmp_path, rdm, stop):
    prompts: list[str] = []

    def present(text: str) -> None:
        prompts.append(text)
        repeat_writes(lambda: rdm.send_card(TAG), stop)

    (result,) = list(check_readers(serial_reader_ctx(tmp_path, rdm, present, timeout=10)))
    assert result.status is Status.OK
    assert prompts == ["present a card to reader front now (waiting 10 s)"]
    assert TAG not in result.message and TAG.lower() not in result.message


def test_a_serial_reader_sending_garbage_hints_at_baud_rate_and_wiring(tmp_path, rdm, stop):
    def noise(_text: str) -> None:
        repeat_writes(lambda: rdm.write(b"\x7f\xe0garbage\xfe"), stop)

    (result,) = list(check_readers(serial_reader_ctx(tmp_path, rdm, noise)))
    assert result.status is Status.FAIL
    assert "data arrived but no valid frame" in result.message
    assert "baud" in result.fix and "9600" in result.fix


def test_a_frame_with_a_bad_checksum_is_not_a_card(tmp_path, rdm, stop):
    def bad(_text: str) -> None:
        repeat_writes(lambda: rdm.send_card(TAG, checksum=0), stop)

    (result,) = list(check_readers(serial_reader_ctx(tmp_path, rdm, bad)))
    assert result.status is Status.FAIL
    assert "bad checksums" in result.message


def test_a_silent_serial_reader_fails_with_a_fix(tmp_path, rdm):
    (result,) = list(check_readers(serial_reader_ctx(tmp_path, rdm, lambda _t: None, timeout=0.5)))
    assert result.status is Status.FAIL
    assert result.message == "no card was read within 0.5 s"
    assert "present a card" in result.fix and "power" in result.fix


def test_a_serial_reader_whose_port_is_missing_fails_at_once(tmp_path):
    path = node(tmp_path, f"readers:\n  - {{type: rdm6300, name: front, port: {tmp_path / 'none'}}}\n")
    prompts: list[str] = []
    (result,) = list(check_readers(load(path, timeout=5, prompt=prompts.append)))
    assert result.status is Status.FAIL
    assert "cannot open" in result.message
    assert prompts == []  # nobody is asked to present a card to a reader that cannot be heard


def test_a_wiegand_reader_that_sends_a_card_passes(tmp_path):
    factory = MockFactory()
    path = node(tmp_path, "readers:\n  - {type: wiegand, name: gate, d0_pin: 23, d1_pin: 24}\n")
    ctx = load(path, pin_factory=factory, timeout=10)
    ctx.prompt = lambda _text: WiegandSim(factory, 23, 24).send_in_thread(encode_wiegand(12, 3456, 26))
    (result,) = list(check_readers(ctx))
    assert result.status is Status.OK


def test_a_wiegand_frame_of_an_unlisted_format_hints_at_formats(tmp_path):
    factory = MockFactory()
    path = node(tmp_path, "readers:\n  - {type: wiegand, name: gate, d0_pin: 23, d1_pin: 24, formats: [34]}\n")
    ctx = load(path, pin_factory=factory, timeout=1)
    ctx.prompt = lambda _text: WiegandSim(factory, 23, 24).send_in_thread(encode_wiegand(12, 3456, 26))
    (result,) = list(check_readers(ctx))
    assert result.status is Status.FAIL
    assert "formats:" in result.fix


# -- MFRC522 through the register-level simulator ---------------------------------------------------------------


@pytest.fixture
def mfrc522() -> Iterator[Mfrc522Sim]:
    gpio_standin.reset_board()
    sim = Mfrc522Sim(reset_pin=25)
    yield sim
    sim.close()
    gpio_standin.reset_board()


def mfrc522_ctx(tmp_path: Path) -> Context:
    return load(node(tmp_path, "readers:\n  - {type: mfrc522, name: front, reset_pin: 25}\n"))


def test_an_answering_mfrc522_reports_its_version(tmp_path, mfrc522):
    (result,) = list(check_readers(mfrc522_ctx(tmp_path)))
    assert result.status is Status.OK
    assert "version 0x92, MFRC522 v2.0" in result.message


def test_a_silent_mfrc522_fails_with_the_wiring_to_check(tmp_path, mfrc522):
    mfrc522.go_silent()
    (result,) = list(check_readers(mfrc522_ctx(tmp_path)))
    assert result.status is Status.FAIL
    assert "version register reads 0x00" in result.message
    assert "MISO" in result.fix and "GPIO 25" in result.fix


def test_an_mfrc522_on_a_missing_spi_device_says_to_enable_spi(tmp_path, mfrc522):
    path = node(tmp_path, "readers:\n  - {type: mfrc522, name: front, spi_device: 1, reset_pin: 25}\n")
    (result,) = list(check_readers(load(path)))
    assert result.status is Status.FAIL
    assert "dtparam=spi=on" in result.fix


# -- door relay and inputs on MockFactory pins ------------------------------------------------------------------

DOOR_INPUTS = "    contact: {pin: 6}\n    rex: {pin: 13}\n"


def door_ctx(tmp_path: Path, factory: MockFactory, **options: object) -> Context:
    make_site(tmp_path)
    return load(door_config(tmp_path, 1, door=DOOR_INPUTS), pin_factory=factory, **options)


def test_the_relay_click_unlocks_for_a_moment_and_ends_locked(tmp_path):
    factory = MockFactory()
    ctx = door_ctx(tmp_path, factory, click_relay=True)
    results = by_check(list(check_doors(ctx)))
    assert results["door front relay"].status is Status.OK
    assert ctx.config is not None
    history = SimulatedDoor(ctx.config.doors[0], factory).relay_history()[1:]  # [0]: the pin before it was claimed
    assert [locked for locked, _ in groupby(history)] == [True, False, True]


class BreaksWhileUnlocked(MockPin):
    """GPIO 19 (a lock sensor) whose line fails while the relay on GPIO 5 is released (active-low: low)."""

    def _get_state(self) -> bool:
        if self.info.name == "GPIO19" and not self._factory.pin(5).state:
            raise OSError("line read failed")
        return bool(super()._get_state())


def test_the_relay_ends_locked_when_the_click_test_fails_half_way(tmp_path):
    factory = MockFactory(pin_class=BreaksWhileUnlocked)
    make_site(tmp_path)
    door = DOOR_INPUTS + "    lock_sensor: {pin: 19}\n"
    ctx = load(door_config(tmp_path, 1, door=door), pin_factory=factory, click_relay=True)
    results = run_checks(ctx, [check_doors])
    assert results[-1].message == "the check itself failed: OSError: line read failed"
    assert ctx.config is not None
    history = SimulatedDoor(ctx.config.doors[0], factory).relay_history()[1:]
    assert [locked for locked, _ in groupby(history)] == [True, False, True]


def test_without_click_relay_the_relay_is_never_released(tmp_path):
    factory = MockFactory()
    ctx = door_ctx(tmp_path, factory)
    results = by_check(list(check_doors(ctx)))
    assert results["door front relay"].status is Status.SKIP
    assert ctx.config is not None
    assert all(SimulatedDoor(ctx.config.doors[0], factory).relay_history()[1:])


def test_a_lock_sensor_that_never_sees_the_release_fails_the_click(tmp_path):
    factory = MockFactory()
    make_site(tmp_path)
    door = DOOR_INPUTS + "    lock_sensor: {pin: 19}\n"
    ctx = load(door_config(tmp_path, 1, door=door), pin_factory=factory, click_relay=True)
    ctx.prompt = lambda _text: factory.pin(19).drive_low()  # the bolt switch says locked, and stays so
    results = by_check(list(check_doors(ctx)))
    assert results["door front relay"].status is Status.FAIL
    assert "lock sensor did not see it (it said locked before and locked during" in results["door front relay"].message


def test_a_lock_sensor_that_follows_the_relay_confirms_the_click(tmp_path):
    factory = MockFactory()
    make_site(tmp_path)
    door = DOOR_INPUTS + "    lock_sensor: {pin: 19}\n"
    ctx = load(door_config(tmp_path, 1, door=door), pin_factory=factory, click_relay=True)
    sensor, relay = factory.pin(19), factory.pin(5)
    done = threading.Event()

    def lock_follows_relay() -> None:
        # Active-low board, fail-safe lock through NC: relay pin high = locked = bolt switch closed (low).
        while not done.wait(0.01):
            sensor.drive_low() if relay.state else sensor.drive_high()

    def start_lock(_text: str) -> None:
        sensor.drive_low()  # locked before the click
        threading.Thread(target=lock_follows_relay, daemon=True).start()

    ctx.prompt = start_lock
    try:
        results = by_check(list(check_doors(ctx)))
    finally:
        done.set()
    assert results["door front relay"].status is Status.OK
    assert "the lock sensor saw the release" in results["door front relay"].message


def test_the_door_reports_its_inputs_as_they_are(tmp_path):
    factory = MockFactory()
    ctx = door_ctx(tmp_path, factory)
    results = by_check(list(check_doors(ctx)))
    # Pull-ups and nothing wired: the contact reads high (open), the button high (released).
    assert (
        results["door front"].message == "pins claimed; the contact says the door is OPEN, the exit button is released"
    )


def test_inputs_operated_during_the_watch_are_reported_as_changed(tmp_path):
    factory = MockFactory()
    ctx = door_ctx(tmp_path, factory, operate_inputs=3.0)
    assert ctx.config is not None
    door = SimulatedDoor(ctx.config.doors[0], factory)

    def operate(text: str) -> None:
        if "operate" not in text:
            return

        def person() -> None:
            door.close_door()
            threading.Event().wait(0.2)
            door.open_door()
            door.set_exit_button(True)
            threading.Event().wait(0.2)
            door.set_exit_button(False)

        threading.Thread(target=person, daemon=True).start()

    ctx.prompt = operate
    results = by_check(list(check_doors(ctx)))
    assert results["door front door contact"].status is Status.OK
    assert results["door front exit button"].status is Status.OK


def test_inputs_nobody_operated_fail_with_the_pin_to_check(tmp_path):
    factory = MockFactory()
    ctx = door_ctx(tmp_path, factory, operate_inputs=0.3)
    assert ctx.config is not None
    door = SimulatedDoor(ctx.config.doors[0], factory)
    ctx.prompt = lambda _text: door.close_door()  # the contact moves, nobody presses the button
    results = by_check(list(check_doors(ctx)))
    assert results["door front door contact"].status is Status.OK
    button = results["door front exit button"]
    assert button.status is Status.FAIL
    assert "GPIO 13" in button.message and "wiring to GPIO 13" in button.fix


def test_a_pin_held_elsewhere_fails_with_stop_the_daemon(tmp_path):
    from gpiozero import OutputDevice

    factory = MockFactory()
    ctx = door_ctx(tmp_path, factory)
    with OutputDevice(5, pin_factory=factory):  # the door daemon holding the relay
        results = list(check_doors(ctx))
    assert [r.status for r in results] == [Status.FAIL]
    assert "systemctl stop edge-door" in results[0].fix


# -- desk sensors -----------------------------------------------------------------------------------------------


def test_a_radar_sending_frames_is_alive(tmp_path):
    with RadarSimulator(tmp_path / "radar", reading=someone()) as radar:
        path = node(tmp_path, PRESENCE.format(sensors=f"{{type: ld2410, port: {radar.link}}}"))
        (result,) = list(check_sensors(load(path, timeout=10)))
    assert result.status is Status.OK
    assert result.check == "desk d1 ld2410"


def test_a_silent_radar_fails_with_a_fix(tmp_path):
    with RadarSimulator(tmp_path / "radar") as radar:
        radar.silence()
        path = node(tmp_path, PRESENCE.format(sensors=f"{{type: ld2410, port: {radar.link}}}"))
        (result,) = list(check_sensors(load(path, timeout=0.5)))
    assert result.status is Status.FAIL
    assert "nothing received" in result.message and "5 V" in result.fix


def test_a_radar_at_the_wrong_baud_rate_gets_the_hint(tmp_path):
    with RadarSimulator(tmp_path / "radar") as radar:
        radar.silence()
        path = node(tmp_path, PRESENCE.format(sensors=f"{{type: ld2410, port: {radar.link}, baudrate: 9600}}"))
        ctx = load(path, timeout=1)
        stop = threading.Event()
        repeat_writes(lambda: radar.inject(b"\xf4\xf3\xf2\xf1\x0d\x00" + b"\x55" * 30), stop)
        try:
            (result,) = list(check_sensors(ctx))
        finally:
            stop.set()
    assert result.status is Status.FAIL
    assert "no valid LD2410 frame" in result.message
    assert "9600 baud" in result.fix and "256000" in result.fix


def test_pir_and_seat_inputs_are_read(tmp_path):
    factory = MockFactory()
    sensors = "{type: pir, pin: 17}, {type: seat, pin: 22}"
    ctx = load(node(tmp_path, PRESENCE.format(sensors=sensors)), pin_factory=factory)
    results = by_check(list(check_sensors(ctx)))
    assert results["desk d1 pir"].message == "GPIO 17 reads no motion"
    assert results["desk d1 seat"].message == "GPIO 22 reads free"


def test_a_sensor_pin_held_elsewhere_fails_with_stop_the_daemon(tmp_path):
    from gpiozero import DigitalInputDevice

    factory = MockFactory()
    ctx = load(node(tmp_path, PRESENCE.format(sensors="{type: seat, pin: 22}")), pin_factory=factory)
    with DigitalInputDevice(22, pin_factory=factory):
        (result,) = list(check_sensors(ctx))
    assert result.status is Status.FAIL
    assert "systemctl stop edge-presence" in result.fix


# -- member snapshot ----------------------------------------------------------------------------------------------


def test_a_door_without_a_snapshot_is_told_to_push_one(tmp_path):
    make_site(tmp_path)
    (result,) = list(check_snapshot(load(door_config(tmp_path, 1))))
    assert result.status is Status.FAIL
    assert "edge members push" in result.fix


def test_a_stored_snapshot_shows_its_version_and_member_count(tmp_path):
    make_site(tmp_path)
    ctx = load(door_config(tmp_path, 1))
    assert ctx.config is not None
    ctx.config.state_dir.mkdir(parents=True)
    (ctx.config.state_dir / "members.snapshot").write_bytes(signed_snapshot(tmp_path, 7))
    (result,) = list(check_snapshot(ctx))
    assert result.status is Status.OK
    assert result.message.startswith("version 7, 5 members")


def test_a_snapshot_signed_with_another_key_is_refused(tmp_path):
    make_site(tmp_path)
    ctx = load(door_config(tmp_path, 1))
    assert ctx.config is not None
    ctx.config.state_dir.mkdir(parents=True)
    (ctx.config.state_dir / "members.snapshot").write_bytes(signed_snapshot(tmp_path, 7, key="command"))
    (result,) = list(check_snapshot(ctx))
    assert result.status is Status.FAIL
    assert "refused" in result.message and "snapshot_keys" in result.fix


def test_a_stored_snapshot_older_than_the_door_s_floor_is_refused_as_the_door_refuses_it(tmp_path):
    make_site(tmp_path)
    ctx = load(door_config(tmp_path, 1))
    assert ctx.config is not None
    ctx.config.state_dir.mkdir(parents=True)
    (ctx.config.state_dir / "members.snapshot").write_bytes(signed_snapshot(tmp_path, 7))
    save_floor(ctx.config.state_dir / "members.floor", VersionFloor(8))
    (result,) = list(check_snapshot(ctx))
    assert result.status is Status.FAIL
    assert "not_newer" in result.message and "floor" in result.fix


# -- the whole doctor -------------------------------------------------------------------------------------------


def test_the_runner_adds_the_device_checks_of_a_door_node(tmp_path):
    make_site(tmp_path)
    ctx = Context(config_path=door_config(tmp_path, 1, door=DOOR_INPUTS), pin_factory=MockFactory(), timeout=0.5)
    names = {r.check for r in run_checks(ctx)}
    assert {"firmware config", "door front", "door front relay", "member snapshot"} <= names


def test_the_cli_checks_a_node_whose_devices_are_ptys(mosquitto: Mosquitto, tmp_path, rdm, stop):
    boot = tmp_path / "config.txt"
    boot.write_text("dtparam=watchdog=on\n")
    with RadarSimulator(tmp_path / "radar") as radar:
        extra = f"readers:\n  - {{type: rdm6300, name: front, port: {rdm.path}}}\n" + PRESENCE.format(
            sensors=f"{{type: ld2410, port: {radar.link}}}"
        )
        config = node(tmp_path, extra).read_text().replace("port: 1}", f"port: {mosquitto.port}}}")
        (tmp_path / "node.yaml").write_text(config)
        repeat_writes(lambda: rdm.send_card(TAG), stop)  # a card held on the reader the whole time
        result = run_edge(
            "doctor",
            *("-c", str(tmp_path / "node.yaml"), "--json", "--boot-config", str(boot), "--timeout", "10"),
            *("--user", pwd.getpwuid(os.getuid()).pw_name),  # the ptys are this process's: judge them for its user
        )
    report = json.loads(result.stdout)
    statuses = {r["check"]: r["status"] for r in report["results"]}
    assert statuses["reader front"] == "ok"
    assert statuses["desk d1 ld2410"] == "ok"
    assert statuses[f"device {rdm.path}"] == "ok"
    assert statuses["firmware config"] == "ok"
    assert statuses["broker"] == "ok"
    assert "present a card to reader front" in result.stderr
    assert result.returncode == 0, result.stdout


def test_the_cli_in_text_mode_prompts_between_results_on_simulated_pins(tmp_path):
    make_site(tmp_path)
    config = door_config(tmp_path, 1, door=DOOR_INPUTS)
    result = run_edge("doctor", "-c", str(config), "--simulate", "--click-relay", "--timeout", "1")
    lines = result.stdout.splitlines()
    claimed = lines.index(
        "  ok   door front: " + "pins claimed; the contact says the door is OPEN, the exit button is released"
    )
    prompt = lines.index(">>> door front: the lock releases for 1 s now: listen for the relay click")
    clicked = lines.index("  ok   door front relay: released for 1 s on GPIO 5, then locked again")
    assert claimed < prompt < clicked
    assert result.returncode == 1  # no broker on port 1


def test_a_check_that_crashes_half_way_keeps_what_it_found_and_fails(tmp_path):
    def half_way(_ctx: Context) -> Iterator[Result]:
        yield Result("half", Status.OK, "first part fine")
        raise RuntimeError("driver bug")

    seen: list[Result] = []
    results = run_checks(Context(config_path=tmp_path / "x"), [half_way], on_result=seen.append)
    assert [r.status for r in results] == [Status.OK, Status.FAIL]
    assert results[1].message == "the check itself failed: RuntimeError: driver bug"
    assert seen == results
