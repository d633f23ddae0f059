"""A throwaway PostgreSQL cluster of our own: ``initdb`` into a temporary directory, ``pg_ctl`` to start and stop it,
on a free loopback port with its unix socket in that directory. Never the shared server.

Used by the fault tests (tests/test_faults.py: stop the database under a running service, start it again) and the
soak script (tests/load/soak.py, ``--outage``)::

    with PgCluster() as cluster:
        url = cluster.url          # postgresql://postgres@127.0.0.1:<port>/postgres
        cluster.stop()             # pg_ctl stop -m fast
        cluster.start()

As root, the server runs as the ``postgres`` user (``runuser``), since PostgreSQL refuses to run as root; the
temporary directory is then owned by that user. The cluster is stopped (``-m immediate`` when a fast stop does not
do) and its directory removed on leaving the ``with`` block, whatever happened inside it."""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from types import TracebackType

SERVER_USER = "postgres"
START_TIMEOUT = 60  # seconds for initdb, and for pg_ctl to start or stop the server


class ClusterUnavailable(RuntimeError):
    """PostgreSQL binaries are missing, or there is no user to run them as."""


def find_bindir() -> Path:
    """The PostgreSQL binaries: ``PASSPORT_PG_BINDIR``, else ``pg_config --bindir``, else the newest
    ``/usr/lib/postgresql/*/bin``."""
    candidates: list[Path] = []
    if os.environ.get("PASSPORT_PG_BINDIR"):
        candidates.append(Path(os.environ["PASSPORT_PG_BINDIR"]))
    pg_config = shutil.which("pg_config")
    if pg_config:
        with contextlib.suppress(OSError, subprocess.SubprocessError):
            out = subprocess.run([pg_config, "--bindir"], capture_output=True, text=True, timeout=10, check=True)
            candidates.append(Path(out.stdout.strip()))
    versions = sorted(Path("/usr/lib/postgresql").glob("*/bin"),
                      key=lambda p: int(p.parent.name) if p.parent.name.isdigit() else 0, reverse=True)
    candidates.extend(versions)
    for bindir in candidates:
        if (bindir / "initdb").is_file() and (bindir / "pg_ctl").is_file():
            return bindir
    raise ClusterUnavailable("no PostgreSQL binaries (initdb, pg_ctl) found: set PASSPORT_PG_BINDIR")


def unavailable_reason() -> str | None:
    """Why no throwaway cluster can be made here (None when one can)."""
    try:
        find_bindir()
    except ClusterUnavailable as exc:
        return str(exc)
    if os.geteuid() == 0:
        try:
            pwd.getpwnam(SERVER_USER)
        except KeyError:
            return f"running as root and there is no {SERVER_USER!r} user to run PostgreSQL as"
        if shutil.which("runuser") is None:
            return "running as root and runuser is missing"
    return None


