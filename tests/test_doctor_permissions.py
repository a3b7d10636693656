"""`edge doctor` judges device files for the daemons' user and the groups its unit adds, from the file's owner,
group and mode: real files with real modes, never the permissions of whoever runs the doctor."""

from __future__ import annotations

import grp
import os
import pwd
from collections.abc import Iterator
from pathlib import Path

import pytest

from edge.doctor.checks import check_device_file
from edge.doctor.permissions import DaemonIdentity, daemon_identity, describe, may_read_write
from edge.doctor.report import Status

OWNER, GROUP_MEMBER, STRANGER = "owner", "member of the file's group", "neither owner nor in the group"


def identity(relation: str, st: os.stat_result) -> DaemonIdentity:
    """A user standing in `relation` to a file; ids other than the file's are offset so they differ from it."""
    other_uid, other_gid = st.st_uid + 1000, st.st_gid + 1000
    if relation == OWNER:
        return DaemonIdentity("owner", st.st_uid, frozenset({other_gid}))
    if relation == GROUP_MEMBER:
        return DaemonIdentity("member", other_uid, frozenset({other_gid, st.st_gid}))
    return DaemonIdentity("stranger", other_uid, frozenset({other_gid}))


@pytest.mark.parametrize(
    ("mode", "relation", "allowed"),
    [
        (0o600, OWNER, True),
        (0o400, OWNER, False),
        (0o066, OWNER, False),  # the owner's bits decide for the owner, even when the group and others may
        (0o660, GROUP_MEMBER, True),
        (0o640, GROUP_MEMBER, False),
        (0o606, GROUP_MEMBER, False),  # the group's bits decide for a member, even when others may
        (0o600, GROUP_MEMBER, False),
        (0o666, STRANGER, True),
        (0o660, STRANGER, False),
        (0o000, OWNER, False),
    ],
)
def test_read_write_access_follows_the_one_class_the_user_falls_in(
    tmp_path: Path, mode: int, relation: str, allowed: bool
) -> None:
    device = tmp_path / "device"
    device.touch()
    device.chmod(mode)
    st = os.stat(device)
    assert may_read_write(st, identity(relation, st)) is allowed


def test_a_file_is_described_as_owner_group_and_octal_mode(tmp_path: Path) -> None:
    device = tmp_path / "device"
    device.touch()
    device.chmod(0o660)
    st = os.stat(device)
    owner, group = pwd.getpwuid(st.st_uid).pw_name, grp.getgrgid(st.st_gid).gr_name
    assert describe(st) == f"{owner}:{group} 0660"


def test_an_unknown_user_has_no_identity() -> None:
    assert daemon_identity("edge-no-such-user") is None


def test_the_daemon_holds_its_own_groups_and_those_its_unit_adds() -> None:
    me = pwd.getpwuid(os.getuid())
    unit_group = grp.getgrall()[0]
    who = daemon_identity(me.pw_name, (unit_group.gr_name, "edge-no-such-group"))
    assert who is not None
    assert who.uid == me.pw_uid
    assert {me.pw_gid, unit_group.gr_gid} <= who.gids


# -- the check, on a real character device (a pty) ----------------------------------------------------------------


@pytest.fixture
def pty() -> Iterator[Path]:
    """A pseudo-terminal: a real character device this process owns, whose mode the test may change."""
    leader, follower = os.openpty()
    try:
        yield Path(os.ttyname(follower))
    finally:
        os.close(follower)
        os.close(leader)


def someone_else() -> str:
    """An existing user that is not this process's (most systems have nobody)."""
    try:
        user = pwd.getpwnam("nobody")
    except KeyError:
        pytest.skip("no user nobody on this machine")
    if user.pw_uid == os.getuid():
        pytest.skip("the tests run as nobody")
    return user.pw_name


def test_a_device_the_daemon_user_may_open_passes(pty: Path) -> None:
    pty.chmod(0o600)
    result = check_device_file("device", pty, "dialout", pwd.getpwuid(os.getuid()).pw_name)
    assert result.status is Status.OK
    assert describe(os.stat(pty)) in result.message


def test_a_device_the_daemon_user_may_not_open_fails_even_when_whoever_runs_doctor_may(pty: Path) -> None:
    pty.chmod(0o600)
    user = someone_else()
    result = check_device_file("device", pty, "dialout", user)
    assert result.status is Status.FAIL
    assert f"{pty} is {describe(os.stat(pty))} and {user}" in result.message
    assert "group dialout and mode 0660" in result.fix


def test_a_device_open_to_all_passes_for_any_daemon_user(pty: Path) -> None:
    pty.chmod(0o666)
    assert check_device_file("device", pty, "dialout", someone_else()).status is Status.OK


@pytest.mark.skipif(os.geteuid() != 0, reason="giving the pty another group needs root")
def test_the_group_the_unit_adds_opens_a_group_device_the_user_is_not_a_member_of(pty: Path) -> None:
    user = someone_else()
    unit_group = next(g for g in grp.getgrall() if user not in g.gr_mem and g.gr_gid != pwd.getpwnam(user).pw_gid)
    os.chown(pty, -1, unit_group.gr_gid)
    pty.chmod(0o660)
    assert check_device_file("device", pty, unit_group.gr_name, user).status is Status.OK
    assert check_device_file("device", pty, "edge-no-such-group", user).status is Status.FAIL


def test_without_the_daemon_user_on_this_machine_the_check_warns(pty: Path) -> None:
    result = check_device_file("device", pty, "dialout", "edge-no-such-user")
    assert result.status is Status.WARN
    assert "no user edge-no-such-user on this machine" in result.message
    assert "--user" in result.fix


def test_a_regular_file_in_place_of_a_device_warns(tmp_path: Path) -> None:
    (tmp_path / "ttyAMA0").touch()
    result = check_device_file("device", tmp_path / "ttyAMA0", "dialout", "edge-no-such-user")
    assert result.status is Status.WARN
    assert "not a character device" in result.message
