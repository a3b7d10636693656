"""An MFRC522 (SPI) door reader whose chip stops answering, in a `DoorService` in this process (the register-level
chip simulator behind the `spidev`/`RPi.GPIO` stand-ins, MockFactory door pins, a real Mosquitto): `reader_fault`
is raised, the other reader keeps opening the door and the relay stays locked otherwise, and once the chip answers
again the fault clears and cards are read and decided again."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from edge.contract import Alarm, Kind, Reason
from edge.hardware.sim import gpio_standin
from edge.hardware.sim.mfrc522_sim import Mfrc522Sim
from tests.door_service import WIEGAND, Door
from tests.door_support import WIEGAND_RESIDENT, events, wait_counter, wait_events
from tests.fault_support import soak
from tests.rig.mqtt import Recorder
from tests.rig.servers import Mosquitto
from tests.rig.waiting import wait_until

SILENCES = soak(2, 10)
STRANGER = "04A1B2C3"  # a 4-byte MIFARE Classic UID nobody holds
SPI_READER = (
    "      - reader: {name: inside, type: mfrc522, reset_pin: 25, poll_interval_s: 0.02, health_interval_s: 0.5,"
    " recover_max_s: 1, rearm_s: 0.1}\n"
)


@pytest.fixture
def chip() -> Iterator[Mfrc522Sim]:
    gpio_standin.reset_board()
    sim = Mfrc522Sim(reset_pin=25)
    yield sim
    sim.close()
    gpio_standin.reset_board()


def faults(recorder: Recorder) -> list[bool]:
    return [a.active for a in events(recorder, Kind.DOOR_ALARM) if a.alarm == Alarm.READER_FAULT]


def test_a_silent_spi_reader_raises_reader_fault_and_reads_again_when_it_answers(
    tmp_path: Path, mosquitto: Mosquitto, chip: Mfrc522Sim
) -> None:
    recorder = Recorder(mosquitto.port, "edge/lyon/#")
    door = Door(tmp_path, mosquitto.port, readers=WIEGAND + SPI_READER)
    try:
        door.start()
        for n in range(1, SILENCES + 1):
            chip.present(STRANGER)
            assert wait_events(recorder, Kind.DOOR_ACCESS, 2 * n - 1)
            chip.remove()
            chip.go_silent()
            assert recorder.wait_for(lambda ms, n=n: faults(recorder) == [True, False] * (n - 1) + [True])  # type: ignore[misc]
            assert wait_counter(recorder, "reader.inside.down")
            door.badge(WIEGAND_RESIDENT)  # the Wiegand reader is unaffected
            assert wait_events(recorder, Kind.DOOR_ACCESS, 2 * n)
            chip.answer_again()
            assert recorder.wait_for(lambda ms, n=n: faults(recorder) == [True, False] * n)  # type: ignore[misc]
        chip.present(STRANGER)
        assert wait_events(recorder, Kind.DOOR_ACCESS, 2 * SILENCES + 1)
        accesses = events(recorder, Kind.DOOR_ACCESS)
        assert [(a.reader, a.reason) for a in accesses] == [
            ("inside", Reason.UNKNOWN_BADGE),
            ("outside", Reason.GRANTED),
        ] * SILENCES + [("inside", Reason.UNKNOWN_BADGE)]
        wait_until(lambda: door.history()[-1], what="the relay to lock after the last grant")
    finally:
        door.close()
        recorder.close()
