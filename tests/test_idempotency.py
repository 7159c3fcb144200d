"""Idempotency, duplicates across overlapping extracts, atomic per-file loads, and the reconciliation invariant."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from tests.helpers import FX, ingest, rows
from transforms import store

MAPPING = "name: m\nfiles: ['x_*.csv']\nconstants: {institution: B1, currency: THB}\ncolumns: {booked_at: t, account: a, counterparty_account: cp, amount: amt, txn_id: ref}\n"
HEAD = "ref,t,a,cp,amt\n"
ROWS = [f"R{i},2026-03-0{1 + i % 5} 10:00:00,A{i % 3},C{i},{i + 1}\n" for i in range(10)]


def _counts(db):
    return {t: rows(db, f"SELECT count(*) FROM {t}")[0][0] for t in ("transactions", "quarantine", "fx_rates", "ingested_files")}


def test_second_ingest_of_the_same_files_adds_nothing(db, write):
    fx, m = write("fx.csv", FX), write("m.mapping.yml", MAPPING)
    f = write("x_1.csv", HEAD + "".join(ROWS) + "bad,2026-03-01 10:00:00,A,C,zz\n")
    first = ingest(db, fx, f, mappings=(m,))
    before = _counts(db)
    second = ingest(db, fx, f, mappings=(m,))
    assert _counts(db) == before
    assert first["x_1.csv"].rows_loaded == 10 and first["x_1.csv"].rows_quarantined == 1
    assert {r.status for r in second.values()} == {"skipped"}


def test_overlapping_extracts_load_each_transaction_once(db, write):
    fx, m = write("fx.csv", FX), write("m.mapping.yml", MAPPING)
    a = write("x_a.csv", HEAD + "".join(ROWS[:6]))
    b = write("x_b.csv", HEAD + "".join(ROWS[4:]) + ROWS[9])  # overlaps 4, 5 and repeats 9 inside the file
    r = ingest(db, fx, a, b, mappings=(m,))
    assert (r["x_b.csv"].rows_read, r["x_b.csv"].rows_loaded, r["x_b.csv"].rows_duplicate) == (7, 4, 3)
    assert rows(db, "SELECT count(*), count(DISTINCT txn_id) FROM transactions") == [(10, 10)]


def test_identical_rows_without_ids_stay_distinct_inside_a_file_but_meet_across_files(db, write):
    """Two equal cash deposits in one statement are two deposits; the same statement again adds none."""
    fx = write("fx.csv", FX)
    m = write("n.mapping.yml", "name: n\nfiles: ['n_*.csv']\nconstants: {institution: B1, currency: THB, channel: cash_deposit}\ncolumns: {booked_at: t, account: a, amount: amt}\n")
    body = "t,a,amt\n2026-03-02 10:00:00,A,9500\n2026-03-02 10:00:00,A,9500\n"
    ingest(db, fx, write("n_1.csv", body), mappings=(m,))
    r = ingest(db, write("n_2.csv", body + "2026-03-02 11:00:00,A,9500\n"), mappings=(m,))["n_2.csv"]
    assert (r.rows_loaded, r.rows_duplicate) == (1, 2)
    assert rows(db, "SELECT count(*), min(from_account_id) FROM transactions") == [(3, "cash")]


def test_a_file_that_fails_midway_leaves_nothing_behind(db, write, monkeypatch):
    fx, m = write("fx.csv", FX), write("m.mapping.yml", MAPPING)
    ingest(db, fx, mappings=(m,))
    f = write("x_1.csv", HEAD + "".join(ROWS) + "bad,,A,C,1\n")

    real_now, calls = store.now_utc, []

    def disk_full():
        # 1st call: the run log; 2nd: the reconciliation row, after rows and quarantine were inserted
        calls.append(1)
        if len(calls) == 2:
            raise duckdb.IOException("disk full")
        return real_now()

    monkeypatch.setattr(store, "now_utc", disk_full)
    with pytest.raises(duckdb.IOException):
        ingest(db, f, mappings=(m,))
    monkeypatch.undo()
    assert len(calls) == 2
    assert rows(db, "SELECT count(*) FROM transactions") == [(0,)]
    assert rows(db, "SELECT count(*) FROM quarantine") == [(0,)]
    assert rows(db, "SELECT count(*) FROM ingested_files WHERE path LIKE '%x_1.csv'") == [(0,)]
    assert ingest(db, f, mappings=(m,))["x_1.csv"].rows_loaded == 10  # a re-run loads it completely


def test_reconciliation_is_stored_per_file(db, write):
    fx, m = write("fx.csv", FX), write("m.mapping.yml", MAPPING)
    ingest(db, fx, write("x_1.csv", HEAD + "".join(ROWS) + "bad,,A,C,1\n" + ROWS[0]), mappings=(m,))
    got = rows(db, "SELECT rows_read, rows_loaded, rows_quarantined, rows_duplicate FROM ingested_files WHERE path LIKE '%x_1.csv'")
    assert got == [(12, 10, 1, 1)]
    assert rows(db, "SELECT count(*) FROM ingested_files WHERE rows_read <> rows_loaded + rows_quarantined + rows_duplicate") == [(0,)]


@pytest.mark.parametrize("group_files", [1, 200])
def test_validating_files_together_changes_no_outcome(db, write, monkeypatch, group_files):
    # consecutive files of one table are validated in one run and committed one by one: the same content twice in
    # one run is still loaded once and then skipped, rates still reach the extract, and a bad row is quarantined
    # in its own file only
    import transforms.ingest as ingest_mod
    from transforms.validate import BatchValidator

    monkeypatch.setattr(ingest_mod, "GROUP_FILES", group_files)
    runs = []
    real_failures = BatchValidator.failures
    monkeypatch.setattr(BatchValidator, "failures", lambda self, *a, **k: (runs.append(a[0]), real_failures(self, *a, **k))[1])
    fx, m = write("fx.csv", FX), write("m.mapping.yml", MAPPING)
    a = write("x_a.csv", HEAD + "".join(ROWS))
    copy = write("x_copy.csv", HEAD + "".join(ROWS))
    bad = write("x_bad.csv", HEAD + "B1,2099-03-01 10:00:00,A1,C1,5\nB2,2026-03-02 10:00:00,A1,C2,7\n")  # B1: future
    r = ingest(db, fx, a, copy, bad, mappings=(m,))
    assert [Path(p).name for p in r] == ["fx.csv", "x_a.csv", "x_bad.csv", "x_copy.csv"]  # the order read
    assert r["x_a.csv"].rows_loaded == 10 and r["x_a.csv"].rows_quarantined == 0
    assert r["x_copy.csv"].status == "skipped" and r["x_copy.csv"].rows_read == 0
    assert (r["x_bad.csv"].rows_loaded, r["x_bad.csv"].rows_quarantined) == (1, 1)
    ((path, raw, reasons),) = rows(db, "SELECT path, raw, reasons FROM quarantine")
    assert path == str(bad) and "B1" in raw and reasons == ["booked_at: in the future (clock or time zone of the extract wrong?)"]
    assert rows(db, "SELECT count(*), count(amount_usd) FROM transactions") == [(11, 11)]
    # rates alone, then the extracts: together (one run), or one by one (the copy, committed before it is
    # prepared, needs none)
    assert len(runs) == (2 if group_files > 1 else 3)


def test_files_read_while_validation_is_not_ready_finish_in_the_order_read(db, write, monkeypatch):
    # while Great Expectations is still importing, the next files are read instead of waiting; they are then
    # finished in the order read: rates committed before the extracts derive their USD amounts, a copy skipped,
    # and the reports in reading order, a file refused at its read among them
    import transforms.ingest as ingest_mod
    from transforms.validate import BatchValidator

    events = []
    monkeypatch.setattr(BatchValidator, "ready", lambda self: False)  # the import never finishes before the end
    real_stage, real_failures = ingest_mod.stage_file, BatchValidator.failures
    monkeypatch.setattr(ingest_mod, "stage_file", lambda con, path, *a, **k: (events.append(("read", path.name)),
                                                                                real_stage(con, path, *a, **k))[1])
    monkeypatch.setattr(BatchValidator, "failures", lambda self, *a, **k: (events.append(("validate", a[0].split("_")[0])),
                                                                           real_failures(self, *a, **k))[1])
    fx, m = write("fx.csv", FX), write("m.mapping.yml", MAPPING)
    a = write("x_a.csv", HEAD + "".join(ROWS))
    bad = write("x_b.csv", "no,such,columns\n1,2,3\n")  # refused at its read: the mapping's columns are missing
    copy = write("x_c.csv", HEAD + "".join(ROWS))
    r = ingest(db, fx, a, bad, copy, mappings=(m,))
    assert [Path(p).name for p in r] == ["fx.csv", "x_a.csv", "x_b.csv", "x_c.csv"]
    assert [e[0] for e in events[:4]] == ["read"] * 4 and events[4] == ("validate", "fx")  # read all, then finished
    assert r["x_b.csv"].status == "refused" and r["x_c.csv"].status == "skipped"
    assert rows(db, "SELECT count(*), count(amount_usd) FROM transactions") == [(10, 10)]


def test_a_failure_while_reading_keeps_the_files_read_before_it(db, write, monkeypatch):
    # a failure that is not bad input (a bug, memory) while later files are read: the rates file read before it,
    # waiting for Great Expectations' import, is still stored and reported, as when each file was finished at once
    import transforms.ingest as ingest_mod
    from transforms.validate import BatchValidator

    monkeypatch.setattr(BatchValidator, "ready", lambda self: False)
    real_stage = ingest_mod.stage_file

    def stage(con, path, *a, **k):
        if path.name == "x_b.csv":
            raise RuntimeError("a reader's bug")
        return real_stage(con, path, *a, **k)

    monkeypatch.setattr(ingest_mod, "stage_file", stage)
    fx, m = write("fx.csv", FX), write("m.mapping.yml", MAPPING)
    a, b = write("x_a.csv", HEAD + "".join(ROWS)), write("x_b.csv", HEAD + "".join(ROWS))
    seen: list[str] = []
    with pytest.raises(RuntimeError):
        ingest_mod.ingest_paths(db, [fx, a, b], [m], on_file=lambda r: seen.append(Path(r.path).name))
    assert seen == ["fx.csv"] and rows(db, "SELECT count(*) FROM fx_rates") == [(60,)]
    assert rows(db, "SELECT count(*) FROM transactions") == [(0,)]   # x_a waited for the files after it


@pytest.mark.parametrize("change", ["rewritten", "deleted"])
@pytest.mark.parametrize("together", [False, True])
def test_a_file_changed_after_its_read_loads_what_was_read(db, write, monkeypatch, change, together):
    # a quarantined row's raw record is read again from the file at the commit; a file rewritten or removed in
    # the meantime must not lend another row's text, nor refuse the file: the read values stand in, with a note.
    # Both paths: files validated together and committed one by one, and small files loaded as one (load_group)
    import transforms.ingest as ingest_mod
    from transforms import load_group

    m = write("m.mapping.yml", MAPPING)
    a = write("x_a.csv", HEAD + "B1,2099-03-01 10:00:00,A1,C1,5\nB2,2026-03-02 10:00:00,A1,C2,7\n")
    b = write("x_b.csv", HEAD + "".join(ROWS))

    def change_first(real):
        def changed(*args):
            a.write_text(HEAD + "Z8,2026-03-08 10:00:00,A9,C9,888\n") if change == "rewritten" else a.unlink()
            return real(*args)
        return changed

    if together:
        monkeypatch.setattr(load_group, "_validate", change_first(load_group._validate))
    else:
        monkeypatch.setattr(load_group, "applies", lambda group: False)
        monkeypatch.setattr(ingest_mod, "validate_files", change_first(ingest_mod.validate_files))
    r = ingest_mod.ingest_paths(db, [a, b], [m])
    got = {Path(x.path).name: x for x in r}
    assert got["x_a.csv"].status == "loaded" and (got["x_a.csv"].rows_loaded, got["x_a.csv"].rows_quarantined) == (1, 1)
    assert any("changed or went away after it was read" in n for n in got["x_a.csv"].notes)
    ((raw, reasons),) = rows(db, "SELECT raw, reasons FROM quarantine")
    assert "B1" in raw and "Z8" not in raw and reasons == ["booked_at: in the future (clock or time zone of the extract wrong?)"]


@pytest.mark.parametrize("together", [False, True])
def test_a_failing_commit_leaves_no_staged_file_behind(db, write, monkeypatch, together):
    # an unexpected error while committing a group: every staging table of the group goes, nothing is stored
    import transforms.ingest as ingest_mod
    from transforms import load_group

    dropped = []
    real_drop = ingest_mod.drop_staged
    monkeypatch.setattr(ingest_mod, "drop_staged", lambda con, staged: (dropped.append(staged.report.path), real_drop(con, staged)))

    def broken(*args):
        raise RuntimeError("disk full")

    if together:
        monkeypatch.setattr(load_group, "ingested_row", broken)  # inside the group's transaction, after its inserts
    else:
        monkeypatch.setattr(load_group, "applies", lambda group: False)
        monkeypatch.setattr(ingest_mod, "commit_file", broken)
    m = write("m.mapping.yml", MAPPING)
    a, b = write("x_a.csv", HEAD + "".join(ROWS[:5])), write("x_b.csv", HEAD + "".join(ROWS[5:]))
    with pytest.raises(RuntimeError, match="disk full"):
        ingest_mod.ingest_paths(db, [a, b], [m])
    assert sorted(Path(p).name for p in dropped) == ["x_a.csv", "x_b.csv"]
    assert rows(db, "SELECT count(*) FROM transactions") == [(0,)]
    assert rows(db, "SELECT count(*) FROM ingested_files") == [(0,)]
