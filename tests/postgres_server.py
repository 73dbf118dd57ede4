"""A throwaway PostgreSQL cluster for the tests: initdb in a temp folder, served on a free loopback port.

Debian's ``postgresql`` package puts its programs in /usr/lib/postgresql/<version>/bin (``.ci/run``
installs it when missing). PostgreSQL refuses to run as root, so under root the cluster is made and run
as the ``postgres`` system user.
"""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import tempfile
import uuid
from pathlib import Path

import sqlalchemy

from tests.telegram_emulator import free_port

START_SECONDS = 300  # how long initdb or a start may take before the cluster counts as unavailable


class PostgresUnavailable(RuntimeError):
    pass


def find_bindir() -> Path:
    """Where initdb, pg_ctl and postgres live (TUYABOT_TEST_PG_BIN, PATH, then Debian's folders)."""
    candidates = [os.environ.get("TUYABOT_TEST_PG_BIN", "")]
    initdb = shutil.which("initdb")
    if initdb:
        candidates.append(str(Path(initdb).resolve().parent))
    candidates += sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=lambda p: int(Path(p).parent.name), reverse=True)
    for folder in filter(None, candidates):
        if (Path(folder) / "initdb").is_file() and (Path(folder) / "pg_ctl").is_file():
            return Path(folder)
    raise PostgresUnavailable("PostgreSQL's initdb is not installed (apt-get install postgresql)")


class PostgresServer:
    """A cluster owned by the tests; ``database()`` makes a fresh empty database and returns its URL."""

    def __init__(self) -> None:
        self.bindir = find_bindir()
        self.folder = Path(tempfile.mkdtemp(prefix="tuyabot-pg-"))
        self.port = free_port()
        self._as_postgres = os.geteuid() == 0
        if self._as_postgres:
            shutil.chown(self.folder, "postgres")
        data = self.folder / "data"
        self._run("initdb", "-D", str(data), "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync")
        options = f"-h 127.0.0.1 -p {self.port} -k {self.folder} -c fsync=off -c full_page_writes=off"
        # -w waits until the server accepts connections; on a loaded CPU that can take longer than pg_ctl's
        # default 60 s (then every PostgreSQL test failed at once): wait up to START_SECONDS
        self._run("pg_ctl", "-D", str(data), "-l", str(self.folder / "server.log"), "-o", options, "-w",
                  "-t", str(START_SECONDS), "start")
        self.url = f"postgresql+psycopg://postgres@127.0.0.1:{self.port}"
        self._admin = sqlalchemy.create_engine(f"{self.url}/postgres", isolation_level="AUTOCOMMIT")

    def database(self) -> str:
        name = f"t_{uuid.uuid4().hex[:12]}"
        with self._admin.connect() as connection:
            connection.exec_driver_sql(f"CREATE DATABASE {name}")
        return f"{self.url}/{name}"

    def stop(self) -> None:
        self._admin.dispose()
        try:
            self._run("pg_ctl", "-D", str(self.folder / "data"), "-m", "immediate", "-w", "stop")
        finally:
            shutil.rmtree(self.folder, ignore_errors=True)

    def _run(self, program: str, *args: str) -> None:
        command = [str(self.bindir / program), *args]
        if self._as_postgres:
            command = ["runuser", "-u", "postgres", "--", *command]
        done = subprocess.run(command, capture_output=True, text=True, timeout=START_SECONDS + 60, cwd=self.folder)
        if done.returncode != 0:
            log = self.folder / "server.log"
            detail = log.read_text(errors="replace")[-2000:] if log.is_file() else ""
            raise PostgresUnavailable(f"{program} failed: {done.stderr.strip()[-2000:]}\n{detail}")

