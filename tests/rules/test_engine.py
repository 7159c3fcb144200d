"""Engine behaviour across rules: run log, skips, typology scores, time range, evidence checks."""

import json
import shutil
from pathlib import Path

import pytest
import yaml

from rules import engine
from rules.engine import detect
from rules.spec import CATALOG_DIR, SpecError, load_catalog
from tests.rules.conftest import World, at


def fan_in(world: World, n: int = 5) -> None:
    for i in range(n):
        world.txn(f"V{i}", "MULE", 500, i)


def test_full_run_on_bank_only_data_skips_what_it_lacks(world: World):
    fan_in(world)
    s = detect(world.con)
    assert s.counts["fan_in_24h"] == 1
    assert not s.failed
    for rid in ("structuring_cash", "shared_device_ip", "shared_kyc_contact", "peel_chain", "exposure", "off_ramp"):
        assert rid in s.skipped, rid
    logged = dict(world.con.execute("SELECT rule_id, status FROM rule_runs WHERE run_id = ?", [s.run_id]).fetchall())
    assert logged["peel_chain"] == "skipped" and logged["fan_in_24h"] == "ok"
    run = world.con.execute("SELECT status, summary FROM runs WHERE run_id = ?", [s.run_id]).fetchall()[0]
    assert run[0] == "ok" and "no crypto transactions" in run[1]


def test_typology_score_and_alert_threshold(world: World):
    fan_in(world)
    s = detect(world.con, only=["fan_in_24h"])
    row = world.con.execute(
        "SELECT subject_id, score, threshold, is_alert, rule_scores, txn_ids FROM typology_scores"
        " WHERE run_id = ? AND typology_id = 'mule_fan_in'", [s.run_id]
    ).fetchall()
    assert len(row) == 1
    subject, score, threshold, is_alert, rule_scores, txn_ids = row[0]
    assert subject == "MULE" and score == pytest.approx(0.7) and is_alert and len(txn_ids) == 5
    assert json.loads(rule_scores) == {"fan_in_24h": 0.7}
    assert s.typologies["mule_fan_in"] == {"subjects": 1, "alerts": 1}

    cfg = world.config({"typologies": {"mule_fan_in": {"threshold": 0.8}}})
    s2 = detect(world.con, only=["fan_in_24h"], config_path=cfg)
    assert s2.typologies["mule_fan_in"] == {"subjects": 1, "alerts": 0}

    cfg = world.config({"typologies": {"mule_fan_in": {"threshold": 0.8, "weights": {"fan_in_24h": 1.2}}}})
    s3 = detect(world.con, only=["fan_in_24h"], config_path=cfg)
    assert s3.typologies["mule_fan_in"] == {"subjects": 1, "alerts": 1}


def test_hit_records_version_hash_and_run(world: World):
    fan_in(world)
    s1 = detect(world.con, only=["fan_in_24h"])
    s2 = detect(world.con, only=["fan_in_24h"], config_path=world.config({"rules": {"fan_in_24h": {"parameters": {"strong_senders": 12}}}}))
    rows = world.con.execute("SELECT run_id, rule_version, param_hash FROM rule_hits ORDER BY run_id").fetchall()
    assert {r[0] for r in rows} == {s1.run_id, s2.run_id}
    assert len({r[2] for r in rows}) == 2 and all(r[1] == load_catalog()["fan_in_24h"].version for r in rows)


def test_since_until_limit_the_windows(world: World):
    fan_in(world)                       # hours 0-4 on 2024-03-01
    s = detect(world.con, since=at(48), only=["fan_in_24h"])
    assert s.counts["fan_in_24h"] == 0  # window ended before the range
    s = detect(world.con, since="2024-03-01", until="2024-03-01", only=["fan_in_24h"])
    assert s.counts["fan_in_24h"] == 1  # a date `until` includes that day


def test_disabled_rule(world: World):
    fan_in(world)
    s = detect(world.con, only=["fan_in_24h"], config_path=world.config({"rules": {"fan_in_24h": {"enabled": False}}}))
    assert s.skipped == {"fan_in_24h": "disabled by the deployment config"} and s.counts == {}


