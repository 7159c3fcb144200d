"""The "already stored?" check of transactions and events: a probe of the file's key hashes against the keys tables
(transactions_keys, events_keys; transforms/store.py fact_keys), confirmed on the key column only for hashes that
match. Real DuckDB stores; each test breaks one thing the design relies on and checks no duplicate gets loaded."""

from __future__ import annotations

import re

import pytest

from tests.helpers import FX, ingest, rows
from transforms import store

pytestmark = pytest.mark.heavy(4)  # minutes in all (tests/conftest.py starts it first)

MAPPING = "name: m\nfiles: ['x_*.csv']\nconstants: {institution: B1, currency: THB}\ncolumns: {booked_at: t, account: a, counterparty_account: cp, amount: amt, txn_id: ref}\n"
HEAD = "ref,t,a,cp,amt\n"


def row(i: int, amount: str | None = None) -> str:
    return f"R{i},2026-03-0{1 + i % 5} 10:00:00,A{i % 3},C{i},{amount or i + 1}\n"


def csv(ids, reverse: bool = False) -> str:
    body = [row(i) for i in ids]
    return HEAD + "".join(reversed(body) if reverse else body)


@pytest.fixture
def setup(db, write):
    """The rates and the mapping, ingested once; returns the mapping file."""
    m = write("m.mapping.yml", MAPPING)
    ingest(db, write("fx.csv", FX), mappings=(m,))
    return m


@pytest.fixture
def rebuilds(monkeypatch):
    """Calls of store.rebuild_fact_keys, by table name."""
    calls: list[str] = []
    real = store.rebuild_fact_keys

    def spy(con, table, mark=None):
        calls.append(table.name)
        return real(con, table, mark)

    monkeypatch.setattr(store, "rebuild_fact_keys", spy)
    return calls


def in_step(db, table: str = "transactions", key: str = "txn_id") -> bool:
    """The keys table holds exactly (hash of the key, file_id) of every stored row (as a multiset)."""
    got = rows(db, f"SELECT h, file_id FROM {table}_keys ORDER BY ALL")
    want = rows(db, f"SELECT {store.key_hash(key)}, file_id FROM {table} ORDER BY ALL")
    return got == want and len(got) == rows(db, f"SELECT count(*) FROM {table}")[0][0]


def loaded_refs(db, file_name: str) -> list[str]:
    return [r[0] for r in rows(db, "SELECT source_txn_id FROM transactions t JOIN ingested_files f USING (file_id) "
                                   "WHERE f.path LIKE ? ORDER BY source_txn_id", [f"%{file_name}"])]


def con_execute(db, *sql: str) -> None:
    con = store.connect(db)
    try:
        for s in sql:
            con.execute(s)
    finally:
        con.close()


def test_a_file_delivered_again_is_all_duplicates(db, write, setup):
    first = ingest(db, write("x_1.csv", csv(range(10))), mappings=(setup,))["x_1.csv"]
    again = ingest(db, write("x_2.csv", csv(range(10), reverse=True)), mappings=(setup,))["x_2.csv"]  # other bytes
    assert (first.rows_read, first.rows_loaded, first.rows_duplicate) == (10, 10, 0)
    assert (again.status, again.rows_read, again.rows_loaded, again.rows_quarantined, again.rows_duplicate) == ("loaded", 10, 0, 0, 10)
    assert rows(db, "SELECT count(*), count(DISTINCT txn_id) FROM transactions") == [(10, 10)]
    assert rows(db, "SELECT count(*) FROM ingested_files WHERE rows_read <> rows_loaded + rows_quarantined + rows_duplicate") == [(0,)]
    assert in_step(db)


