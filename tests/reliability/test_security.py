"""Safe inputs and outputs: SQL built only from our own schema, owner-only files, no path traversal from names in
the data, spreadsheet formulas neutralised, no secrets in the store, the outputs or the logs."""

from __future__ import annotations

import ast
import csv
import os
import stat
from pathlib import Path

import pytest

from tests.reliability.crashkit import ROOT, write_world
from transforms import store

# ------------------------------------------------------------------------------------------------ SQL parameters
SQL_METHODS = {"execute", "executemany", "sql", "query"}
# SQL text may interpolate identifiers and fragments built from our own schema and code (table and column lists,
# staging-table names from a file's sha256, module constants); values read from input files must go in as bound
# parameters (?). The check reads the code: an f-string / .format / % SQL whose interpolated expression mentions a
# name that carries input values fails. (Names are a heuristic; review new interpolations by hand as well.)
INPUT_NAMES = {"path", "raw", "value", "values", "text", "line", "row", "record_text", "user", "filename", "file_name",
               "account_id", "account", "subject_id", "reference", "memo", "since", "until", "message", "reason",
               "reasons", "cell", "field_value", "params", "param", "query_text", "name_from_input", "alias", "label"}


def _sql_interpolations(path: Path):
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in SQL_METHODS and node.args:
            arg = node.args[0]
            if isinstance(arg, ast.JoinedStr):
                for v in arg.values:
                    if isinstance(v, ast.FormattedValue):
                        yield node.lineno, ast.unparse(v.value), v.value
            elif isinstance(arg, ast.Call) and isinstance(arg.func, ast.Attribute) and arg.func.attr == "format":
                yield node.lineno, ast.unparse(arg), arg
            elif isinstance(arg, ast.BinOp) and isinstance(arg.op, ast.Mod):
                yield node.lineno, ast.unparse(arg), arg


def test_sql_never_interpolates_input_values():
    problems = []
    for folder in ("transforms", "rules"):
        for f in sorted((ROOT / folder).rglob("*.py")):
            rel = f.relative_to(ROOT).as_posix()
            for lineno, text, expr in _sql_interpolations(f):
                names = {n.id for n in ast.walk(expr) if isinstance(n, ast.Name)}
                names |= {n.attr for n in ast.walk(expr) if isinstance(n, ast.Attribute)}
                if names & INPUT_NAMES:
                    problems.append(f"{rel}:{lineno}: SQL interpolates `{text}` ({sorted(names & INPUT_NAMES)}); "
                                    "bind input values as parameters")
    assert not problems, "\n".join(problems)


def test_the_sql_check_catches_interpolated_values(tmp_path):
    bad = tmp_path / "bad.py"
    bad.write_text("def f(con, value, stg):\n"
                   "    con.execute(f\"INSERT INTO stg.{stg} SELECT * FROM t WHERE a = '{value}'\")\n"
                   "    con.execute(\"SELECT * FROM t WHERE a = '%s'\" % value)\n")
    found = [text for _, text, _ in _sql_interpolations(bad)]
    assert found == ["stg", "value", "'SELECT * FROM t WHERE a = \\'%s\\'' % value"] or ("value" in found and len(found) == 3)


def test_sql_in_input_text_is_stored_verbatim(tmp_path):
    from transforms.ingest import ingest_paths

    world = tmp_path / "w"
    write_world(world, memo="x'); DROP TABLE transactions; --")
    reports = ingest_paths(tmp_path / "s.duckdb", [world])
    assert all(r.reconciles for r in reports)
    con = store.connect(tmp_path / "s.duckdb", read_only=True)
    try:
        n = con.execute("SELECT count(*) FROM transactions WHERE reference = ?", ["x'); DROP TABLE transactions; --"]).fetchall()
    finally:
        con.close()
    assert n[0][0] > 0


# ------------------------------------------------------------------------------------------------ file modes
def _mode(p: Path) -> int:
    return stat.S_IMODE(p.stat().st_mode)