def test_missing_evidence_column_fails_that_rule_only(world: World, tmp_path, monkeypatch):
    cat = tmp_path / "catalog"
    shutil.copytree(CATALOG_DIR / "fan_in_24h", cat / "fan_in_24h")
    data = yaml.safe_load((cat / "fan_in_24h" / "rule.yml").read_text())
    data["evidence"].append("no_such_column")
    (cat / "fan_in_24h" / "rule.yml").write_text(yaml.safe_dump(data))
    typ = tmp_path / "typ"
    typ.mkdir()
    (typ / "t.yml").write_text(yaml.safe_dump({"id": "t", "version": "1", "description": "d", "threshold": 1, "rules": {"fan_in_24h": 1}}))
    real = engine.load_rules
    monkeypatch.setattr(engine, "load_rules", lambda cfg: real(cfg, catalog_dir=cat, typology_dir=typ))
    fan_in(world)
    s = detect(world.con)
    assert "no_such_column" in s.failed["fan_in_24h"]
    assert world.con.execute("SELECT status FROM runs WHERE run_id = ?", [s.run_id]).fetchall()[0][0] == "failed"


def test_new_rule_folder_needs_no_code(world: World, tmp_path, monkeypatch):
    cat = tmp_path / "catalog"
    (cat / "big_credit").mkdir(parents=True)
    (cat / "big_credit" / "rule.yml").write_text(yaml.safe_dump({
        "id": "big_credit", "version": "0.1.0", "typology": "t", "description": "largest credit", "lookback": "1d",
        "parameters": {"min_usd": {"type": "decimal", "default": 1000, "description": "floor"}},
        "bands": [{"lower": "$min_usd", "score": 1, "reason": "credit of {value} USD"}],
    }))
    (cat / "big_credit" / "rule.sql").write_text(
        "SELECT to_account_id AS subject_id, max(amount_usd) AS value, st_ids(txn_id) AS txn_ids,"
        " min(booked_at) AS window_start, max(booked_at) AS window_end FROM transactions"
        " WHERE booked_at >= $window_start AND booked_at < $until GROUP BY to_account_id"
    )
    typ = tmp_path / "typ"
    typ.mkdir()
    (typ / "t.yml").write_text(yaml.safe_dump({"id": "t", "version": "1", "description": "d", "threshold": 1, "rules": {"big_credit": 1}}))
    real = engine.load_rules
    monkeypatch.setattr(engine, "load_rules", lambda cfg: real(cfg, catalog_dir=cat, typology_dir=typ))
    world.txn("A", "B", 1000, 0)
    world.txn("A", "C", 999.99, 1)
    s = detect(world.con)
    assert s.counts == {"big_credit": 1} and s.typologies["t"]["alerts"] == 1
    reason = world.con.execute("SELECT reason FROM rule_hits WHERE subject_id = 'B'").fetchall()[0][0]
    assert reason == "credit of 1000 USD"


def test_bad_config_raises_spec_error(world: World):
    with pytest.raises(SpecError):
        detect(world.con, config_path=world.config({"rules": {"nope": {}}}))


class CountingRunner(engine.DuckDBRunner):
    """The DuckDB runner, counting the shared tables it builds; `fail` names tables whose build fails: 'disk' before
    anything is written (like a full disk), 'query' inside DuckDB, after the scratch file is attached."""

    def __init__(self, fail: dict[str, str] | None = None):
        self.built: list[str] = []
        self.files: list[str] = []
        self.fail = fail or {}

    def derive(self, con, name, sql, params):
        if self.fail.get(name) == "disk":
            raise engine.duckdb.IOException("could not write: no space left on device")
        if self.fail.get(name) == "query":
            sql = sql.replace("FROM transactions", "FROM no_such_table")
        self.built.append(name)
        super().derive(con, name, sql, params)
        self.files += [r[0] for r in con.execute(
            "SELECT path FROM duckdb_databases() WHERE database_name LIKE 'st_shared_%'").fetchall()]


def _leftovers(con) -> list:
    return con.execute("SELECT view_name FROM duckdb_views() WHERE view_name IN ('transfers', 'other_moves')"
                       " UNION ALL SELECT database_name FROM duckdb_databases() WHERE database_name LIKE 'st_shared%'"
                       ).fetchall()


def test_shared_tables_are_built_once_for_the_rules_that_read_them_and_dropped(world: World):
    fan_in(world)
    runner = CountingRunner()
    s = detect(world.con, only=["fan_in_24h", "fan_out_8h"], runner=runner)
    assert s.counts["fan_in_24h"] == 1 and runner.built == ["transfers"]   # both read transfers: one build
    assert runner.files and not any(Path(f).exists() or Path(f + ".wal").exists() for f in runner.files)
    assert _leftovers(world.con) == []                                     # no view, no attached scratch file
    runner.built.clear()
    detect(world.con, only=["pass_through"], runner=runner)               # it reads both
    assert sorted(runner.built) == ["other_moves", "transfers"]
    runner.built.clear()
    detect(world.con, only=["structuring_cash"], runner=runner)           # reads neither: nothing built
    assert runner.built == []


