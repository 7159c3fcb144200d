"""No orphans: a scamtrace command that needs Prefect's temporary server and is killed mid-way (SIGKILL, as a
crash or an impatient operator does) leaves no server behind; a command that finishes stops its server too."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import psutil
import pytest
from typer.testing import CliRunner

from flows.cli import app

pytestmark = pytest.mark.slow


def _store(tmp_path):
    rates = tmp_path / "rates.csv"
    rates.write_text("date,currency,usd_per_unit\n2025-01-01,THB,0.03\n")
    db = tmp_path / "s.duckdb"
    assert CliRunner().invoke(app, ["ingest", str(rates), "--db", str(db), "-q"]).exit_code == 0
    return db


def _detect(db):
    env = {k: v for k, v in os.environ.items() if k != "PREFECT_API_URL"}
    return subprocess.Popen([sys.executable, "-c", "from flows.cli import app; app()", "detect", "--db", str(db), "-q"],
                            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def _servers(pid: int) -> list[psutil.Process]:
    try:
        children = psutil.Process(pid).children(recursive=True)
    except psutil.NoSuchProcess:
        return []
    return [c for c in children if "flows.local_server" in " ".join(c.cmdline())]


def _gone_within(proc: psutil.Process, seconds: float) -> bool:
    try:
        proc.wait(timeout=seconds)
    except psutil.TimeoutExpired:
        return False
    return True


def test_sigkill_mid_command_leaves_no_server(tmp_path):
    cmd = _detect(_store(tmp_path))
    deadline = time.monotonic() + 120
    servers: list[psutil.Process] = []
    while not servers and cmd.poll() is None and time.monotonic() < deadline:
        servers = _servers(cmd.pid)
        time.sleep(0.1)
    assert servers, "the command started no temporary server: " + cmd.stderr.read().decode()
    os.kill(cmd.pid, signal.SIGKILL)
    cmd.wait()
    server = servers[0]
    try:
        assert _gone_within(server, 10), f"temporary server {server.pid} outlived its killed command"
    finally:
        if server.is_running():
            server.kill()


def test_finished_command_stops_its_server(tmp_path):
    cmd = _detect(_store(tmp_path))
    seen: list[psutil.Process] = []
    while cmd.poll() is None:
        seen = seen or _servers(cmd.pid)
        time.sleep(0.1)
    assert cmd.returncode == 0, cmd.stderr.read().decode()
    assert seen, "the command started no temporary server"
    assert _gone_within(seen[0], 5)
