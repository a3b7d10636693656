"""A door node holds a member snapshot that verifies with its keys; its version and member count."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable

from edge.access.floor import load_floor, starting_floor
from edge.access.store import load_snapshot
from edge.config.keyfiles import load_trusted_keys
from edge.daemons.door import FLOOR_FILE, SNAPSHOT_FILE
from edge.doctor.checks import Context
from edge.doctor.report import Result, Status
from edge.errors import ConfigError, PayloadError

PUSH = "push one from the staff machine with `edge members push`"


def check_snapshot(ctx: Context) -> Iterable[Result]:
    """The stored member snapshot is there, verifies, and is for this site."""
    config = ctx.config
    if config is None or not config.doors or config.access is None:
        return
    path = config.state_dir / SNAPSHOT_FILE
    try:
        keys = load_trusted_keys(config.access.snapshot_keys, key_path="access.snapshot_keys")
    except ConfigError as exc:
        yield Result(
            "member snapshot",
            Status.FAIL,
            "; ".join(exc.issues),
            "copy snapshot-signing.pub from the site's secrets to the path in the config",
        )
        return
    try:
        index = load_snapshot(path, keys, site=config.site)
        if index is not None:  # the door's own start-up check: the stored snapshot must pass its floor
            floor = starting_floor(load_floor(config.state_dir / FLOOR_FILE)[0], config.access.min_snapshot_version)
            if floor is not None:
                floor.check(index.version, hashlib.sha256(path.read_bytes()).hexdigest())
    except PayloadError as exc:
        yield Result(
            "member snapshot",
            Status.FAIL,
            f"{path} is refused ({exc}): the door decides as if it had no members",
            f"it is older than the door's floor: {PUSH}, the door takes the current one"
            if exc.reason == "not_newer"
            else f"check that access.snapshot_keys is this site's key, then {PUSH}",
        )
        return
    except OSError as exc:  # StoreError included
        yield Result("member snapshot", Status.FAIL, str(exc), f"give {path} to the daemon's user, or {PUSH}")
        return
    if index is None:
        yield Result(
            "member snapshot",
            Status.FAIL,
            f"no member snapshot in {config.state_dir}: the door admits no member until it gets one",
            f"{PUSH} (the door must be connected to the broker)",
        )
        return
    yield Result(
        "member snapshot",
        Status.OK,
        f"version {index.version}, {index.member_count} members, created {index.created_at}",
    )
