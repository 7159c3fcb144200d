"""The bad-input corpus: every file in corpus.yml gets its expected outcome -- a one-line refusal naming the file,
or exact loaded / quarantined / duplicate counts with the expected reasons -- and every file reconciles
(rows_read = rows_loaded + rows_quarantined + rows_duplicate), checked against what the store really holds.

Each reader folder is ingested once (with corpus/base_fx.csv) into its own fresh store; the files inside a folder
use distinct ids, so they do not meet each other as duplicates.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
import yaml

from transforms import store
from transforms.ingest import ingest_paths

HERE = Path(__file__).resolve().parent
CORPUS = HERE / "corpus"
MANIFEST = yaml.safe_load((HERE / "corpus.yml").read_text(encoding="utf-8"))["files"]
FOLDERS = sorted({rel.split("/")[0] for rel in MANIFEST})

_ingested: dict[str, dict] = {}


@pytest.fixture(scope="module")
def folder_result(tmp_path_factory):
    """folder -> {'reports': {relpath: FileReport}, 'db': Path}; each folder ingested once, on first use."""

    def get(folder: str) -> dict:
        if folder not in _ingested:
            db = tmp_path_factory.mktemp(f"corpus_{folder}") / "store.duckdb"
            reports = ingest_paths(db, [CORPUS / "base_fx.csv", CORPUS / folder])
            by_rel = {Path(r.path).resolve().relative_to(CORPUS).as_posix(): r for r in reports}
            _ingested[folder] = {"reports": by_rel, "db": db}
        return _ingested[folder]

    return get


def _rows(db: Path, sql: str, params: list) -> list[tuple]:
    con = store.connect(db, read_only=True)
    try:
        return con.execute(sql, params).fetchall()
    finally:
        con.close()


@pytest.mark.parametrize("rel", sorted(MANIFEST), ids=sorted(MANIFEST))
def test_corpus_file_outcome(rel: str, folder_result):
    exp = MANIFEST[rel]
    res = folder_result(rel.split("/")[0])
    assert rel in res["reports"], f"{rel} was not reported at all (lost)"
    r = res["reports"][rel]
    assert r.reconciles, r.as_dict()
    if exp["expect"] == "refused":
        assert r.status == "refused", r.as_dict()
        assert exp["message"] in r.message, r.message
        assert Path(rel).name in r.message and "\n" not in r.message, "a refusal is one line naming the file"
        assert r.rows_loaded == r.rows_quarantined == 0
        return
    assert r.status == "loaded", r.as_dict()
    got = (r.rows_loaded, r.rows_quarantined, r.rows_duplicate)
    assert got == (exp["loaded"], exp["quarantined"], exp["duplicate"]), (got, r.as_dict())
    # what the report says is what the store holds
    table = r.table
    stored = _rows(res["db"], f"SELECT count(*) FROM {store.ident(table)} WHERE file_id = ?", [r.file_id])[0][0]
    assert stored == r.rows_loaded
    q = _rows(res["db"], "SELECT row_no, raw, reasons FROM quarantine WHERE file_id = ? ORDER BY row_no", [r.file_id])
    assert len(q) == r.rows_quarantined
    assert all(raw and reasons for _, raw, reasons in q), "every quarantined row keeps its raw record and a reason"
    logged = _rows(res["db"], "SELECT rows_read, rows_loaded, rows_quarantined, rows_duplicate FROM ingested_files "
                              "WHERE file_id = ?", [r.file_id])
    assert logged == [(r.rows_read, r.rows_loaded, r.rows_quarantined, r.rows_duplicate)]
    reasons = [x for _, _, rs in q for x in rs]
    for want in exp.get("reasons", []):
        assert any(want in x for x in reasons), (want, reasons)


def test_every_corpus_file_is_in_the_manifest():
    on_disk = {p.relative_to(CORPUS).as_posix() for p in CORPUS.rglob("*") if p.is_file()}
    helpers = {p for p in on_disk if p.endswith(".mapping.yml") or p == "base_fx.csv"}
    assert on_disk - helpers == set(MANIFEST)
    per_reader = {f: sum(1 for rel in MANIFEST if rel.startswith(f + "/")) for f in FOLDERS}
    assert sum(per_reader.values()) >= 60 and all(n >= 8 for n in per_reader.values()), per_reader


def test_committed_corpus_matches_the_generator(tmp_path, monkeypatch):
    """make_corpus.py and the committed files agree (regenerate with `python tests/reliability/make_corpus.py`)."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("make_corpus", HERE / "make_corpus.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    monkeypatch.setattr(mod, "CORPUS", tmp_path / "corpus")
    monkeypatch.setattr(mod, "MANIFEST", tmp_path / "corpus.yml")
    mod.main()

    def digest(root: Path) -> dict[str, str]:
        return {p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest() for p in root.rglob("*") if p.is_file()}

    assert digest(tmp_path / "corpus") == digest(CORPUS)
    assert (tmp_path / "corpus.yml").read_bytes() == (HERE / "corpus.yml").read_bytes()
