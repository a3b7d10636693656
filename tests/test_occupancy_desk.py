"""Desk state machine: enter delay, release hold, warm-up, unknown on silence, fusion, restart — on a manual clock."""

from __future__ import annotations

import pytest

from edge.occupancy import Fault, Fusion, Hysteresis, Occupancy, Presence, RadarThresholds, fuse
from tests.occupancy_script import desk, nobody, person, pir, play, radar, seat, stream

OCC, V, U = Occupancy.OCCUPIED, Occupancy.VACANT, Occupancy.UNKNOWN
P, A, X = Presence.PRESENT, Presence.ABSENT, Presence.UNKNOWN

SEAT_CASES = {
    # name: (events, {check time: expected state})
    "a restarted desk is unknown until its sensor speaks": ([], {0: U, 1000: U}),
    "pressed seat is occupied after the 2 s enter delay": ([(10, "seat", True)], {11.9: U, 12: OCC}),
    "released seat is not vacant before watching 60 s": ([(0, "seat", False)], {59.9: U, 60: V}),
    "sitting shorter than the enter delay is ignored": (
        [(0, "seat", False), (70, "seat", True), (71, "seat", False)],
        {60: V, 75: V, 200: V},
    ),
    "release waits the 60 s hold": ([(0, "seat", True), (100, "seat", False)], {2: OCC, 159.9: OCC, 160: V}),
    "standing up briefly keeps the desk occupied": (
        [(0, "seat", True), (100, "seat", False), (130, "seat", True)],
        {161: OCC, 500: OCC},
    ),
    "a sensor fault makes the desk unknown at once": (
        [(0, "seat", True), (10, "seat", Fault.OFFLINE)],
        {9: OCC, 10: U},
    ),
    "after a fault the seat must re-enter": (
        [(0, "seat", True), (10, "seat", Fault.OFFLINE), (20, "seat", True)],
        {21: U, 22: OCC},
    ),
}


@pytest.mark.parametrize(("events", "expected"), SEAT_CASES.values(), ids=SEAT_CASES.keys())
def test_seat_desk(events, expected):
    assert play(desk(seat()), events, list(expected)) == expected


PIR_CASES = {
    "motion during the 60 s warm-up is ignored": ([(1, "pir", True)], {30: U, 59.9: U}),
    "motion still on when warm-up ends enters 10 s later": ([(1, "pir", True)], {69.9: U, 70: OCC}),
    "no motion after warm-up is vacant only after the 10 min hold": (
        [(0, "pir", False)],
        {61: U, 659.9: U, 660: V},
    ),
    "a passer-by's single pulse does not enter": (
        [(0, "pir", False), (700, "pir", True), (705, "pir", False)],
        {720: V},
    ),
    "re-triggered pulses enter after 10 s": (
        [(0, "pir", False), (700, "pir", True), (703, "pir", False), (706, "pir", True), (709, "pir", False)],
        {709.9: V, 710: OCC},
    ),
    "a pause longer than the 5 s gap restarts the enter delay": (
        [(0, "pir", False), (700, "pir", True), (703, "pir", False), (709, "pir", True), (712, "pir", False)],
        {710: V, 720: V},
    ),
    "a still person stays occupied for the 10 min hold": (
        [(0, "pir", False), (700, "pir", True), (703, "pir", False), (706, "pir", True), (709, "pir", False)],
        {1308.9: OCC, 1309: V},
    ),
    "continuous motion longer than the enter delay enters": (
        [(0, "pir", False), (700, "pir", True)],
        {709.9: V, 710: OCC},
    ),
}


@pytest.mark.parametrize(("events", "expected"), PIR_CASES.values(), ids=PIR_CASES.keys())
def test_pir_desk(events, expected):
    assert play(desk(pir()), events, list(expected)) == expected


def _varying(i: int):
    return person(80, 50 + i % 3)


