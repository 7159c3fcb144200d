"""Bounded-memory export: tables stream in batches, goAML goes a chunk of alerts at a time, GraphML is written
from DuckDB; with tiny batch, chunk, row-group and sheet sizes the outputs equal those of the default sizes."""

from __future__ import annotations

import csv
import json
import re
import zipfile
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from transforms import store
from exports import export
from exports import graphml as G
from exports import table_writers as TW
from exports import tables as T


def _export(store_path: Path, out: Path, **kw) -> dict:
    con = store.connect(store_path, read_only=True)
    try:
        result = export(con, out, **kw)
        left = con.execute("SELECT table_name FROM duckdb_tables() WHERE temporary").fetchall()
    finally:
        con.close()
    assert left == []  # the selection's and the graph's temp tables are dropped
    return result


@pytest.fixture(scope="module")
def default_out(tmp_path_factory, store_path) -> tuple[Path, dict]:
    out = tmp_path_factory.mktemp("default") / "out"
    return out, _export(store_path, out)


@pytest.fixture
def tiny_out(tmp_path, store_path, monkeypatch) -> tuple[Path, dict]:
    import exports.package as E

    monkeypatch.setattr(T, "BATCH_ROWS", 2)
    monkeypatch.setattr(TW, "PARQUET_ROW_GROUP", 3)
    monkeypatch.setattr(TW, "XLSX_MAX_ROWS", 3)  # a header and two rows per sheet
    monkeypatch.setattr(E.G, "GOAML_CHUNK", 1)
    monkeypatch.setattr(G, "GRAPHML_BATCH", 2)
    out = tmp_path / "out"
    return out, _export(store_path, out)


def _text(path: Path) -> bytes:
    data = path.read_bytes()
    return re.sub(rb"<(submission_date|report_date)>[^<]*<", rb"<\1>X<", data) if path.suffix == ".xml" else data


def test_small_batches_give_the_same_files(default_out, tiny_out):
    (a, ra), (b, rb) = default_out, tiny_out
    assert rb["counts"]["alert_transactions"] > 2  # more rows than one tiny batch
    files = sorted(p.relative_to(a) for p in a.rglob("*") if p.is_file() and p.suffix in
                   (".csv", ".jsonl", ".xml", ".graphml", ".txt"))
    assert files and sorted(p.relative_to(b) for p in b.rglob("*") if p.is_file() and p.suffix in
                            (".csv", ".jsonl", ".xml", ".graphml", ".txt")) == files
    for rel in files:
        assert _text(a / rel) == _text(b / rel), rel
    assert ra["goaml"]["valid"] == rb["goaml"]["valid"] and ra["goaml"]["skipped"] == rb["goaml"]["skipped"]


