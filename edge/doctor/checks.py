"""The checks that hold for every node; device sections add theirs through `DEVICE_CHECKS`."""

from __future__ import annotations

import os
import stat
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from edge.config import NodeConfig, load_config
from edge.doctor.permissions import daemon_identity, describe, group_name, may_read_write
from edge.doctor.report import Result, Status
from edge.errors import ConfigError
from edge.timesync import clock_synchronised


@dataclass
class Context:
    """What the checks may use: the config, where the boot config is, and what the installer allowed.

    `pin_factory` is gpiozero's (None: the Pi's own pins); a simulated one also means SPI goes to the stand-ins
    and GPIO/SPI device files are not looked for. `prompt` tells the person at the node what to do now (text
    mode prints it; JSON mode and tests may pass their own or none). `daemon_user` is the `User=` of the systemd
    units: device files are judged for it, whoever runs the doctor.
    """

    config_path: Path
    boot_config: Path = Path("/boot/firmware/config.txt")
    click_relay: bool = False
    operate_inputs: float = 0.0
    timeout: float = 5.0
    config: NodeConfig | None = None
    notes: dict[str, object] = field(default_factory=dict)
    pin_factory: Any = None
    prompt: Callable[[str], None] | None = None
    model_file: Path = Path("/proc/device-tree/model")
    daemon_user: str = "edge"

    @property
    def simulated(self) -> bool:
        """True when the pins are simulated (gpiozero MockFactory and the SPI stand-ins)."""
        return self.pin_factory is not None

    def say(self, text: str) -> None:
        """Ask the installer to do something now (present a card, open the door)."""
        if self.prompt is not None:
            self.prompt(text)


Check = Callable[[Context], Iterable[Result]]


def check_config(ctx: Context) -> Iterable[Result]:
    """The config file is valid."""
    try:
        ctx.config = load_config(ctx.config_path)
    except ConfigError as exc:
        yield Result(
            "config",
            Status.FAIL,
            f"{ctx.config_path} has {len(exc.issues)} problem(s): " + "; ".join(exc.issues[:5]),
            f"run `edge check-config {ctx.config_path}` and correct each key it names",
        )
        return
    yield Result("config", Status.OK, f"{ctx.config_path} is valid (site {ctx.config.site}, node {ctx.config.node})")


def boot_config_lines(path: Path) -> set[str] | None:
    """The effective lines of a Raspberry Pi config.txt (comments removed), or None if it is missing."""
    try:
        text = path.read_text()
    except OSError:
        return None
    return {line.split("#", 1)[0].strip().replace(" ", "") for line in text.splitlines()} - {""}


def check_firmware(ctx: Context, needs: dict[str, str]) -> Iterable[Result]:
    """Every firmware line the node's hardware needs is in config.txt (`needs`: line -> why)."""
    if not needs:
        return
    lines = boot_config_lines(ctx.boot_config)
    if lines is None:
        yield Result(
            "firmware config",
            Status.WARN,
            f"{ctx.boot_config} not found (not a Raspberry Pi, or an older OS)",
            "on Raspberry Pi OS Bookworm the file is /boot/firmware/config.txt; use --boot-config to point at it",
        )
        return
    for line, why in needs.items():
        if line.replace(" ", "") in lines:
            yield Result("firmware config", Status.OK, f"{line} is set ({why})")
        else:
            yield Result(
                "firmware config",
                Status.FAIL,
                f"{line} is missing from {ctx.boot_config}; it is needed for {why}",
                f"add `{line}` (see firmware_config/README.md) and reboot",
            )


def check_device_file(name: str, path: Path, group: str, user: str) -> Result:
    """A device file exists and the daemons' `user`, holding the `group` its systemd unit adds, may open it.

    Judged from the file's owner, group and mode rather than `os.access`, which would answer for whoever runs
    the doctor (root always passes, `sudo -u edge` lacks the unit's groups).
    """
    if not path.exists():
        return Result(
            name,
            Status.FAIL,
            f"{path} does not exist",
            "check the wiring and the firmware config (SPI/UART enabled), then reboot; for USB readers, the udev rule",
        )
    st = path.stat()
    if not stat.S_ISCHR(st.st_mode):
        return Result(name, Status.WARN, f"{path} exists but is not a character device")
    who = daemon_identity(user, (group,))
    if who is None:
        return Result(
            name,
            Status.WARN,
            f"{path} is present ({describe(st)}), but there is no user {user} on this machine to judge it for",
            "on a node, apply the edge_node role (it creates the user); elsewhere pass --user with the daemons' user",
        )
    if not may_read_write(st, who):
        return Result(
            name,
            Status.FAIL,
            f"{path} is {describe(st)} and {user} (groups {who.group_names()}) may not read and write it",
            _device_fix(path, st, group),
        )
    return Result(name, Status.OK, f"{path} is present and {user} may read and write it ({describe(st)})")


def _device_fix(path: Path, st: os.stat_result, group: str) -> str:
    if group_name(st.st_gid) != group:
        return (
            f"the daemons' units add group {group}: give {path} group {group} and mode 0660 (a udev rule, "
            f"`ls -l {path}`; for the Pi's UART, also remove the serial console from cmdline.txt)"
        )
    return f'give {path} mode 0660 so group {group} may read and write it (a udev rule, MODE="0660")'


def check_clock(ctx: Context, synchronised: Callable[[], bool | None] = clock_synchronised) -> Iterable[Result]:
    """The system clock is synchronised (`synchronised` asks the kernel by default)."""
    synced = synchronised()
    if synced:
        yield Result("clock", Status.OK, "the system clock is synchronised")
    elif synced is None:
        yield Result("clock", Status.WARN, "cannot tell whether the clock is synchronised")
    else:
        yield Result(
            "clock",
            Status.WARN,
            "the system clock is not synchronised: schedules and validity dates may be judged on a wrong time",
            "check network access to NTP (`timedatectl timesync-status`); consider an RTC module on the Pi",
        )


def check_state_dir(ctx: Context) -> Iterable[Result]:
    """The state directory is writable (the outbox lives there)."""
    config = ctx.config
    if config is None:
        return
    path = config.state_dir
    if path.is_dir() and os.access(path, os.W_OK):
        yield Result("state dir", Status.OK, f"{path} is writable")
    elif not path.exists() and os.access(_nearest_existing(path), os.W_OK):
        yield Result("state dir", Status.OK, f"{path} will be created")
    else:
        yield Result(
            "state dir",
            Status.FAIL,
            f"{path} is not writable: events could not be stored before sending",
            f"create it and give it to the daemon's user (chown edge:edge {path})",
        )


def _nearest_existing(path: Path) -> Path:
    # The daemons create the state dir with its parents: what matters is the first folder that exists.
    while not path.exists() and path != path.parent:
        path = path.parent
    return path