def free_port() -> int:
    """A loopback TCP port nobody listens on at the moment (free again at once: a small race, retried on start)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class PgCluster:
    """One throwaway cluster. ``settings`` are extra postgresql.conf lines (name -> value, written as given).
    ``durable=False`` turns fsync off (quicker; a fast stop still checkpoints, so nothing acknowledged is lost)."""

    def __init__(self, *, durable: bool = False, settings: Mapping[str, str] | None = None,
                 max_connections: int = 100) -> None:
        self.bindir = find_bindir()
        self.durable = durable
        self.settings = dict(settings or {})
        self.max_connections = max_connections
        self.base: Path | None = None
        self.port = 0
        self.running = False

    # --- paths and URLs -----------------------------------------------------------------------------------------

    @property
    def data(self) -> Path:
        assert self.base is not None, "the cluster was not created"
        return self.base / "data"

    @property
    def log(self) -> Path:
        assert self.base is not None, "the cluster was not created"
        return self.base / "server.log"

    @property
    def url(self) -> str:
        """SQLAlchemy/libpq URL of the ``postgres`` database over TCP on loopback (trust authentication)."""
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def database_url(self, name: str) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{name}"

    # --- life cycle ---------------------------------------------------------------------------------------------

    def _command(self, args: Sequence[str]) -> list[str]:
        if os.geteuid() == 0:
            return ["runuser", "-u", SERVER_USER, "--", *args]
        return list(args)

    def _run(self, args: Sequence[str], timeout: float = START_TIMEOUT) -> subprocess.CompletedProcess[str]:
        return subprocess.run(self._command(args), capture_output=True, text=True, timeout=timeout, check=False,
                              cwd=self.base, env={**os.environ, "LC_ALL": "C"})

    def create(self) -> None:
        """initdb into a new temporary directory (owned by the server's user when we are root)."""
        reason = unavailable_reason()
        if reason:
            raise ClusterUnavailable(reason)
        self.base = Path(tempfile.mkdtemp(prefix="passport-pg-"))
        if os.geteuid() == 0:
            user = pwd.getpwnam(SERVER_USER)
            os.chown(self.base, user.pw_uid, user.pw_gid)
        done = self._run([str(self.bindir / "initdb"), "-D", str(self.data), "-U", "postgres", "--auth=trust",
                          "-E", "UTF8", "--no-locale", "--no-instructions", "--no-sync"])
        if done.returncode != 0:
            raise RuntimeError(f"initdb failed ({done.returncode}): {done.stderr.strip()[-2000:]}")
        self.port = free_port()
        lines = {
            "listen_addresses": "'127.0.0.1'",
            "unix_socket_directories": f"'{self.base}'",
            "max_connections": str(self.max_connections),
            "fsync": "on" if self.durable else "off",
            "synchronous_commit": "on" if self.durable else "off",
            "full_page_writes": "on" if self.durable else "off",
            "logging_collector": "off",
            **self.settings,
        }
        with (self.data / "postgresql.conf").open("a", encoding="utf-8") as conf:
            conf.write("\n# passport throwaway cluster\n")
            conf.writelines(f"{name} = {value}\n" for name, value in lines.items())

    def _set_port(self, port: int) -> None:
        with (self.data / "postgresql.conf").open("a", encoding="utf-8") as conf:
            conf.write(f"port = {port}\n")  # the last setting of a name wins
        self.port = port

    def start(self) -> None:
        """pg_ctl start, waiting until the server accepts connections. The port stays the same across restarts
        (the service under test keeps its URL); on the first start, a port taken meanwhile is replaced."""
        first = not (self.data / "postmaster.opts").exists()
        attempts = 3 if first else 1
        for attempt in range(attempts):
            if first:
                self._set_port(self.port if attempt == 0 else free_port())
            done = self._run([str(self.bindir / "pg_ctl"), "-D", str(self.data), "-l", str(self.log), "-w",
                              "-t", str(START_TIMEOUT), "start"], timeout=START_TIMEOUT + 10)
            if done.returncode == 0:
                self.running = True
                return
        raise RuntimeError(f"pg_ctl start failed: {done.stderr.strip()[-1000:]}\n{self.log_tail()}")

    def stop(self, mode: str = "fast") -> None:
        """pg_ctl stop (``fast``: roll back open transactions, disconnect clients, checkpoint)."""
        done = self._run([str(self.bindir / "pg_ctl"), "-D", str(self.data), "-m", mode, "-w",
                          "-t", str(START_TIMEOUT), "stop"], timeout=START_TIMEOUT + 10)
        if done.returncode != 0:
            raise RuntimeError(f"pg_ctl stop -m {mode} failed: {done.stderr.strip()[-1000:]}")
        self.running = False

    def is_ready(self) -> bool:
        done = self._run([str(self.bindir / "pg_isready"), "-h", "127.0.0.1", "-p", str(self.port), "-t", "2"],
                         timeout=10)
        return done.returncode == 0

    def postmaster_pid(self) -> int | None:
        try:
            return int((self.data / "postmaster.pid").read_text().split()[0])
        except (OSError, ValueError, IndexError):
            return None

    def log_tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no server log)"

    def destroy(self) -> None:
        """Stop the server if it runs (fast, then immediate, then SIGKILL of our own postmaster) and remove the
        directory."""
        if self.base is None:
            return
        if self.data.is_dir() and self.postmaster_pid() is not None:
            for mode in ("fast", "immediate"):
                with contextlib.suppress(RuntimeError, subprocess.SubprocessError):
                    self.stop(mode)
                    break
            pid = self.postmaster_pid()
            if pid is not None:
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.kill(pid, signal.SIGKILL)
                    time.sleep(0.5)
        self.running = False
        shutil.rmtree(self.base, ignore_errors=True)
        self.base = None

    def __enter__(self) -> PgCluster:
        try:
            self.create()
            self.start()
        except BaseException:
            self.destroy()
            raise
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 traceback: TracebackType | None) -> None:
        self.destroy()


__all__ = ["ClusterUnavailable", "PgCluster", "find_bindir", "free_port", "unavailable_reason"]
