"""The benchmark's synthetic world (worlds/canonical.py): reproducible, merchants known to KYC, plants where
the rules can find them, a background of regular payees."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pytest

from worlds import canonical as gen_canonical

ROWS = 60_000


@pytest.fixture(scope="module")
def world(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("world")
    gen_canonical.generate(ROWS, out, daily=3_000, workers=2)
    return out


def _tx(out: Path) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    con.execute(f"CREATE VIEW tx AS SELECT * FROM read_parquet('{out}/transactions/*/*.parquet')")
    return con


def test_workers_write_the_same_files(world, tmp_path):
    gen_canonical.generate(ROWS, tmp_path, daily=3_000, workers=1)
    files = sorted(p.relative_to(world) for p in world.rglob("*") if p.is_file() and p.name != "world.json")
    assert files == sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*") if p.is_file() and p.name != "world.json")
    for f in files:
        assert (world / f).read_bytes() == (tmp_path / f).read_bytes(), f


def test_merchants_are_in_kyc_and_plants_are_not_merchants(world):
    manifest = json.loads((world / "world.json").read_text())
    kyc = duckdb.sql(f"SELECT institution || ':' || account AS id, kind FROM read_csv('{world}/kyc/accounts.csv', all_varchar=true)")
    kinds = dict(kyc.fetchall())
    assert manifest["merchants"] > 0
    assert sum(k == "merchant" for k in kinds.values()) == manifest["merchants"]
    truth = json.loads((world / "truth.json").read_text())
    assert {k: len(v) for k, v in truth["history"].items()} == manifest["planted"]
    assert {k: len(v) for k, v in truth["daily"].items()} == manifest["planted_daily"]
    planted = {a for span in truth.values() for ids in span.values() for a in ids}
    assert planted and all(kinds.get(a) == "customer" for a in planted)


def test_background_pays_regular_payees(world):
    con = _tx(world)
    # most of a payer's bank transfers go to payees it pays again; a random background would rarely repeat a pair
    repeat_share, payees_p90 = con.execute("""
        WITH pairs AS (SELECT from_account_id, to_account_id, count(*) AS n FROM tx
                       WHERE rail = 'bank' AND from_account_id <> 'cash' AND to_account_id <> 'cash' GROUP BY ALL)
        SELECT sum(n) FILTER (WHERE n > 1) / sum(n),
               (SELECT quantile_cont(k, 0.9) FROM (SELECT count(*) AS k FROM pairs GROUP BY from_account_id))
        FROM pairs""").fetchone()
    assert repeat_share > 0.6
    assert payees_p90 < 20
    # a pair's amounts stay close to its usual amount (USD rows; one-off payments aside)
    spread = con.execute("""
        SELECT median(ratio) FROM (
            SELECT max(amount) / min(amount) AS ratio FROM tx
            WHERE currency = 'USD' AND from_account_id <> 'cash' AND to_account_id <> 'cash'
            GROUP BY from_account_id, to_account_id HAVING count(*) >= 3)""").fetchone()[0]
    assert spread < 3


def test_cached_world_is_reused_and_another_background_rewrites_it(tmp_path):
    first = gen_canonical.generate(20_000, tmp_path, workers=1)
    files = {p: p.stat().st_mtime_ns for p in (tmp_path / "transactions").rglob("*.parquet")}
    month = next(iter(sorted(files)))
    before = month.read_bytes()
    assert gen_canonical.generate(20_000, tmp_path, workers=1) == first
    assert {p: p.stat().st_mtime_ns for p in (tmp_path / "transactions").rglob("*.parquet")} == files
    uniform = gen_canonical.generate(20_000, tmp_path, workers=1, background="uniform")
    assert uniform["background"] == "uniform" and uniform["merchants"] == 0
    assert month.read_bytes() != before
