"""Two runs on one store at once: the second waits (--wait / wait_seconds) or is refused with a clear one-line
message; the store is never corrupted and ends up as after one run. Real processes (forked by crashkit's zygote)."""

from __future__ import annotations

import pytest

from tests.reliability.crashkit import INGEST_TABLES, fingerprint, write_world


@pytest.fixture(scope="module")
def world(tmp_path_factory, zygote):
    base = tmp_path_factory.mktemp("concurrency")
    inputs = [str(p) for p in write_world(base / "world")]
    ref = base / "ref.duckdb"
    r = zygote.run(stage="ingest", db=str(ref), inputs=inputs)
    assert r["ok"] and not r["bad"], r
    return inputs, fingerprint(ref, INGEST_TABLES)


def test_second_writer_is_refused_clearly_or_waits(tmp_path, zygote):
    db = str(tmp_path / "store.duckdb")
    hold, refused, waited = zygote.run(stage="parallel", jobs=[
        {"stage": "hold", "db": db, "seconds": 3.5, "stagger": 1.5},
        {"stage": "connect", "db": db, "wait": 0},
        {"stage": "connect", "db": db, "wait": 30},
    ])["results"]
    assert hold["ok"], hold
    assert not refused["ok"]
    assert refused["error"].startswith("StoreBusyError: ") and "in use by another scamtrace process" in refused["error"]
    assert "store.duckdb" in refused["error"] and "--wait" in refused["error"] and "\n" not in refused["error"]
    assert waited["ok"] and waited["held_rows"] == 1 and waited["waited"] >= 0.5, waited


def test_two_ingests_at_once_with_wait_load_everything_once(tmp_path, zygote, world):
    inputs, ref = world
    db = str(tmp_path / "store.duckdb")
    a, b = zygote.run(stage="parallel", jobs=[
        {"stage": "ingest", "db": db, "inputs": inputs, "wait": 120, "stagger": 0.3},
        {"stage": "ingest", "db": db, "inputs": inputs, "wait": 120},
    ])["results"]
    assert a["ok"] and b["ok"], (a, b)
    assert not a["bad"] and not b["bad"]
    # one of them loaded the files; the other found them already ingested
    assert sorted([set(a["statuses"]), set(b["statuses"])], key=sorted) == [{"loaded"}, {"skipped"}]
    assert fingerprint(tmp_path / "store.duckdb", INGEST_TABLES) == ref


def test_two_ingests_at_once_without_wait_one_is_refused_cleanly(tmp_path, zygote, world):
    inputs, ref = world
    db = str(tmp_path / "store.duckdb")
    a, b = zygote.run(stage="parallel", jobs=[
        {"stage": "ingest", "db": db, "inputs": inputs, "wait": 0, "stagger": 0.5},
        {"stage": "ingest", "db": db, "inputs": inputs, "wait": 0},
    ])["results"]
    assert a["ok"] or b["ok"]
    for r in (a, b):
        if not r["ok"]:
            assert r["error"].startswith("StoreBusyError: ") and "in use by another scamtrace process" in r["error"], r
    assert fingerprint(tmp_path / "store.duckdb", INGEST_TABLES) == ref
