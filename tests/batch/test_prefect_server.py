"""A real Prefect server on 127.0.0.1: `scamtrace serve` registers the batch flow on a schedule, a run is
triggered through the API, completes, produces alerts and artifacts; then everything is stopped."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.batch.world import write_day, write_reference
from transforms import store

pytestmark = pytest.mark.slow  # a whole world / server / pipeline run (`pytest -m 'not slow'` skips it)

BIN = Path(sys.executable).parent


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait(predicate, timeout: float, what: str, proc: subprocess.Popen | None = None):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise AssertionError(f"{what}: process exited with {proc.returncode}")
        try:
            value = predicate()
            if value:
                return value
        except httpx.HTTPError:
            pass
        time.sleep(1)
    raise AssertionError(f"timed out waiting for {what}")


def _stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


@pytest.mark.skipif(not (BIN / "prefect").exists(), reason="prefect CLI not installed in this environment")
def test_serve_on_a_real_server_and_trigger_a_run(tmp_path):
    port = _free_port()
    api = f"http://127.0.0.1:{port}/api"
    env = {
        **os.environ,
        "PREFECT_HOME": str(tmp_path / "prefect_home"),
        "PREFECT_API_URL": api,
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "DO_NOT_TRACK": "1",
        "PREFECT_LOGGING_LEVEL": "WARNING",
        "PREFECT_FLOWS_HEARTBEAT_FREQUENCY": "",
    }
    env.pop("PREFECT_FLOWS_HEARTBEAT_FREQUENCY")
    landing, out, db = tmp_path / "landing", tmp_path / "out", tmp_path / "batch.duckdb"
    write_reference(landing)
    write_day(landing, 1)
    write_day(landing, 2)
    logs = tmp_path / "logs"
    logs.mkdir()
    server = subprocess.Popen(
        [str(BIN / "prefect"), "server", "start", "--host", "127.0.0.1", "--port", str(port)],
        env=env, stdout=open(logs / "server.log", "wb"), stderr=subprocess.STDOUT, start_new_session=True,
    )
    served = None
    try:
        _wait(lambda: httpx.get(f"{api}/health", timeout=5).status_code == 200, 180, "the Prefect server", server)
        served = subprocess.Popen(
            [str(BIN / "scamtrace"), "serve", "--landing", str(landing), "--out", str(out), "--db", str(db),
             "--cron", "0 3 * * *", "--name", "test-batch"],
            env=env, stdout=open(logs / "serve.log", "wb"), stderr=subprocess.STDOUT, start_new_session=True,
        )

        def deployment():
            found = httpx.post(f"{api}/deployments/filter", json={}, timeout=10).json()
            return next((d for d in found if d["name"] == "test-batch"), None)

        dep = _wait(deployment, 180, "the served deployment", served)
        assert dep["schedules"] and dep["schedules"][0]["schedule"]["cron"] == "0 3 * * *"

        def create():  # a busy server can answer with an error body (no id): ask again, as a client would
            r = httpx.post(f"{api}/deployments/{dep['id']}/create_flow_run", json={}, timeout=10)
            body = r.json() if r.headers.get("content-type", "").startswith("application/json") else {}
            if r.is_success and isinstance(body, dict) and "id" in body:
                return body
            print(f"create_flow_run answered {r.status_code}: {r.text[:300]}")  # shown if the test fails
            return None

        run = _wait(create, 120, "the flow run to be created", served)

        def finished():
            state = httpx.get(f"{api}/flow_runs/{run['id']}", timeout=10).json()["state"]
            return state if state["type"] in ("COMPLETED", "FAILED", "CRASHED", "CANCELLED") else None

        state = _wait(finished, 300, "the triggered flow run", served)
        assert state["type"] == "COMPLETED", (state, (logs / "serve.log").read_text()[-3000:])
        artifacts = httpx.post(f"{api}/artifacts/filter", json={}, timeout=10).json()
        assert {"run-summary", "run-top-alerts"} <= {a["key"] for a in artifacts}
    finally:
        if served is not None:
            _stop(served)
        _stop(server)
    con = store.connect(db)
    try:
        alerts = con.execute("SELECT subject_id FROM alerts WHERE typology_id = 'mule_fan_in'").fetchall()
    finally:
        con.close()
    assert ("TESTBK:MULE01",) in alerts
    assert (out / "manifest.json").is_file()
