"""Fixtures for the casework tests: a fresh store, and the hand-made network of casebook.py with alerts built."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.casework.casebook import Case, make_world, raise_alerts


@pytest.fixture
def case(tmp_path: Path):
    c = Case(tmp_path)
    yield c
    c.con.close()


@pytest.fixture
def world(case: Case):
    w = make_world(case)
    raise_alerts(case, "run-1", w)
    summary = case.build("run-1")
    return case, w, summary


@pytest.fixture(scope="module")
def shared_world(tmp_path_factory):
    """The same built world, shared by the tests that only read it (one build instead of one per test)."""
    c = Case(tmp_path_factory.mktemp("casework"))
    w = make_world(c)
    raise_alerts(c, "run-1", w)
    summary = c.build("run-1")
    yield c, w, summary
    c.con.close()