def test_a_caller_passing_shared_keeps_the_tables_until_rows_are_added(world: World):
    fan_in(world)
    runner, shared = CountingRunner(), {}
    first = detect(world.con, only=["fan_in_24h"], runner=runner, shared=shared)
    detect(world.con, only=["fan_out_8h"], runner=runner, shared=shared)
    assert runner.built == ["transfers"] and first.shared_seconds > 0
    world.txn("V9", "MULE", 500, 9)                                        # new data: built again, and counted
    again = detect(world.con, only=["fan_in_24h"], runner=runner, shared=shared)
    assert runner.built == ["transfers", "transfers"] and again.counts["fan_in_24h"] == 1
    hit = world.con.execute("SELECT measured_value FROM rule_hits WHERE run_id = ?", [again.run_id]).fetchall()
    assert hit == [(6.0,)]                                                 # the sixth sender is seen
    from rules.transfers import drop
    drop(world.con, runner, shared)
    assert shared == {}


def test_shared_tables_that_cannot_be_built_fail_their_readers_only(world: World):
    fan_in(world)
    runner = CountingRunner(fail={"other_moves": "disk"})
    s = detect(world.con, only=["fan_in_24h", "pass_through", "structuring_cash"], runner=runner)
    assert s.failed == {"pass_through": "the shared table other_moves could not be built: IOException: could not "
                                        "write: no space left on device"}  # it reads transfers and other_moves
    assert s.counts["fan_in_24h"] == 1                                     # transfers was built: its readers run
    status = dict(world.con.execute("SELECT rule_id, status FROM rule_runs WHERE run_id = ?", [s.run_id]).fetchall())
    assert status["structuring_cash"] == "skipped" and status["fan_in_24h"] == "ok"   # (no cash deposits loaded)
    assert _leftovers(world.con) == []


def test_a_build_that_fails_inside_duckdb_leaves_no_scratch_file(world: World):
    fan_in(world)
    runner = CountingRunner(fail={"transfers": "query"})
    s = detect(world.con, only=["fan_in_24h"], runner=runner)
    assert "the shared table transfers could not be built: CatalogException" in s.failed["fan_in_24h"]
    assert _leftovers(world.con) == []
    folder = Path(world.con.execute("SELECT current_setting('temp_directory')").fetchall()[0][0])
    assert list(folder.glob("scamtrace-shared-*")) == []


def test_the_memory_limit_is_set_back_exactly_after_a_python_rule(world: World):
    fan_in(world)
    shown = world.con.execute("SELECT current_setting('memory_limit')").fetchall()[0][0]
    for _ in range(3):  # read back and set again each time, a rounded limit would creep down
        detect(world.con, only=["ring"])
    assert world.con.execute("SELECT current_setting('memory_limit')").fetchall()[0][0] == shown
    world.con.execute("SET memory_limit = '1500MB'")                     # set by someone else: left alone
    detect(world.con, only=["ring"])
    assert world.con.execute("SELECT current_setting('memory_limit')").fetchall()[0][0] == "1.3 GiB"


def test_rules_declare_the_shared_tables_they_read():
    import re

    from rules.transfers import TABLES

    forwards = (CATALOG_DIR.parent / "forwards.py").read_text()
    for spec in load_catalog().values():
        text = spec.sql() if spec.kind == "sql" else spec.py_path.read_text()
        if spec.kind == "py" and "rules.forwards" in text:
            text += forwards
        used = {t for t in TABLES if re.search(rf"\b(FROM|JOIN)\s+{t}\b", text, re.IGNORECASE)}
        assert used == set(spec.reads), f"{spec.id}: reads {sorted(used)}, declares {spec.reads}"


def test_a_scratch_file_left_by_a_killed_run_on_the_store_is_removed(world: World):
    fan_in(world)
    runner = CountingRunner()
    detect(world.con, only=["fan_in_24h"], runner=runner)
    folder = Path(runner.files[0]).parent
    stale = Path(runner.files[0])                     # the same store's name: as if its run had been killed
    stale.write_bytes(b"left over")
    other = folder / "scamtrace-shared-0123456789ab-feed.duckdb"   # another store's, in a shared temp folder
    other.write_bytes(b"not ours")
    detect(world.con, only=["fan_in_24h"], runner=runner)
    assert not stale.exists() and other.exists()
