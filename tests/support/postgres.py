"""A throwaway PostgreSQL server from the machine's own binaries, once per test session (pytest plugin).

`initdb` in a fresh temporary folder, `pg_ctl start` on a free loopback port, a new database per
test (`postgres.database()`), and the whole cluster stopped and deleted at the end of the session.
Without the binaries (or, as root, without the `postgres` user that `initdb` needs) every test using it
is skipped with that reason: never faked with SQLite.
"""

from __future__ import annotations

import os
import pwd
import secrets
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.support.servers import free_port

_SEARCH = ("/usr/lib/postgresql/*/bin", "/usr/local/pgsql/bin", "/usr/pgsql-*/bin")


def postgres_bin() -> Path | None:
    """The newest folder holding initdb and pg_ctl: Debian's versioned folders, else the PATH."""
    found = sorted(
        (p for pattern in _SEARCH for p in Path("/").glob(pattern.lstrip("/")) if (p / "initdb").exists()),
        key=lambda p: [int(part) if part.isdigit() else 0 for part in p.parent.name.split(".")],
    )
    if found:
        return found[-1]
    initdb = shutil.which("initdb")
    return Path(initdb).parent if initdb else None


def _run_as() -> list[str]:
    """PostgreSQL refuses to run as root: as root, run its binaries as the `postgres` user."""
    if os.geteuid() != 0:
        return []
    pwd.getpwnam("postgres")  # KeyError when there is no such user
    return ["runuser", "-u", "postgres", "--"]


@dataclass
class PostgresServer:
    """A running throwaway cluster; trust authentication on loopback only."""

    port: int
    user: str = "postgres"
    databases: list[str] = field(default_factory=list)

    def url(self, database: str, *, driver: str = "postgresql+psycopg") -> str:
        return f"{driver}://{self.user}@127.0.0.1:{self.port}/{database}"

    def database(self, prefix: str = "t", *, template: str | None = None) -> str:
        """A new database, empty or a copy of `template`; returns the app's SQLAlchemy URL to it."""
        import psycopg

        name = f"{prefix}_{secrets.token_hex(4)}"
        copy = f' TEMPLATE "{template}"' if template else ""
        with psycopg.connect(self.url("postgres", driver="postgresql"), autocommit=True) as connection:
            connection.execute(f'CREATE DATABASE "{name}"{copy}')
        self.databases.append(name)
        return self.url(name)


def _start(bin_dir: Path, run_as: list[str], root: Path) -> PostgresServer:
    data, sockets, port = root / "data", root / "sockets", free_port()
    sockets.mkdir()
    if run_as:
        shutil.chown(root, "postgres")
        shutil.chown(sockets, "postgres")
    subprocess.run(
        [*run_as, str(bin_dir / "initdb"), "-D", str(data), "-U", "postgres", "--auth=trust", "-E", "UTF8",
         "--no-locale", "--no-sync"],
        check=True,
        capture_output=True,
    )  # fmt: skip
    # A test server: no durability (fsync off), small, loopback only.
    options = f"-p {port} -k {sockets} -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off "
    options += "-c full_page_writes=off -c max_connections=200 -c shared_buffers=32MB"
    subprocess.run(
        [*run_as, str(bin_dir / "pg_ctl"), "-D", str(data), "-o", options, "-l", str(root / "server.log"), "-w",
         "-t", "60", "start"],
        check=True,
        capture_output=True,
    )  # fmt: skip
    return PostgresServer(port=port)


def _stop(bin_dir: Path, run_as: list[str], root: Path) -> None:
    subprocess.run(
        [*run_as, str(bin_dir / "pg_ctl"), "-D", str(root / "data"), "-m", "immediate", "-w", "stop"],
        capture_output=True,
        check=False,
    )
    shutil.rmtree(root, ignore_errors=True)


class PostgresUnavailable(Exception):
    """Why a throwaway PostgreSQL cannot be had on this machine."""


@contextmanager
def throwaway_postgres() -> Iterator[PostgresServer]:
    """A server for the block, stopped and deleted after it (for the fixture and `make bench-scale`)."""
    bin_dir = postgres_bin()
    if bin_dir is None:
        raise PostgresUnavailable("PostgreSQL binaries (initdb, pg_ctl) not found: apt-get install postgresql")
    try:
        run_as = _run_as()
    except KeyError as exc:
        raise PostgresUnavailable("running as root and there is no `postgres` user to run initdb as") from exc
    root = Path(tempfile.mkdtemp(prefix="advisor-pg-"))
    try:
        server = _start(bin_dir, run_as, root)
    except subprocess.CalledProcessError as exc:
        log = (root / "server.log").read_text(errors="replace") if (root / "server.log").exists() else ""
        _stop(bin_dir, run_as, root)
        raise RuntimeError(f"PostgreSQL did not start: {exc.stderr!r} {log[-2000:]}") from exc
    try:
        yield server
    finally:
        _stop(bin_dir, run_as, root)


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresServer]:
    """The session's PostgreSQL server (skipped with the reason when it cannot be had)."""
    try:
        with throwaway_postgres() as server:
            yield server
    except PostgresUnavailable as exc:
        pytest.skip(str(exc))


@pytest.fixture
def pg_url(postgres: PostgresServer) -> str:
    """A fresh, empty PostgreSQL database for one test (the app's SQLAlchemy URL)."""
    return postgres.database()