RADAR_CASES = {
    "no frames at all is unknown": ([], {5: U, 100: U}),
    "a person enters after 5 s": (stream("radar", 0, 30, _varying), {4.9: U, 5: OCC}),
    "frames that stop make the desk unknown after 10 s of silence": (
        stream("radar", 0, 20, _varying),
        {29.9: OCC, 30: U},
    ),
    "a target beyond max distance (the neighbour) is not presence": (
        stream("radar", 0, 400, lambda i: person(250, 50 + i % 3)),
        {299.9: U, 300: V},
    ),
    "a target with too little energy is not presence": (
        stream("radar", 0, 400, lambda i: person(80, 3 + i % 3)),
        {300: V},
    ),
    "an empty room is vacant after the 5 min hold": (stream("radar", 0, 400, nobody()), {299.9: U, 300: V}),
    "leaving releases after the 5 min hold": (
        stream("radar", 0, 99, _varying) + stream("radar", 100, 500, nobody()),
        {399.9: OCC, 400: V},
    ),
    "static dropouts shorter than the hold keep the desk occupied": (
        stream("radar", 0, 99, _varying) + stream("radar", 100, 200, nobody()) + stream("radar", 201, 700, _varying),
        {150: OCC, 600: OCC},
    ),
    "a phantom target at distance 0 becomes unknown after 60 s": (
        stream("radar", 0, 200, lambda i: person(0, 50 + i % 3)),
        {59.9: U, 60: U, 150: U},
    ),
    "a report frozen with a target becomes unknown after 10 min": (
        stream("radar", 0, 700, person(80, 50)),
        {5: OCC, 599.9: OCC, 600: U},
    ),
    "an unplugged radar is unknown at once": (
        [*stream("radar", 0, 20, _varying), (21, "radar", Fault.OFFLINE)],
        {20.9: OCC, 21: U},
    ),
    "a replugged radar re-enters once frames return": (
        [*stream("radar", 0, 20, _varying), (21, "radar", Fault.OFFLINE), *stream("radar", 40, 60, _varying)],
        {39: U, 44.9: U, 45: OCC},
    ),
}


@pytest.mark.parametrize(("events", "expected"), RADAR_CASES.values(), ids=RADAR_CASES.keys())
def test_radar_desk(events, expected):
    assert play(desk(radar()), events, list(expected)) == expected


def test_phantom_frames_are_no_evidence_before_they_become_a_fault():
    events = stream("radar", 0, 100, nobody()) + stream("radar", 101, 200, lambda i: person(0, 50 + i % 3))
    assert play(desk(radar()), events, [100, 150]) == {100: U, 150: U}
    states = play(desk(radar(radar=RadarThresholds(phantom_s=1000))), events, [150])
    assert states == {150: U}  # not present: a target at distance 0 is not someone at the desk


FUSION_CASES = {
    "radar unknown and seat occupied is occupied": (
        Fusion.ANY,
        [(0, "seat", True)],
        {30: OCC},
    ),
    "radar absent and seat unheard is unknown": (
        Fusion.ANY,
        stream("radar", 0, 400, nobody()),
        {350: U},
    ),
    "both unknown is unknown": (Fusion.ANY, [], {350: U}),
    "both absent is vacant": (
        Fusion.ANY,
        [(0, "seat", False), *stream("radar", 0, 400, nobody())],
        {299.9: U, 300: V},
    ),
    "radar present with seat released is occupied (any-of)": (
        Fusion.ANY,
        [(0, "seat", False), *stream("radar", 0, 400, _varying)],
        {350: OCC},
    ),
    "all-of: one absent sensor makes the desk vacant": (
        Fusion.ALL,
        [(0, "seat", False), *stream("radar", 0, 400, _varying)],
        {350: V},
    ),
    "all-of: both present is occupied": (
        Fusion.ALL,
        [(0, "seat", True), *stream("radar", 0, 400, _varying)],
        {4.9: U, 5: OCC},
    ),
    "all-of: present and unknown is unknown": (Fusion.ALL, [(0, "seat", True)], {30: U}),
}


@pytest.mark.parametrize(("fusion", "events", "expected"), FUSION_CASES.values(), ids=FUSION_CASES.keys())
def test_fusion(fusion, events, expected):
    assert play(desk(radar(), seat(), fusion=fusion), events, list(expected)) == expected


@pytest.mark.parametrize(
    ("presences", "fusion", "expected"),
    [
        ((P,), Fusion.ANY, OCC),
        ((A,), Fusion.ANY, V),
        ((X,), Fusion.ANY, U),
        ((P, X), Fusion.ANY, OCC),
        ((A, X), Fusion.ANY, U),
        ((X, X), Fusion.ANY, U),
        ((A, A), Fusion.ANY, V),
        ((P, A), Fusion.ANY, OCC),
        ((P, P), Fusion.ALL, OCC),
        ((P, A), Fusion.ALL, V),
        ((P, X), Fusion.ALL, U),
        ((A, X), Fusion.ALL, V),
        ((X, X), Fusion.ALL, U),
    ],
)
def test_fuse_table(presences, fusion, expected):
    assert fuse(presences, fusion) is expected


def test_per_desk_hysteresis_override_changes_the_release_hold():
    quick = seat(hysteresis=Hysteresis(enter_s=0.0, release_s=5.0))
    events = [(0, "seat", True), (10, "seat", False)]
    assert play(desk(quick), events, [0, 14.9, 15]) == {0: OCC, 14.9: OCC, 15: V}


def test_zero_warmup_pir_reports_at_once():
    events = [(0, "pir", True)]
    assert play(desk(pir(warmup_s=0.0)), events, [9.9, 10]) == {9.9: U, 10: OCC}