def test_a_file_that_partly_exists_loads_only_the_new_rows(db, write, setup):
    ingest(db, write("x_1.csv", csv(range(0, 8))), mappings=(setup,))
    # overlaps R5..R7, repeats R9 inside the file (first error-free row wins: the first R10 has a bad amount)
    b = write("x_2.csv", HEAD + row(5) + row(8) + row(6) + row(9) + row(10, "zz") + row(9) + row(7) + row(10) + row(11))
    r = ingest(db, b, mappings=(setup,))["x_2.csv"]
    assert (r.rows_read, r.rows_loaded, r.rows_quarantined, r.rows_duplicate) == (9, 4, 1, 4)
    assert loaded_refs(db, "x_2.csv") == ["R10", "R11", "R8", "R9"]
    assert rows(db, "SELECT row_no FROM transactions t JOIN ingested_files f USING (file_id) "
                    "WHERE f.path LIKE '%x_2.csv' AND source_txn_id IN ('R9', 'R10') ORDER BY row_no") == [(4,), (8,)]
    assert rows(db, "SELECT count(*), count(DISTINCT txn_id) FROM transactions") == [(12, 12)]
    assert in_step(db)


@pytest.fixture
def recorded(monkeypatch):
    """Every SQL statement the ingest's own connection runs (whitespace folded)."""
    seen: list[str] = []
    real_connect = store.connect

    class Recording:
        def __init__(self, con):
            self._con = con

        def execute(self, sql, *args):
            seen.append(" ".join(str(sql).split()))
            return self._con.execute(sql, *args)

        def __getattr__(self, name):
            return getattr(self._con, name)

    monkeypatch.setattr(store, "connect", lambda *a, **k: Recording(real_connect(*a, **k)))
    return seen


def reads_stored_keys(sql: str) -> bool:
    """Reads transactions (not transactions_keys) and its txn_id (or *): the scan the keys table is there to avoid."""
    return bool(re.search(r"\b(FROM|JOIN)\s+transactions\b", sql)) and bool(re.search(r"txn_id|\*", sql.replace("count(*)", "")))


def file_id_of(db, name: str) -> str:
    return rows(db, "SELECT file_id FROM ingested_files WHERE path LIKE ?", [f"%{name}"])[0][0]


def test_new_rows_never_read_the_stored_keys(db, write, setup, recorded, rebuilds):
    """The point of the keys table: a file of new rows probes 8-byte hashes, never the stored key strings; a file
    with known keys looks them up in the key column, in the rows of the file they came from only."""
    ingest(db, write("x_1.csv", csv(range(10))), mappings=(setup,))
    rebuilds.clear()
    recorded.clear()
    ingest(db, write("x_2.csv", csv(range(10, 20))), mappings=(setup,))
    assert any("transactions_keys" in s for s in recorded)
    assert [s for s in recorded if reads_stored_keys(s)] == []
    recorded.clear()
    r = ingest(db, write("x_3.csv", csv(range(15, 25))), mappings=(setup,))["x_3.csv"]
    assert (r.rows_loaded, r.rows_duplicate) == (5, 5)
    confirm = [s for s in recorded if reads_stored_keys(s)]
    assert len(confirm) == 1 and f"t.file_id IN ('{file_id_of(db, 'x_2.csv')}')" in confirm[0]
    assert rebuilds == []  # kept in step by the loader: no scan of the key column to rebuild it either


