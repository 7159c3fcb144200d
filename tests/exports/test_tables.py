"""Tables: columns with citations, formula neutralising in CSV/XLSX, Parquet/JSONL fidelity, filters, safety."""

from __future__ import annotations

import csv
import json
import re
import stat
import zipfile
from decimal import Decimal
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from transforms import store
from exports import ExportError, export, verify
from exports.safe import neutralise, safe_name


def read_csv(path: Path) -> list[dict]:
    with open(path, encoding="utf-8-sig", newline="") as fh:
        return list(csv.DictReader(fh))


def test_alert_transactions_cite_source_file_and_row(exported):
    out, result = exported
    rows = read_csv(out / "alert_transactions.csv")
    assert {r["txn_id"] for r in rows} == {"T1", "T2", "T3", "T4", "T5"}
    for col in ("alert_id", "txn_id", "source", "source_txn_id", "role", "source_path", "row_no", "file_id"):
        assert col in rows[0], col
    t5 = next(r for r in rows if r["txn_id"] == "T5")
    assert t5["source_path"] == "/landing/tronscan_TKH.csv" and t5["row_no"] == "7"
    assert t5["source"] == "tronscan_trc20" and t5["source_txn_id"] == "SRC-T5" and t5["role"] == "intermediary_hop"
    assert t5["amount"] == "2140.123456789012345678" and t5["chain"] == "tron"
    assert result["counts"]["alert_transactions"] == 5


def test_csv_neutralises_formula_cells(exported):
    out, _ = exported
    ev = {r["txn_id"]: r for r in read_csv(out / "alert_transactions.csv")}
    assert ev["T2"]["reference"] == "'=cmd|' /C calc'!A0"
    alerts = {r["subject_id"]: r for r in read_csv(out / "alerts.csv")}
    assert alerts["ABAAKHPP:444"]["subject_name"].startswith("'=HYPERLINK(")
    for path in out.rglob("*.csv"):
        for row in csv.reader(open(path, encoding="utf-8-sig", newline="")):
            for cell in row:
                assert not cell.startswith(("=", "+", "-", "@", "\t", "\r")), (path.name, cell)


def test_neutralise_rules():
    assert neutralise("=1+1") == "'=1+1"
    assert neutralise("+66812") == "'+66812"
    assert neutralise("-5") == "'-5"
    assert neutralise("@SUM(A1)") == "'@SUM(A1)"
    assert neutralise("\tx") == "'\tx" and neutralise("\rx") == "'\rx"
    assert neutralise("ok=1") == "ok=1" and neutralise(-5) == -5


def test_xlsx_has_strings_never_formulas(exported):
    out, _ = exported
    for path in out.rglob("*.xlsx"):
        with zipfile.ZipFile(path) as z:
            sheets = [n for n in z.namelist() if n.startswith("xl/worksheets/sheet")]
            assert sheets
            text = "".join(z.read(n).decode("utf-8") for n in sheets)
            if "xl/sharedStrings.xml" in z.namelist():
                text += z.read("xl/sharedStrings.xml").decode("utf-8")
            assert "<f>" not in text and "<f " not in text, path.name  # no formula cells at all
            assert re.search(r"<t[^>]*>[=+@-]", text) is None, path.name  # no text starting like a formula
            if path.name == "alert_transactions.xlsx":
                assert "&apos;=cmd" in text or "'=cmd" in text


def test_parquet_keeps_types_and_values(exported):
    out, _ = exported
    t = pq.read_table(out / "alert_transactions.parquet")
    rows = {r["txn_id"]: r for r in t.to_pylist()}
    assert rows["T5"]["amount"] == Decimal("2140.123456789012345678")
    assert rows["T2"]["reference"] == "=cmd|' /C calc'!A0"  # data format: kept exactly, not neutralised
    assert str(t.schema.field("booked_at").type).startswith("timestamp")
    alerts = pq.read_table(out / "alerts.parquet").to_pylist()
    assert {a["alert_id"] for a in alerts} == {"AL-mule", "AL-../../etc/passwd", "AL-shared"}
    assert isinstance(alerts[0]["reasons"], list)


def test_jsonl_parses_with_json_columns_as_objects(exported):
    out, _ = exported
    links = [json.loads(l) for l in (out / "compound_links.jsonl").read_text(encoding="utf-8").splitlines()]
    assert len(links) == 1 and links[0]["evidence"]["cidr"] == "103.2.3.0/24"
    alerts = [json.loads(l) for l in (out / "alerts.jsonl").read_text(encoding="utf-8").splitlines()]
    mule = next(a for a in alerts if a["alert_id"] == "AL-mule")
    assert mule["rule_scores"] == {"fan_in_24h": 1.0} and mule["total_usd"] == "4440"
    assert mule["first_activity_at"] == "2024-03-01T10:00:00Z"
    members = [json.loads(l) for l in (out / "network_members.jsonl").read_text(encoding="utf-8").splitlines()]
    assert {m["role"] for m in members} >= {"organiser", "legal_person", "mule", "victim", "off_ramp"}


def test_owner_only_permissions_and_no_temp_files(exported):
    out, _ = exported
    assert stat.S_IMODE(out.stat().st_mode) == 0o700
    for p in out.rglob("*"):
        mode = stat.S_IMODE(p.stat().st_mode)
        assert mode == (0o700 if p.is_dir() else 0o600), (p, oct(mode))
        assert not p.name.endswith(".tmp"), p