def test_store_and_its_journal_are_owner_only(tmp_path):
    db = tmp_path / "sub" / "s.duckdb"
    con = store.connect(db)
    try:
        con.execute("CREATE TABLE t (a VARCHAR)")
        con.execute("INSERT INTO t VALUES ('personal data')")
        wal = Path(str(db) + ".wal")
        assert wal.exists(), "expected an uncheckpointed journal while the store is open"
        assert _mode(db) == 0o600 and _mode(wal) == 0o600, (oct(_mode(db)), oct(_mode(wal)))
    finally:
        con.close()
    assert _mode(db) == 0o600


# ------------------------------------------------------------------------------------------------ exports
HOSTILE_MULE = "../../../../tmp/evil=cmd|' /C calc'!A0/"
FORMULA_MEMO = "=HYPERLINK(\"http://evil.example\",\"click\")"
SECRET = "s3cr3t-TOKEN-7f2b9c"


@pytest.fixture(scope="module")
def hostile_export(tmp_path_factory, zygote):
    base = tmp_path_factory.mktemp("hostile")
    inputs = [str(p) for p in write_world(base / "world", mule=HOSTILE_MULE, memo=FORMULA_MEMO)]
    db, out = base / "store.duckdb", base / "case" / "export"
    env = {"SCAMTRACE_TEST_PASSWORD": SECRET, "HTTPS_PROXY": f"http://user:{SECRET}@proxy.example:3128"}
    results = [zygote.run(stage=s, db=str(db), inputs=inputs, out=str(out), formats=None, env=env)
               for s in ("ingest", "detect", "export")]
    for r in results:
        assert r.get("ok"), r
    return base, db, out


def test_export_files_are_owner_only_and_inside_the_folder(hostile_export):
    base, _, out = hostile_export
    files = [p for p in out.rglob("*")]
    assert any(p.suffix == ".csv" for p in files) and any(p.suffix == ".xml" for p in files)
    for p in files:
        assert not p.is_symlink()
        assert out.resolve() in p.resolve().parents
        assert ".." not in p.relative_to(out).parts
        assert _mode(p) == (0o700 if p.is_dir() else 0o600), (p, oct(_mode(p)))
    # nothing was written next to or above the export folder
    assert sorted(x.name for x in (base / "case").iterdir()) == ["export"]
    assert not Path("/tmp/evil").exists()


def test_export_names_from_the_data_are_sanitised(hostile_export):
    from exports.safe import inside, safe_name

    _, _, out = hostile_export
    for p in out.rglob("*"):
        assert "evil" not in p.name or "/" not in p.name
    for hostile in (HOSTILE_MULE, "..", ".", "", "/etc/passwd", "a/../../b", "C:\\Windows\\x", "\x00", "NUL", "x" * 500):
        name = safe_name(hostile)
        assert name and "/" not in name and "\\" not in name and not name.startswith(".") and len(name) <= 90
        assert inside(out, out / f"{name}.csv")
    with pytest.raises(ValueError):
        inside(out, out / ".." / "x.csv")


def test_spreadsheet_formulas_are_neutralised_in_csv(hostile_export):
    _, _, out = hostile_export
    leads = ("=", "+", "@", "\t", "\r")
    seen_memo = False
    for f in out.rglob("*.csv"):
        with open(f, newline="", encoding="utf-8-sig") as fh:
            for row in csv.reader(fh):
                for cell in row:
                    seen_memo |= "HYPERLINK" in cell
                    assert not cell.startswith(leads), (f.name, cell)
                    if cell.startswith("-"):
                        float(cell)  # only numbers may start with a minus sign
    assert seen_memo, "the formula-looking text should reach at least one CSV (neutralised)"


def test_no_secrets_in_store_outputs_or_logs(hostile_export):
    base, db, out = hostile_export
    blobs = [db.read_bytes()] + [p.read_bytes() for p in out.rglob("*") if p.is_file()]
    wal = Path(str(db) + ".wal")
    if wal.exists():
        blobs.append(wal.read_bytes())
    for b in blobs:
        assert SECRET.encode() not in b
    # the run log records parameters and paths, never the environment
    con = store.connect(db, read_only=True)
    try:
        logged = " ".join(str(x) for r in con.execute("SELECT params, summary FROM runs").fetchall() for x in r)
    finally:
        con.close()
    assert SECRET not in logged and "HTTPS_PROXY" not in logged
    assert os.environ.get("SCAMTRACE_TEST_PASSWORD") is None  # set only in the forked child