@pytest.mark.parametrize("frames_combine", [True, False])
def test_a_group_of_files_probes_the_stored_keys_once(db, write, setup, recorded, monkeypatch, frames_combine):
    """Small files read together are loaded as one (load_group.py): no staging table of their own, one probe of
    the keys table and one insert, and a later file of the group still meets the stored keys and the keys of
    earlier files. Their rows wait in memory and are staged in one insert, or one per column types."""
    from transforms import load_group

    ingest(db, write("x_0.csv", csv(range(5))), mappings=(setup,))
    if not frames_combine:  # as if each file's column types differed: one insert each, never a relaxed concat
        monkeypatch.setattr(load_group, "_schema_key", id)
    recorded.clear()
    a = write("x_a.csv", csv([3, 10, 11]))          # R3 stored before
    b = write("x_b.csv", csv([11, 12, 4]))          # R11 from x_a, R4 stored before
    c = write("x_c.csv", csv([12, 13, 10, 14]))     # R12 from x_b, R10 from x_a
    got = ingest(db, a, b, c, mappings=(setup,))
    assert [(got[n].rows_loaded, got[n].rows_duplicate) for n in ("x_a.csv", "x_b.csv", "x_c.csv")] == [(2, 1), (1, 2), (2, 2)]
    assert loaded_refs(db, "x_c.csv") == ["R13", "R14"]
    probes = [s for s in recorded if re.search(r"FROM transactions_keys s SEMI JOIN", s)]
    assert len(probes) == 1 and "_run_" in probes[0]  # one probe, over the three files' merged keys
    assert len([s for s in recorded if s.startswith("INSERT INTO transactions (")]) == 1
    staging = [s for s in recorded if s.startswith("CREATE OR REPLACE TABLE scamtrace_staging.transactions_")
               and "_derived AS" not in s]
    assert len(staging) == 1 and "_run_" in staging[0]
    staged = [s for s in recorded if s.startswith("INSERT INTO scamtrace_staging.transactions_run_")]
    assert len(staged) == (1 if frames_combine else 3)
    assert rows(db, "SELECT count(*), count(DISTINCT txn_id) FROM transactions") == [(10, 10)]
    assert in_step(db)


@pytest.mark.parametrize("max_files", [1000, 1])
def test_known_keys_spread_over_files_are_all_found(db, write, setup, recorded, monkeypatch, max_files):
    from transforms import load

    monkeypatch.setattr(load, "CONFIRM_MAX_FILES", max_files)  # 1: two files match, the whole table is read
    for name, ids in (("x_1.csv", range(5)), ("x_2.csv", range(5, 10)), ("x_3.csv", range(20, 25))):
        ingest(db, write(name, csv(ids)), mappings=(setup,))
    recorded.clear()
    r = ingest(db, write("x_4.csv", HEAD + row(2) + row(7) + row(12) + row(3)), mappings=(setup,))["x_4.csv"]
    (confirm,) = [s for s in recorded if reads_stored_keys(s)]
    assert (r.rows_read, r.rows_loaded, r.rows_duplicate) == (4, 1, 3)
    assert loaded_refs(db, "x_4.csv") == ["R12"]
    f1, f2, f3 = (file_id_of(db, n) for n in ("x_1.csv", "x_2.csv", "x_3.csv"))
    if max_files > 1:
        assert f1 in confirm and f2 in confirm and f3 not in confirm
    else:
        assert "file_id IN" not in confirm
    assert in_step(db)


def test_stored_rows_without_file_id_are_still_found(db, write, setup, recorded, tmp_path):
    """A row put in by hand may have no file_id: a match on it is confirmed over the whole table."""
    ingest(db, write("x_1.csv", csv(range(5))), mappings=(setup,))
    other = tmp_path / "other.duckdb"
    x2 = write("x_2.csv", csv([5, 6, 0, 7, 8, 9]))  # R0 matches a row of x_1.csv, R5..R9 rows without file_id
    ingest(other, write("fx.csv", FX), x2, mappings=(setup,))
    con = store.connect(db)
    try:
        con.execute(f"ATTACH '{other}' AS o (READ_ONLY)")
        store.insert_facts(con, "transactions",
                           "SELECT * REPLACE (NULL AS file_id) FROM o.transactions WHERE source_txn_id <> 'R0'")
    finally:
        con.close()
    assert in_step(db)
    recorded.clear()
    r = ingest(db, x2, mappings=(setup,))["x_2.csv"]
    assert (r.rows_read, r.rows_loaded, r.rows_duplicate) == (6, 0, 6)
    (confirm,) = [s for s in recorded if reads_stored_keys(s)]
    assert "file_id IN" not in confirm


def test_a_store_without_keys_table_gets_one_and_still_finds_duplicates(db, write, setup, rebuilds):
    ingest(db, write("x_1.csv", csv(range(10))), mappings=(setup,))
    con_execute(db, "DROP TABLE transactions_keys")  # a store made before the keys table existed
    rebuilds.clear()
    r = ingest(db, write("x_2.csv", csv(range(5, 15))), mappings=(setup,))["x_2.csv"]
    assert (r.rows_loaded, r.rows_duplicate) == (5, 5)
    assert rebuilds == ["transactions"]
    assert rows(db, "SELECT count(*) FROM transactions") == [(15,)]
    assert in_step(db)