def test_no_path_traversal_from_ids(exported):
    out, _ = exported
    root = out.resolve()
    for p in out.rglob("*"):
        assert root in p.resolve().parents
        assert ".." not in p.name
    assert sorted(d.name for d in (out / "jurisdictions").iterdir()) == ["KH", "TH"]  # '../x' dropped
    goaml_files = sorted(p.name for p in (out / "goaml").glob("*.xml"))
    assert "alert_AL-mule.xml" in goaml_files
    assert any(n.startswith("alert_AL-_etc_passwd_") for n in goaml_files), goaml_files


def test_safe_name_is_injective_and_bounded():
    assert safe_name("NW-1") == "NW-1"
    assert safe_name("a/b") != safe_name("a_b")
    assert "/" not in safe_name("../../x") and not safe_name("../../x").startswith(".")
    assert len(safe_name("x" * 500)) <= 90
    assert safe_name("") and safe_name(None)


def test_jurisdiction_packages_hold_only_their_country(exported):
    out, result = exported
    th = read_csv(out / "jurisdictions" / "TH" / "transactions.csv")
    kh = read_csv(out / "jurisdictions" / "KH" / "transactions.csv")
    assert {r["txn_id"] for r in th} == {"T1", "T2", "T3"}
    assert {r["txn_id"] for r in kh} == {"T3", "T4", "T5"}
    assert all(r["source_path"] and r["row_no"] for r in th + kh)
    th_members = {r["member_id"] for r in read_csv(out / "jurisdictions" / "TH" / "members.csv")}
    assert "KASITHBK:333" in th_members and "P-MULE" in th_members and "ABAAKHPP:444" not in th_members
    kh_links = read_csv(out / "jurisdictions" / "KH" / "compound_links.csv")
    assert [l["compound_id"] for l in kh_links] == ["KKPARK"]
    assert read_csv(out / "jurisdictions" / "TH" / "compound_links.csv") == []
    assert result["counts"]["jurisdictions"] == {"KH": 3, "TH": 3}


@pytest.mark.parametrize("kwargs, expected", [
    ({"status": "new"}, {"AL-mule"}),
    ({"status": ["updated"]}, {"AL-../../etc/passwd"}),
    ({"status": "new,updated"}, {"AL-mule", "AL-../../etc/passwd"}),
    ({"status": "unchanged"}, {"AL-shared"}),
    ({"min_score": 0.7}, {"AL-mule"}),
    ({"typology": "off_ramp"}, {"AL-../../etc/passwd"}),
    ({"network": "NW-1"}, {"AL-mule", "AL-../../etc/passwd"}),
    ({"network": "NW-none"}, set()),
    ({"jurisdiction": "mm"}, set()),
    ({"jurisdiction": "KH"}, {"AL-mule", "AL-../../etc/passwd"}),  # the network spans KH
    ({"since": "2024-03-03"}, {"AL-../../etc/passwd", "AL-shared"}),  # no evidence: its updated_at counts
    ({"until": "2024-03-02"}, {"AL-mule"}),
])
def test_filters(store_path, tmp_path, kwargs, expected):
    con = store.connect(store_path, read_only=True)
    try:
        result = export(con, tmp_path / "out", formats=["csv"], full=False, **kwargs)
    finally:
        con.close()
    got = {r["alert_id"] for r in read_csv(tmp_path / "out" / "alerts.csv")}
    assert got == expected
    assert result["counts"]["alerts"] == len(expected)
    assert verify(tmp_path / "out") == []


def test_full_false_writes_tables_goaml_and_graph_only(store_path, tmp_path):
    con = store.connect(store_path, read_only=True)
    try:
        result = export(con, tmp_path / "out", full=False)
    finally:
        con.close()
    files = set(result["files"])
    assert "alerts.xlsx" in files and "network.graphml" in files and "goaml/alert_AL-mule.xml" in files
    assert not any(f.startswith(("report/", "jurisdictions/", "graphml/")) for f in files)
    assert not any(f.startswith("goaml/network_") for f in files)


def test_reexport_into_same_folder_removes_stale_outputs(store_path, tmp_path):
    con = store.connect(store_path, read_only=True)
    try:
        export(con, tmp_path / "out")
        export(con, tmp_path / "out", formats="csv,goaml", status="new", full=False)
    finally:
        con.close()
    assert verify(tmp_path / "out") == []
    assert not (tmp_path / "out" / "alerts.xlsx").exists()
    assert sorted(p.name for p in (tmp_path / "out" / "goaml").glob("*.xml")) == ["alert_AL-mule.xml"]


def test_bad_arguments_and_store_without_casework(tmp_path, store_path):
    con = store.connect(store_path, read_only=True)
    try:
        with pytest.raises(ExportError, match="unknown export format pdf"):
            export(con, tmp_path / "out", formats="csv,pdf")
    finally:
        con.close()
    bare = store.connect(tmp_path / "bare.duckdb")
    try:  # never detected on: nothing to report, so empty outputs rather than a refusal
        summary = export(bare, tmp_path / "out2", formats="csv")
        assert summary["counts"]["alerts"] == 0 and (tmp_path / "out2" / "alerts.csv").is_file()
    finally:
        bare.close()
    store.connect(tmp_path / "bare2.duckdb").close()
    ro = store.connect(tmp_path / "bare2.duckdb", read_only=True)
    try:  # read-only, the empty tables cannot be made: the message says what to do
        with pytest.raises(ExportError, match="scamtrace detect"):
            export(ro, tmp_path / "out3")
    finally:
        ro.close()
