"""A throwaway PostgreSQL cluster for the test run, so the registry tests that need a
server run on both backends without one being configured.

``start`` makes a cluster in a temporary folder with the server binaries on this machine
(``initdb``/``pg_ctl`` on PATH or under /usr/lib/postgresql/*/bin; the Makefile installs
Debian's ``postgresql`` when they are missing), trust authentication on 127.0.0.1 and a
free port, and returns its URL. PostgreSQL refuses to run as root, so as root the
cluster belongs to the ``postgres`` (else ``nobody``) user. ``stop`` shuts it down and
removes the folder.
"""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Cluster:
    """A running cluster: its folder, the binaries' folder, its owner and URL."""

    folder: Path
    bin_dir: Path
    user: str | None
    url: str


def find_bin_dir() -> Path | None:
    """The folder holding ``initdb`` and ``pg_ctl``, or None."""
    found = shutil.which("initdb")
    if found and shutil.which("pg_ctl"):
        return Path(found).resolve().parent
    candidates = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"), reverse=True)
    return candidates[0].parent if candidates else None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _owner() -> str | None:
    """Who runs the server: ourselves, or as root an unprivileged account."""
    if os.geteuid() != 0:
        return None
    for name in ("postgres", "nobody"):
        try:
            pwd.getpwnam(name)
        except KeyError:
            continue
        return name
    raise RuntimeError("running as root and no unprivileged user to run PostgreSQL as")


def _run(user: str | None, *args: str) -> None:
    command = ["runuser", "-u", user, "--", *args] if user else list(args)
    subprocess.run(command, check=True, capture_output=True, timeout=120)


def start() -> Cluster | None:
    """Start a cluster; None when this machine has no PostgreSQL server binaries."""
    bin_dir = find_bin_dir()
    if bin_dir is None:
        return None
    user = _owner()
    folder = Path(tempfile.mkdtemp(prefix="audioclf-pg-"))
    data = folder / "data"
    if user:
        entry = pwd.getpwnam(user)
        os.chown(folder, entry.pw_uid, entry.pw_gid)
    port = _free_port()
    _run(user, str(bin_dir / "initdb"), "-D", str(data), "-A", "trust", "-U", "audioclf")
    options = f"-h 127.0.0.1 -p {port} -k {folder} -c fsync=off"
    log = folder / "server.log"
    pg_ctl = str(bin_dir / "pg_ctl")
    _run(user, pg_ctl, "-D", str(data), "-o", options, "-l", str(log), "-w", "start")
    url = f"postgresql+psycopg://audioclf@127.0.0.1:{port}/postgres"
    return Cluster(folder, bin_dir, user, url)


def stop(cluster: Cluster) -> None:
    """Stop the cluster and remove its folder."""
    try:
        _run(
            cluster.user,
            str(cluster.bin_dir / "pg_ctl"),
            "-D",
            str(cluster.folder / "data"),
            "-m",
            "immediate",
            "stop",
        )
    finally:
        shutil.rmtree(cluster.folder, ignore_errors=True)
