"""May the daemons' user open a device file? Judged from the file's owner, group and mode, not by who runs doctor."""

from __future__ import annotations

import grp
import os
import pwd
import stat
from dataclasses import dataclass

_READ_WRITE = 0o6


@dataclass(frozen=True)
class DaemonIdentity:
    """Who a daemon runs as: its user, uid and every group it holds (its own and those its systemd unit adds)."""

    user: str
    uid: int
    gids: frozenset[int]

    def group_names(self) -> str:
        """The groups by name, for messages ("edge, gpio, dialout")."""
        return ", ".join(sorted(group_name(gid) for gid in self.gids)) or "none"


def may_read_write(st: os.stat_result, who: DaemonIdentity) -> bool:
    """True when `who` may open a file with this owner, group and mode for reading and writing.

    The kernel looks at one class only: the owner's bits if `who` owns the file, else the group's if it holds the
    file's group, else the others'. Root gets no exception: the units drop every capability
    (`CapabilityBoundingSet=`), so the mode bits alone decide even for uid 0. POSIX ACLs are not looked at: udev
    gives them to desktop seat users, never to a system user such as edge.
    """
    if st.st_uid == who.uid:
        bits = st.st_mode >> 6
    elif st.st_gid in who.gids:
        bits = st.st_mode >> 3
    else:
        bits = st.st_mode
    return bits & _READ_WRITE == _READ_WRITE


def daemon_identity(user: str, unit_groups: tuple[str, ...] = ()) -> DaemonIdentity | None:
    """The identity a unit with `User=user` and `SupplementaryGroups=unit_groups` runs with; None if no such user.

    A unit group missing from this machine is left out: systemd would refuse to start the unit, and the check then
    says the daemon lacks that group.
    """
    try:
        entry = pwd.getpwnam(user)
    except KeyError:
        return None
    gids = {entry.pw_gid} | {g.gr_gid for g in grp.getgrall() if user in g.gr_mem}
    for name in unit_groups:
        try:
            gids.add(grp.getgrnam(name).gr_gid)
        except KeyError:
            continue
    return DaemonIdentity(user, entry.pw_uid, frozenset(gids))


def describe(st: os.stat_result) -> str:
    """Owner, group and mode as `ls -l` people read them: "root:dialout 0660"."""
    return f"{user_name(st.st_uid)}:{group_name(st.st_gid)} {stat.S_IMODE(st.st_mode):04o}"


def user_name(uid: int) -> str:
    """The user's name, or its number when the machine has no such user."""
    try:
        return pwd.getpwuid(uid).pw_name
    except KeyError:
        return str(uid)


def group_name(gid: int) -> str:
    """The group's name, or its number when the machine has no such group."""
    try:
        return grp.getgrgid(gid).gr_name
    except KeyError:
        return str(gid)
