"""Debian Bookworm roots to deploy to: amd64, and arm64 (the Raspberry Pi's architecture) run through qemu-user-static.

A root is bootstrapped with debootstrap (minbase) once per day, architecture and package list, kept as a tarball in
the cache directory (EDGE_TEST_ROOT_CACHE, default /var/cache/edge-tests; CI starts clean and makes it once per
run) and unpacked fresh for each test module that deploys to one. Commands inside a root run through `chroot`; the
root shares this machine's network, so a daemon inside reaches a broker on 127.0.0.1.
"""

from __future__ import annotations

import datetime as dt
import fcntl
import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

CACHE = Path(os.environ.get("EDGE_TEST_ROOT_CACHE", "/var/cache/edge-tests"))
BINFMT = Path("/proc/sys/fs/binfmt_misc")
QEMU = {"arm64": "qemu-aarch64"}
"""The binfmt_misc entry (from Debian's qemu-user-static) that runs each foreign architecture's binaries."""


def run(*args: str, timeout: float = 1800) -> subprocess.CompletedProcess[str]:
    """Run a command, capturing its output; never raise on its exit status."""
    return subprocess.run(list(args), capture_output=True, text=True, timeout=timeout, check=False)


def debian_mirror() -> str:
    """The Debian mirror apt on this machine uses (deb822 or one-line sources), for debootstrap."""
    sources = [Path("/etc/apt/sources.list"), *sorted(Path("/etc/apt/sources.list.d").glob("*"))]
    for path in sources:
        text = path.read_text() if path.is_file() else ""
        for uri in re.findall(r"^URIs:\s*(\S+)", text, re.MULTILINE) + re.findall(
            r"^deb\s+(?:\[[^]]*\]\s+)?(\S+)\s+bookworm\s", text, re.MULTILINE
        ):
            if uri.rstrip("/").endswith("/debian"):
                return str(uri)
    return "http://deb.debian.org/debian"


def enable_architecture(arch: str) -> None:
    """Make this machine run `arch` binaries: binfmt_misc mounted and qemu's entry enabled (Debian's packages)."""
    if arch not in QEMU:
        return
    entry = BINFMT / QEMU[arch]
    if not (BINFMT / "status").exists():
        mounted = run("mount", "-t", "binfmt_misc", "binfmt_misc", str(BINFMT))
        assert mounted.returncode == 0, f"cannot mount binfmt_misc: {mounted.stderr}"
    if not entry.exists():
        enabled = run("update-binfmts", "--enable", QEMU[arch])
        assert enabled.returncode == 0, (
            f"cannot enable {QEMU[arch]} ({enabled.stderr.strip()}): tools/setup.sh installs qemu-user-static and "
            "binfmt-support"
        )
    assert entry.read_text().startswith("enabled"), f"{entry} is disabled"


