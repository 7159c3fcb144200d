"""The workbench's test fixtures: a store of data/samples with one run and its serving snapshot (built once, copied
per test), case stores on SQLite and, when PostgreSQL is installed, on a real server the tests start, and users."""

from __future__ import annotations

import getpass
import os
import shutil
import socket
import subprocess
import tempfile
import time
import uuid
from pathlib import Path

import pytest

from transforms.store import connect
from workbench import casestore, serving, users

ROOT = Path(__file__).resolve().parents[2]
SAMPLES = ROOT / "data" / "samples"
PASSWORDS = {"ana": "ana-password-1", "bob": "bob-password-1", "sue": "sue-password-1", "tom": "tom-password-1",
             "adm": "adm-password-1"}
ROLES = {"ana": "analyst", "bob": "analyst", "sue": "supervisor", "tom": "supervisor", "adm": "admin"}


@pytest.fixture(scope="session")
def samples_snapshot(samples_built, tmp_path_factory) -> Path:
    """A copy of the session's built samples store (tests/conftest.py) with its serving snapshot."""
    db = tmp_path_factory.mktemp("workbench") / "samples.duckdb"
    shutil.copy(samples_built[0], db)
    con = connect(db)
    try:
        serving.publish(con, db)
    finally:
        con.close()
    return db


@pytest.fixture
def store(samples_snapshot, tmp_path) -> Path:
    """A copy of the store and its serving folder."""
    db = tmp_path / "store.duckdb"
    shutil.copy(samples_snapshot, db)
    shutil.copytree(serving.serving_dir(samples_snapshot), serving.serving_dir(db))
    return db


# ------------------------------------------------------------------------------------------------ PostgreSQL
def _pg_bin() -> Path | None:
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"))
    return found[-1].parent if found else None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def pg_server():
    """A PostgreSQL server on 127.0.0.1 for the session (initdb into a temp folder), stopped at the end."""
    bindir = _pg_bin()
    if bindir is None:
        pytest.skip("PostgreSQL is not installed (.ci/run installs it)")
    # Not under pytest's temp root: that is owner-only, and as root the server runs as another user.
    base = Path(tempfile.mkdtemp(prefix="scamtrace-pg-"))
    data, sock = base / "data", base / "sock"
    sock.mkdir()
    as_user: list[str] = []
    if os.geteuid() == 0:  # initdb refuses root: run the server as the postgres system user
        as_user = ["runuser", "-u", "postgres", "--"]
        os.chmod(base, 0o777)
        shutil.chown(sock, "postgres")
    user = "postgres" if as_user else getpass.getuser()
    subprocess.run([*as_user, str(bindir / "initdb"), "-D", str(data), "-U", user, "--auth=trust", "-E", "UTF8"],
                   check=True, capture_output=True)
    port = _free_port()
    log = base / "pg.log"
    if as_user:
        log.touch()
        shutil.chown(log, "postgres")
    subprocess.run([*as_user, str(bindir / "pg_ctl"), "-D", str(data), "-l", str(log), "-w", "-o",
                    f"-p {port} -k {sock} -c listen_addresses=127.0.0.1 -c fsync=off", "start"],
                   check=True, capture_output=True)
    try:
        yield {"port": port, "user": user, "bindir": bindir}
    finally:
        subprocess.run([*as_user, str(bindir / "pg_ctl"), "-D", str(data), "-m", "fast", "stop"], capture_output=True)
        shutil.rmtree(base, ignore_errors=True)


def pg_database(server: dict) -> str:
    """A new, empty database on the test server; its URL."""
    import psycopg

    name = "wb_" + uuid.uuid4().hex[:12]
    with psycopg.connect(f"postgresql://{server['user']}@127.0.0.1:{server['port']}/postgres", autocommit=True) as c:
        c.execute(f"CREATE DATABASE {name}")
    return f"postgresql://{server['user']}@127.0.0.1:{server['port']}/{name}"


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.slow)])
def case_url(request, tmp_path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'cases.sqlite'}"
    return pg_database(request.getfixturevalue("pg_server"))


@pytest.fixture
def sqlite_url(tmp_path) -> str:
    return f"sqlite:///{tmp_path / 'cases.sqlite'}"


def add_users(url: str) -> None:
    eng = casestore.engine(url)
    for name, role in ROLES.items():
        users.add(eng, name, role, PASSWORDS[name])


def wait_port(port: int, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise TimeoutError(f"nothing listens on {port}")
