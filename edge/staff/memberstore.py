"""The member file as every staff tool shares it: one lock, a version, atomic saves, a parsed copy kept warm.

`edge members` and the staff console both change the member file through `MemberStore.edit`: under an exclusive
lock (flock on the file's folder: the file itself is replaced by every save, and a lock file beside it would be
one more file for staff to wonder about) it reads the file, checks it is still the version the change was based
on, applies the change and saves the result atomically (temporary file, fsync, rename). Two editors therefore
never silently overwrite each other: the second is told the file changed and sees the current data. Reading is
lock-free and cached on the file's identity (device, inode, size, mtime): an atomic save always makes a new inode.
A save keeps the edited model as the cached copy (the file is not parsed again), and the YAML text of every
member that did not change is reused from the previous save (`dump_member_file`'s cache): saving one change to
a 10,000-member file writes it in a few hundredths of a second.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from edge.errors import ConfigError, StoreError
from edge.files import write_atomic
from edge.staff.edits import Edit
from edge.staff.memberfile import dump_member_file, parse_member_file
from edge.staff.members import Member, MemberFile


@dataclass(frozen=True)
class Loaded:
    """The member file as read: its validated content and its version (a digest of its bytes)."""

    members: MemberFile
    version: str


class MemberFileChanged(ConfigError):
    """The member file changed since the version an edit was based on; nothing was saved."""

    def __init__(self, path: Path, based_on: str, current: Loaded) -> None:
        super().__init__([f"{path}: changed since version {based_on} (now {current.version}); nothing was saved"])
        self.current = current


def version_of(data: bytes) -> str:
    """The version of a member file's bytes: the first 16 hex digits of their SHA-256."""
    return hashlib.sha256(data).hexdigest()[:16]


class MemberStore:
    """One member file; thread-safe, shared by every request of the console and by the CLI."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._cache: tuple[tuple[int, int, int, int], Loaded] | None = None
        self._guard = threading.Lock()  # one editor per process at a time; flock orders processes
        self._texts: dict[Member, str] = {}  # each member's YAML as last saved, used only under _guard

    def load(self) -> Loaded:
        """The current member file (parsed again only when the file changed); ConfigError when it is invalid."""
        try:
            st = os.stat(self.path)
        except OSError as exc:
            raise ConfigError([f"{self.path}: cannot read: {exc.strerror}"]) from None
        key = (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns)
        cached = self._cache
        if cached is not None and cached[0] == key:
            return cached[1]
        try:
            data = self.path.read_bytes()
            text = data.decode("utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise ConfigError([f"{self.path}: cannot read: {getattr(exc, 'strerror', None) or exc}"]) from None
        loaded = Loaded(parse_member_file(text, source=str(self.path)), version_of(data))
        self._cache = (key, loaded)
        return loaded

    @contextlib.contextmanager
    def locked(self) -> Iterator[None]:
        """Hold the member file's exclusive lock (waits for another editor to finish)."""
        with self._guard:
            try:
                fd = os.open(self.path.parent, os.O_RDONLY | os.O_DIRECTORY)
            except OSError as exc:
                raise StoreError(f"{self.path.parent}: cannot lock the member file: {exc.strerror}") from None
            try:
                fcntl.flock(fd, fcntl.LOCK_EX)
                yield
            finally:
                os.close(fd)  # closing releases the lock

    def edit(self, change: Callable[[MemberFile], Edit], *, based_on: str | None = None) -> tuple[Edit, Loaded]:
        """Apply `change` to the current file and save it, all under the lock; return the edit and the new file.

        `based_on` is the version the person editing saw: when the file has changed since, MemberFileChanged is
        raised (carrying the current file) and nothing is saved. An edit that changes nothing saves nothing.
        """
        with self.locked():
            current = self.load()
            if based_on is not None and based_on != current.version:
                raise MemberFileChanged(self.path, based_on, current)
            edit = change(current.members)
            if not edit.changed:
                return edit, current
            data = dump_member_file(edit.members, self._texts).encode("utf-8")
            mode = self.path.stat().st_mode & 0o777 if self.path.exists() else 0o600
            write_atomic(self.path, data, mode)
            saved = Loaded(edit.members, version_of(data))
            st = os.stat(self.path)
            self._cache = ((st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns), saved)
            return edit, saved