def root_tarball(arch: str, include: tuple[str, ...] = ()) -> Path:
    """A tarball of a fresh minbase Bookworm root for `arch` with `include` added, made at most once a day."""
    enable_architecture(arch)
    name = f"bookworm-{arch}-minbase-{'+'.join(include) or 'plain'}"
    tarball = CACHE / f"{name}-{dt.date.today():%Y%m%d}.tar"
    if tarball.exists():
        return tarball
    CACHE.mkdir(parents=True, exist_ok=True)
    # Two test workers (pytest -n 2) may need the same root at once: the second waits for the first's tarball
    # instead of bootstrapping it again beside it.
    with open(CACHE / f"{name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not tarball.exists():
            _bootstrap(arch, include, name, tarball)
    return tarball


def _bootstrap(arch: str, include: tuple[str, ...], name: str, tarball: Path) -> None:
    work = Path(tempfile.mkdtemp(prefix=f"{name}-", dir=CACHE))
    try:
        options = [f"--arch={arch}", "--variant=minbase", *([f"--include={','.join(include)}"] if include else [])]
        made = run("debootstrap", *options, "bookworm", str(work / "root"), debian_mirror())
        assert made.returncode == 0, made.stdout[-3000:] + made.stderr[-3000:]
        packed = run("tar", "-C", str(work / "root"), "--numeric-owner", "-cf", str(work / "root.tar"), ".")
        assert packed.returncode == 0, packed.stderr[-3000:]
        os.replace(work / "root.tar", tarball)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    for old in CACHE.glob(f"{name}-*.tar"):
        if old != tarball:
            old.unlink(missing_ok=True)


def unpack_root(tarball: Path, root: Path) -> Path:
    """A root unpacked from `tarball`, made ready for the deployment as Raspberry Pi OS would be.

    Packages start no service (policy-rc.d), dpkg does not fsync (the root is thrown away), /boot/firmware exists,
    and pip inside trusts what this machine trusts (a TLS-intercepting proxy's CA included) through
    /etc/edge-test/ca-bundle.pem.
    """
    root.mkdir(parents=True)
    unpacked = run("tar", "-C", str(root), "--numeric-owner", "-xpf", str(tarball))
    assert unpacked.returncode == 0, unpacked.stderr[-3000:]
    # Written after removing whatever is there: a symlink in the root must never lead a write to this machine's files.
    for inside in ("usr/sbin/policy-rc.d", "etc/resolv.conf"):
        (root / inside).unlink(missing_ok=True)
    policy = root / "usr/sbin/policy-rc.d"
    policy.write_text("#!/bin/sh\nexit 101\n")
    policy.chmod(0o755)
    (root / "boot/firmware").mkdir(parents=True, exist_ok=True)
    # A root thrown away after the test needs no fsync per file: dpkg under qemu spends most of its time there.
    (root / "etc/dpkg/dpkg.cfg.d/edge-test-unsafe-io").write_text("force-unsafe-io\n")
    (root / "etc/edge-test").mkdir(exist_ok=True)
    shutil.copy("/etc/ssl/certs/ca-certificates.crt", root / "etc/edge-test/ca-bundle.pem")
    shutil.copy("/etc/resolv.conf", root / "etc/resolv.conf")
    return root


def mounts_under(root: Path) -> list[str]:
    """The mount points inside `root`, deepest first."""
    inside = str(root.resolve()) + "/"
    points = [line.split()[1] for line in Path("/proc/self/mounts").read_text().splitlines()]
    return sorted((p for p in points if p.startswith(inside)), key=len, reverse=True)


@contextmanager
def chroot_mounts(root: Path) -> Iterator[None]:
    """/proc and this machine's /dev/pts inside `root` (a pty made here is then a device there); unmounted after."""
    try:
        for args in (["-t", "proc", "proc", "proc"], ["--bind", "/dev/pts", "dev/pts"]):
            target = root / args[-1]
            target.mkdir(parents=True, exist_ok=True)
            done = run("mount", *args[:-1], str(target))
            assert done.returncode == 0, done.stderr
        yield
    finally:
        for point in mounts_under(root):
            if run("umount", point).returncode != 0:
                run("umount", "-l", point)


def remove_root(root: Path) -> None:
    """Delete a root, never while something is mounted inside it (that would reach this machine's files)."""
    if root.exists() and not mounts_under(root):
        shutil.rmtree(root, ignore_errors=True)


def build_edge_wheel(out: Path) -> Path:
    """The edge wheel built from this checkout into `out`, as an installer builds it on the controller.

    Built from a copy of the sources: setuptools works in the source tree's build/, which two test sessions on one
    machine would otherwise share."""
    repo = Path(__file__).resolve().parents[1]
    source = out / "source"
    shutil.copytree(repo / "edge", source / "edge", ignore=shutil.ignore_patterns("__pycache__"))
    for name in ["pyproject.toml", "README.md", *(p.name for p in repo.glob("LICENSE*"))]:
        shutil.copy(repo / name, source / name)
    built = run(sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(out), str(source), timeout=600)
    assert built.returncode == 0, built.stderr[-3000:]
    (wheel,) = out.glob("edge-*.whl")
    return wheel