def test_parquet_streams_into_row_groups(default_out, tiny_out):
    (a, _), (b, _) = default_out, tiny_out
    for path in sorted(a.glob("*.parquet")):
        ta, tb = pq.read_table(path), pq.read_table(b / path.name)
        assert ta.equals(tb), path.name
        assert pq.ParquetFile(path).metadata.num_row_groups == 1
        n = ta.num_rows
        assert pq.ParquetFile(b / path.name).metadata.num_row_groups == max(1, -(-n // 3)), path.name


def _sheets(path: Path) -> list[tuple[str, list[dict]]]:
    """(sheet name, rows as {column letter: text}) per sheet, from the workbook's XML."""
    from lxml import etree

    ns = {"m": "http://schemas.openxmlformats.org/spreadsheetml/2006/main"}
    out = []
    with zipfile.ZipFile(path) as z:
        names = re.findall(r'<sheet name="([^"]+)"', z.read("xl/workbook.xml").decode())
        for i, name in enumerate(names, start=1):
            root = etree.fromstring(z.read(f"xl/worksheets/sheet{i}.xml"))
            rows = [{re.sub(r"[0-9]+", "", c.get("r")): "".join(c.itertext()) for c in row.findall("m:c", ns)}
                    for row in root.iterfind(".//m:sheetData/m:row", ns)]
            out.append((name, rows))
    return out


def test_xlsx_past_a_sheet_is_left_to_the_other_formats(default_out, tiny_out):
    """With CSV or Parquet written too, a table longer than a sheet gets no workbook; the manifest says so."""
    (a, ra), (b, rb) = default_out, tiny_out
    n = rb["counts"]["alert_transactions"]
    assert (a / "alert_transactions.xlsx").is_file() and not (b / "alert_transactions.xlsx").exists()
    assert rb["counts"]["xlsx_left_out"]["alert_transactions"] == n and "xlsx_left_out" not in ra["counts"]
    small = [t for t in ("alerts", "networks", "network_members", "compound_links") if rb["counts"][t] < 3]
    for t in small:
        assert (b / f"{t}.xlsx").is_file() and t not in rb["counts"]["xlsx_left_out"]
    manifest = json.loads((b / "manifest.json").read_text())
    assert manifest["counts"]["xlsx_left_out"] == rb["counts"]["xlsx_left_out"]
    with open(b / "alert_transactions.csv", encoding="utf-8-sig", newline="") as fh:
        assert len(list(csv.reader(fh))) == n + 1  # every row is in the CSV


def test_xlsx_alone_continues_on_further_sheets_past_the_row_limit(default_out, tmp_path, store_path, monkeypatch):
    monkeypatch.setattr(TW, "XLSX_MAX_ROWS", 3)  # a header and two rows per sheet
    (a, ra) = default_out
    b = tmp_path / "out"
    rb = _export(store_path, b, formats="xlsx")
    n = rb["counts"]["alert_transactions"]
    one = _sheets(a / "alert_transactions.xlsx")
    many = _sheets(b / "alert_transactions.xlsx")
    assert [t for t, _ in one] == ["alert_transactions"]
    assert [t for t, _ in many] == ["alert_transactions"] + [f"alert_transactions ({i})" for i in range(2, len(many) + 1)]
    assert len(many) == -(-n // 2) and all(len(rows) <= 3 for _, rows in many)
    header = one[0][1][0]
    assert all(rows[0] == header for _, rows in many)  # every sheet repeats the header
    assert [r for _, rows in many for r in rows[1:]] == one[0][1][1:]  # same rows, same order
    assert "xlsx_sheets" not in ra["counts"] and "xlsx_left_out" not in rb["counts"]
    assert rb["counts"]["xlsx_sheets"]["alert_transactions"] == len(many)


def test_long_sheet_names_keep_their_suffix_within_31_characters(tmp_path):
    f = T.Frame(__import__("pyarrow").table({"x": list(range(5))}))
    TW.write_table(f, tmp_path, "a_table_name_longer_than_thirty_one", ["xlsx"], xlsx_max_rows=2)
    with zipfile.ZipFile(tmp_path / "a_table_name_longer_than_thirty_one.xlsx") as z:
        names = re.findall(r'<sheet name="([^"]+)"', z.read("xl/workbook.xml").decode())
    assert len(names) == 5 and all(len(n) <= 31 for n in names) and names[-1].endswith(" (5)")


def test_goaml_chunked_equals_unchunked(default_out, tiny_out):
    (a, _), (b, _) = default_out, tiny_out
    xa = sorted(p.name for p in (a / "goaml").glob("*.xml"))
    assert xa and xa == sorted(p.name for p in (b / "goaml").glob("*.xml"))
    for name in xa:
        assert _text(a / "goaml" / name) == _text(b / "goaml" / name), name


def _sheet_xml(path: Path) -> list[bytes]:
    with zipfile.ZipFile(path) as z:
        return [z.read(n) for n in sorted(z.namelist()) if n.startswith("xl/worksheets/")]


def test_worker_processes_write_the_same_files(default_out, tmp_path, store_path, monkeypatch):
    """goAML reports and workbooks written by worker processes (fed batch by batch, XLSX from a spool)
    are the files written in process."""
    import exports.package as E
    import exports.goaml_files as GF

    monkeypatch.setattr(GF, "GOAML_CHUNK", 7)  # several batches in flight
    monkeypatch.setattr(E, "XLSX_WORKER_MIN", 0)  # every table's workbook from a worker
    monkeypatch.setenv("SCAMTRACE_EXPORT_WORKERS", "2")

    def not_here(*args, **kwargs):
        raise AssertionError("FtM written in process: it goes to a worker when there are workers")

    monkeypatch.setattr(E.ftm_mod, "write", not_here)   # the workers import their own copy of the module
    a, ra = default_out
    b = tmp_path / "out"
    rb = _export(store_path, b, formats="goaml,xlsx,ftm,graphml")
    xa = sorted(p.relative_to(a).as_posix() for p in (a / "goaml").rglob("*") if p.is_file())
    assert xa and xa == sorted(p.relative_to(b).as_posix() for p in (b / "goaml").rglob("*") if p.is_file())
    for rel in xa:
        assert _text(a / rel) == _text(b / rel), rel
    assert ra["goaml"]["valid"] == rb["goaml"]["valid"] and ra["goaml"]["skipped"] == rb["goaml"]["skipped"]
    books = sorted(p.name for p in a.glob("*.xlsx"))
    assert books and books == sorted(p.name for p in b.glob("*.xlsx"))
    for name in books:
        assert _sheet_xml(a / name) == _sheet_xml(b / name), name
    assert not list(b.glob(".*"))  # no spool or temp file left
    assert "xlsx_wait" in rb["parts"]
    # the FtM entities built in a worker (beside the GraphML) are the file built in process
    for name in ("network.ftm.json", "network.graphml"):
        assert (b / name).read_bytes() == (a / name).read_bytes(), name
    assert "network.ftm.json" in rb["files"]


def test_a_failed_export_leaves_no_worker_writing(tmp_path, store_path, monkeypatch):
    """An error after workbooks went to workers: the error is raised, and once export() returns nothing is
    still being written and no spool file is left."""
    import exports.package as E

    monkeypatch.setattr(E, "XLSX_WORKER_MIN", 0)
    monkeypatch.setenv("SCAMTRACE_EXPORT_WORKERS", "2")

    def broken(*args, **kwargs):
        raise OSError("disk full (simulated)")

    monkeypatch.setattr(E.G, "write_all", broken)
    out = tmp_path / "out"
    con = store.connect(store_path, read_only=True)
    try:
        with pytest.raises(OSError, match="simulated"):
            export(con, out, formats="csv,xlsx,goaml")
    finally:
        con.close()
    seen = sorted(p.name for p in out.rglob("*"))
    assert not [n for n in seen if n.endswith(".tmp")], seen
    assert sorted(p.name for p in out.rglob("*")) == seen  # nothing appears afterwards


def test_export_workers_setting_is_checked(monkeypatch):
    from exports import workers as W

    monkeypatch.setenv("SCAMTRACE_EXPORT_WORKERS", "two")
    with pytest.raises(ValueError, match="SCAMTRACE_EXPORT_WORKERS"):
        W.wanted(True)
    monkeypatch.setenv("SCAMTRACE_EXPORT_WORKERS", "3")
    assert W.wanted(False) == 3
    monkeypatch.delenv("SCAMTRACE_EXPORT_WORKERS")
    assert W.wanted(False) == 1 and W.executor(1) is None


def test_settle_waits_for_running_jobs_and_removes_spools(tmp_path):
    import threading
    import time
    from concurrent.futures import ThreadPoolExecutor

    import exports.package as E

    started, written = threading.Event(), tmp_path / "book.xlsx"

    def slow():
        started.set()
        time.sleep(0.5)
        written.write_text("done")

    spools = [tmp_path / ".a.spool.tmp", tmp_path / ".b.spool.tmp"]
    for p in spools:
        p.write_text("x")
    with ThreadPoolExecutor(1) as pool:
        running = pool.submit(slow)
        queued = pool.submit(written.write_text, "queued ran")  # waits behind the running job
        started.wait()
        E._settle([("a", running, spools[0]), ("b", queued, spools[1])])
        assert written.read_text() == "done"  # the running job finished before _settle returned
        assert queued.cancelled() and not any(p.exists() for p in spools)


def test_goaml_batches_are_cut_by_alerts_and_by_evidence_rows():
    from exports.goaml_files import batch_ranges

    sizes = [3, 60, 2, 2, 2, 0, 0, 200, 1]
    ranges = list(batch_ranges(sizes, max_alerts=3, max_rows=10))
    assert ranges == [(0, 1), (1, 2), (2, 5), (5, 7), (7, 8), (8, 9)]
    assert [i for lo, hi in ranges for i in range(lo, hi)] == list(range(len(sizes)))  # every alert once, in order
    assert list(batch_ranges([], max_alerts=3, max_rows=10)) == []


def test_evidence_row_budget_gives_the_same_files(default_out, tmp_path, store_path, monkeypatch):
    """A year's export cuts goAML batches by evidence rows (the 100M bench export ran out of memory on batches
    of 1,000 heavy alerts): with a budget of 3 rows the reports are the same files."""
    import exports.goaml_files as GF

    cuts: list[list[tuple[int, int]]] = []
    real = GF.batch_ranges

    def recording(sizes, *args, **kw):
        cuts.append(list(real(sizes, *args, **kw)))
        return iter(cuts[-1])

    monkeypatch.setattr(GF, "GOAML_BATCH_ROWS", 3)
    monkeypatch.setattr(GF, "batch_ranges", recording)
    a, ra = default_out
    b = tmp_path / "out"
    rb = _export(store_path, b, formats="goaml")
    assert cuts and len(cuts[0]) > 1  # the budget did cut the alerts into several batches
    xa = sorted(p.relative_to(a).as_posix() for p in (a / "goaml").rglob("*") if p.is_file())
    assert xa and xa == sorted(p.relative_to(b).as_posix() for p in (b / "goaml").rglob("*") if p.is_file())
    for rel in xa:
        assert _text(a / rel) == _text(b / rel), rel
    assert ra["goaml"]["valid"] == rb["goaml"]["valid"]
