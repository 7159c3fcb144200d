"""A store of data/samples with one detect run and its casework, built once per module; tests work on copies."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from rules import casework
from rules.engine import detect
from transforms.ingest import ingest_paths
from transforms.store import connect

ROOT = Path(__file__).resolve().parents[2]
SAMPLES = ROOT / "data" / "samples"


@pytest.fixture(scope="session")
def samples_store(tmp_path_factory) -> tuple[Path, str]:
    db = tmp_path_factory.mktemp("scoring") / "samples.duckdb"
    ingest_paths(db, [SAMPLES])
    con = connect(db)
    try:
        run_id = detect(con).run_id
        casework.build(con, run_id)
    finally:
        con.close()
    return db, run_id


@pytest.fixture
def store_copy(samples_store, tmp_path):
    src, run_id = samples_store
    db = tmp_path / "store.duckdb"
    shutil.copy(src, db)
    return db, run_id
