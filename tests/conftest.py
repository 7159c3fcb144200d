"""Shared fixtures: a fresh store per test, helpers to write extract files, one Prefect harness per session."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest


def _spark_connect_fails_as_in_any_process_without_its_dependencies() -> None:
    """pytest-xdist's workers run with a bare __main__ (no __file__, no spec). pyspark.sql.connect, which Great
    Expectations tries to import, takes that for a doctest run and, when its own dependencies (grpc, ...) are
    missing, exits the process instead of raising ImportError as it does elsewhere. Make its import fail the
    ordinary way there."""
    main = sys.modules["__main__"]
    if getattr(main, "__spec__", None) is not None or hasattr(main, "__file__"):
        return
    try:
        from pyspark.testing.connectutils import should_test_connect  # what pyspark itself checks
    except ImportError:  # no pyspark (an optional extra): nothing imports it
        return
    if not should_test_connect:
        sys.modules.setdefault("pyspark.sql.connect", None)  # type: ignore[arg-type]  # None: ImportError on import


_spark_connect_fails_as_in_any_process_without_its_dependencies()

os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("DO_NOT_TRACK", "1")
os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")

ROOT = Path(__file__).resolve().parents[1]
REFERENCE = ROOT.parent / "shared" / "reference"


def pytest_collection_modifyitems(config, items):
    """Modules marked `heavy(minutes)` go first, longest first: xdist hands out whole files in collection order
    (--dist loadfile --no-loadscope-reorder in pyproject.toml), and the suite lasts as long as its last worker, so
    a file of several minutes must not be the last to start. The minutes are rough, from CI's durations."""
    def minutes(item) -> float:
        mark = item.get_closest_marker("heavy")
        return -float(mark.args[0]) if mark else 0.0

    items.sort(key=minutes)  # stable: the collection order otherwise


@pytest.fixture(scope="session")
def samples_ingested(tmp_path_factory) -> tuple[Path, list]:
    """data/samples ingested once per session (about 30 s): (store path, ingest reports). samples_built detects
    on this same store; never write to it."""
    from transforms.ingest import ingest_paths

    db = tmp_path_factory.mktemp("samples_built") / "samples.duckdb"
    return db, ingest_paths(db, [ROOT / "data" / "samples"])


@pytest.fixture(scope="session")
def samples_built(samples_ingested) -> tuple[Path, str]:
    """data/samples ingested, detected and built into casework once per session (a whole world, ~30 s): the
    casework, scoring and workbench tests read copies of it. Returns (store path, detect run id); never write to it."""
    from rules import casework
    from rules.engine import detect
    from transforms.store import connect

    db = samples_ingested[0]
    con = connect(db)
    try:
        run_id = detect(con).run_id
        casework.build(con, run_id)
    finally:
        con.close()
    return db, run_id


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return tmp_path / "store.duckdb"


@pytest.fixture
def write(tmp_path: Path):
    """write(name, text, encoding='utf-8') -> Path of a file in the test's folder."""

    def _write(name: str, text: str, encoding: str = "utf-8") -> Path:
        p = tmp_path / "in" / name
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(text.encode(encoding))
        return p

    return _write


@pytest.fixture(scope="session")
def prefect_harness(tmp_path_factory):
    """One temporary Prefect server for the whole session; heartbeats off so runs don't wait."""
    os.environ["PREFECT_HOME"] = str(tmp_path_factory.mktemp("prefect_home"))
    from prefect.settings import PREFECT_FLOWS_HEARTBEAT_FREQUENCY, temporary_settings
    from prefect.testing.utilities import prefect_test_harness

    with temporary_settings({PREFECT_FLOWS_HEARTBEAT_FREQUENCY: None}):
        with prefect_test_harness(server_startup_timeout=180):
            yield
            _bound_the_harness_drain()


def _bound_the_harness_drain(seconds: float = 10) -> None:
    """Prefect's test harness drains its log and event workers on exit without a timeout; a drain whose future is
    never resolved (seen at the end of a session, with every test passed; in every xdist worker) would hang the run
    for good. Give it ten seconds (what is left to drain is the test server's own logs), then stop the server."""
    import asyncio

    import prefect.testing.utilities as harness

    run = harness.run_coro_as_sync

    async def bounded(coro):
        try:
            await asyncio.wait_for(coro, seconds)
        except asyncio.TimeoutError:
            print(f"prefect harness: log and event workers not drained within {seconds:.0f} s; stopping the server")

    harness.run_coro_as_sync = lambda coro, **kw: run(bounded(coro), **kw)
