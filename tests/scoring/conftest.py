"""A store of data/samples with one detect run and its casework (built once per session); tests work on copies."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SAMPLES = ROOT / "data" / "samples"


@pytest.fixture(scope="session")
def samples_store(samples_built) -> tuple[Path, str]:
    """The session's built samples store (tests/conftest.py): read it or copy it, never write to it."""
    return samples_built


@pytest.fixture
def store_copy(samples_store, tmp_path):
    src, run_id = samples_store
    db = tmp_path / "store.duckdb"
    shutil.copy(src, db)
    return db, run_id