def test_keys_deleted_from_the_keys_table_are_rebuilt_not_missed(db, write, setup, rebuilds):
    ingest(db, write("x_1.csv", csv(range(10))), mappings=(setup,))
    con_execute(db, "DELETE FROM transactions_keys WHERE rowid % 2 = 0")
    rebuilds.clear()
    r = ingest(db, write("x_2.csv", csv(range(10), reverse=True)), mappings=(setup,))["x_2.csv"]
    assert (r.rows_loaded, r.rows_duplicate) == (0, 10)
    assert rebuilds == ["transactions"]
    assert in_step(db)


def test_rows_deleted_from_transactions_directly_are_loaded_again(db, write, setup, rebuilds):
    """Extra hashes would only cost a confirmation; the count check rebuilds the keys table anyway."""
    ingest(db, write("x_1.csv", csv(range(10))), mappings=(setup,))
    con_execute(db, "DELETE FROM transactions WHERE source_txn_id IN ('R1', 'R2', 'R3')")
    rebuilds.clear()
    r = ingest(db, write("x_2.csv", csv(range(12), reverse=True)), mappings=(setup,))["x_2.csv"]
    assert (r.rows_loaded, r.rows_duplicate) == (5, 7)
    assert sorted(loaded_refs(db, "x_2.csv")) == ["R1", "R10", "R11", "R2", "R3"]
    assert rebuilds == ["transactions"]
    assert rows(db, "SELECT count(*), count(DISTINCT txn_id) FROM transactions") == [(12, 12)]
    assert in_step(db)


def test_rows_inserted_into_transactions_directly_are_duplicates_later(db, write, setup, rebuilds, tmp_path):
    """What tests/rules/conftest.py or an older scamtrace version does: rows in, keys table untouched."""
    ingest(db, write("x_1.csv", csv(range(5))), mappings=(setup,))
    other = tmp_path / "other.duckdb"
    x2 = write("x_2.csv", csv(range(5, 10)))
    ingest(other, write("fx.csv", FX), x2, mappings=(setup,))
    con_execute(db, f"ATTACH '{other}' AS o (READ_ONLY)", "INSERT INTO transactions SELECT * FROM o.transactions")
    assert rows(db, "SELECT count(*) FROM transactions") == [(10,)]
    rebuilds.clear()
    r = ingest(db, x2, mappings=(setup,))["x_2.csv"]
    assert (r.rows_read, r.rows_loaded, r.rows_duplicate) == (5, 0, 5)
    assert rebuilds == ["transactions"]
    assert rows(db, "SELECT count(*) FROM transactions") == [(10,)]
    assert in_step(db)


def test_a_keys_table_made_with_another_hash_is_rebuilt(db, write, setup, rebuilds):
    """Same row count, other hashes (as after a DuckDB upgrade that changed hash()): the mark tells."""
    ingest(db, write("x_1.csv", csv(range(10))), mappings=(setup,))
    con_execute(db, "UPDATE transactions_keys SET h = h + 1", "COMMENT ON TABLE transactions_keys IS 'duckdb 0.0.1'")
    rebuilds.clear()
    r = ingest(db, write("x_2.csv", csv(range(10), reverse=True)), mappings=(setup,))["x_2.csv"]
    assert (r.rows_loaded, r.rows_duplicate) == (0, 10)
    assert rebuilds == ["transactions"]
    assert in_step(db)


def test_colliding_hashes_load_distinct_keys_and_catch_true_duplicates(db, write, setup, monkeypatch):
    monkeypatch.setattr(store, "key_hash", lambda column: f"(hash({column}) % 2)")
    ingest(db, write("x_1.csv", csv(range(10))), mappings=(setup,))
    assert sorted(r[0] for r in rows(db, "SELECT DISTINCT h FROM transactions_keys")) == [0, 1]
    r = ingest(db, write("x_2.csv", csv(range(6, 16))), mappings=(setup,))["x_2.csv"]  # every hash collides
    assert (r.rows_read, r.rows_loaded, r.rows_duplicate) == (10, 6, 4)
    assert loaded_refs(db, "x_2.csv") == ["R10", "R11", "R12", "R13", "R14", "R15"]
    assert rows(db, "SELECT count(*), count(DISTINCT txn_id) FROM transactions") == [(16, 16)]
    assert in_step(db)
    monkeypatch.undo()  # the real hash: the mark differs, the keys table is rebuilt before it is trusted
    r = ingest(db, write("x_3.csv", csv(range(14, 18))), mappings=(setup,))["x_3.csv"]
    assert (r.rows_loaded, r.rows_duplicate) == (2, 2)
    assert in_step(db)


def test_delete_and_insert_facts_keep_the_keys_table_in_step(db, write, setup, rebuilds):
    """What bench/bench_casework.py does to a scratch store: a day set aside, then put back."""
    ingest(db, write("x_1.csv", csv(range(10))), mappings=(setup,))
    con = store.connect(db)
    try:
        con.execute("CREATE TABLE aside AS SELECT * FROM transactions WHERE source_txn_id IN ('R1', 'R4')")
        store.delete_facts(con, "transactions", "source_txn_id IN ('R1', 'R4')")
        assert con.execute("SELECT count(*) FROM transactions_keys").fetchall() == [(8,)]
        store.insert_facts(con, "transactions", "SELECT * FROM aside")
    finally:
        con.close()
    assert in_step(db)
    rebuilds.clear()
    r = ingest(db, write("x_2.csv", csv(range(12), reverse=True)), mappings=(setup,))["x_2.csv"]
    assert (r.rows_loaded, r.rows_duplicate) == (2, 10)
    assert rebuilds == []  # trusted as it was kept


def test_events_delivered_again_are_duplicates(db, write):
    head = "event_id,occurred_at,kind,institution,account,ip,device_id\n"
    ev = [f"E{i},2026-03-0{1 + i % 5}T10:00:00,login,B1,A{i},10.0.0.{i},D{i}\n" for i in range(8)]
    a = ingest(db, write("events_1.csv", head + "".join(ev[:5])))["events_1.csv"]
    assert (a.table, a.rows_loaded) == ("events", 5)
    con_execute(db, "DROP TABLE events_keys")
    b = ingest(db, write("events_2.csv", head + "".join(reversed(ev))))["events_2.csv"]
    assert (b.rows_read, b.rows_loaded, b.rows_duplicate) == (8, 3, 5)
    assert rows(db, "SELECT count(*), count(DISTINCT event_id) FROM events") == [(8, 8)]
    assert in_step(db, "events", "event_id")


def test_event_files_read_together_meet_each_other(db, write):
    # small event files are loaded as one (load_group.py): an event repeated in a later file is a duplicate
    # there, a bad row is quarantined in its own file, and each file keeps its own bookkeeping
    head = "event_id,occurred_at,kind,institution,account,ip,device_id\n"
    ev = [f"E{i},2026-03-0{1 + i % 5}T10:00:00,login,B1,A{i},10.0.0.{i},D{i}\n" for i in range(8)]
    got = ingest(db, write("events_1.csv", head + "".join(ev[:5])),
                 write("events_2.csv", head + ev[2] + "E9,not a time,login,B1,A9,10.0.0.9,D9\n" + "".join(ev[5:])))
    assert [(r.rows_read, r.rows_loaded, r.rows_quarantined, r.rows_duplicate) for r in got.values()] == [(5, 5, 0, 0), (5, 3, 1, 1)]
    assert rows(db, "SELECT path LIKE '%events_2.csv', row_no, raw LIKE '%\"E9\"%' FROM quarantine") == [(True, 2, True)]
    assert rows(db, "SELECT count(*), count(DISTINCT file_id) FROM events") == [(8, 2)]
    assert in_step(db, "events", "event_id")
