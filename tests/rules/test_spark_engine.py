"""The rule pack on Spark: the translation of rule SQL (no Spark needed), and on data/samples the same rule hits
(rule, subject, band, evidence ids) and the same alerts as on DuckDB, in local mode (pip install -e '.[spark]')."""

from __future__ import annotations

import re
import shutil
from datetime import datetime, timedelta
from pathlib import Path

import pytest
import sqlglot

from rules.dialect import DUCKDB_MACROS
from rules.spark_dialect import SPARK_BODIES, staged_spark, to_spark

pytestmark = pytest.mark.heavy(6)  # minutes in all (tests/conftest.py starts it first)

ROOT = Path(__file__).resolve().parents[2]
SAMPLES = ROOT / "data" / "samples"


def test_every_st_function_has_a_spark_body():
    assert set(DUCKDB_MACROS) == set(SPARK_BODIES)
    for name, body in SPARK_BODIES.items():
        sqlglot.parse_one(body.replace("ARG0", "a").replace("ARG1", "b"), read="spark")  # each body is Spark SQL


def test_translation_of_parameters_functions_and_windows():
    sql = """WITH t AS NOT MATERIALIZED (SELECT * FROM transactions WHERE booked_at >= $since)
             SELECT st_bucket(booked_at, $window + $slack) AS b, st_list_has($kinds, kind) AS k,
                    st_ids(st_list(txn_id)) AS ids,
                    count(DISTINCT from_account_id) OVER w AS n
             FROM t WINDOW w AS (PARTITION BY to_account_id ORDER BY booked_at RANGE BETWEEN CURRENT ROW AND $window FOLLOWING)"""
    out = to_spark(sql, {"since": datetime(2026, 3, 1), "window": timedelta(hours=24), "slack": timedelta(minutes=5),
                         "kinds": ["merchant", "casino"]})
    assert "MATERIALIZED" not in out and "$" not in out and not re.search(r":[a-z_]", out)  # no parameter left
    assert "CAST('2026-03-01 00:00:00.000000' AS TIMESTAMP)" in out
    assert "/ (86700000000)" in out  # 24 h + 5 min in microseconds
    assert "ARRAY_CONTAINS((ARRAY('merchant', 'casino')), (kind))" in out
    assert "SIZE(COLLECT_SET(from_account_id) OVER w)" in out  # the window belongs to the aggregate
    assert "ARRAY_SORT(ARRAY_DISTINCT(COLLECT_LIST((ARRAY((txn_id))))))" in out  # nested st_* expanded inside out
    assert "INTERVAL '86400000000' MICROSECOND FOLLOWING" in out


def test_duckdb_only_functions_of_python_rules_are_rewritten():
    out = to_spark("SELECT rowid AS rid, quantile_cont(n, $q) AS q FROM transactions t WHERE t.rowid > 0", {"q": 0.99})
    assert "XXHASH64(txn_id) AS rid" in out and "XXHASH64(t.txn_id) > 0" in out
    assert "PERCENTILE(n, 0.99)" in out


def test_materialized_steps_become_queries_of_their_own_read_as_views():
    sql = """WITH a AS NOT MATERIALIZED (SELECT x FROM transactions WHERE y > $p),
                  b AS MATERIALIZED (SELECT x FROM a),
                  c AS (SELECT b.x FROM b JOIN b AS b2 USING (x)),
                  d AS MATERIALIZED (SELECT st_hash(x) AS h FROM c)
             SELECT d.h, b.x FROM d, b"""
    steps, final = staged_spark(sql, {"p": 3})
    assert [v for v, _ in steps] == ["_st_step_0_b", "_st_step_1_d"]
    assert steps[0][1] == "WITH a AS (SELECT x FROM transactions WHERE y > 3) SELECT * FROM (SELECT x FROM a) AS s"
    assert "FROM _st_step_0_b AS b JOIN _st_step_0_b AS b2" in steps[1][1] and "XXHASH64" in steps[1][1]
    assert final.endswith(") SELECT d.h, b.x FROM _st_step_1_d AS d, _st_step_0_b AS b")  # the steps read as views
    for query in [q for _, q in steps] + [final]:
        sqlglot.parse_one(query, read="spark")
    assert staged_spark("SELECT 1 AS x", {}) == ([], "SELECT 1 AS x")  # nothing to stage


def test_steps_keep_column_lists_and_rename_only_what_reads_them():
    # a CTE before a step keeps its column list; a name it reads before the step of that name is the table
    steps, final = staged_spark("""WITH a(y, x) AS (SELECT x, y FROM t), early AS (SELECT * FROM accounts),
                                         accounts AS MATERIALIZED (SELECT y FROM a)
                                    SELECT * FROM accounts, early""", {})
    assert steps[0][1].startswith("WITH a(y, x) AS (SELECT x, y FROM t)")
    assert "early AS (SELECT * FROM accounts)" in final  # the lake's table, not the step
    assert final.endswith("SELECT * FROM _st_step_0_accounts AS accounts, early")
    # a nested WITH that reuses a step's name: the query is left whole rather than renamed by name
    sql = "WITH b AS MATERIALIZED (SELECT 1 AS x) SELECT * FROM b, (WITH b AS (SELECT 2 AS x) SELECT x FROM b) AS n"
    steps, final = staged_spark(sql, {})
    assert steps == [] and "_st_step" not in final


def test_an_unknown_st_function_or_parameter_is_refused():
    with pytest.raises(ValueError, match="st_nope has no Spark body"):
        to_spark("SELECT st_nope(x) FROM t", {})
    with pytest.raises(ValueError, match=r"parameter \$missing has no value"):
        to_spark("SELECT x FROM t WHERE y > $missing", {})


# On a few thousand rows, compiling each query's code costs Spark more than running it, 8 shuffle partitions are 8
# tasks of nothing, and adaptive execution plans each query again after every shuffle: the module's Spark run of
# the whole pack took 329 s with the defaults, 246 s without the first two, 108 s without all three. Production
# keeps them (bench/bench_spark.py compares the hits with them on).
SMALL_DATA = {"spark.sql.shuffle.partitions": "2", "spark.sql.codegen.wholeStage": "false",
              "spark.sql.adaptive.enabled": "false"}


@pytest.fixture(scope="module")
def spark():
    """One local Spark session for the module's tests (its start-up alone is about 20 s)."""
    pytest.importorskip("pyspark", reason="pip install -e '.[spark]'")
    if shutil.which("java") is None:
        pytest.skip("Spark needs Java 17 (Debian: openjdk-17-jre-headless; .ci/run installs it)")
    from rules.spark_engine import spark_session

    session = spark_session("local[2]", conf=SMALL_DATA)
    yield session
    session.stop()


@pytest.fixture(scope="module")
def spark_and_duckdb(tmp_path_factory, samples_built, spark):
    """a: the session's samples store (DuckDB detect and casework, tests/conftest.py); b: a copy of it whose rules
    ran again on Spark over its lake, then casework."""
    from rules.casework import build
    from rules.engine import detect
    from rules.spark_engine import SparkRunner
    from transforms.lake import export_lake
    from transforms.store import connect

    folder = tmp_path_factory.mktemp("spark")
    src, duckdb_run = samples_built
    for name in ("a", "b"):
        shutil.copy(src, folder / f"{name}.duckdb")
    out = {"a": (connect(folder / "a.duckdb"), duckdb_run)}
    con = connect(folder / "b.duckdb")
    export_lake(con, folder / "lake")
    summary = detect(con, runner=SparkRunner(folder / "lake", session=spark))
    out["summary"] = summary
    build(con, summary.run_id)
    out["b"] = (con, summary.run_id)
    yield out
    for name in ("a", "b"):
        out[name][0].close()



@pytest.mark.slow
def test_spark_gives_the_duckdb_hits_and_alerts_on_the_samples(spark_and_duckdb):
    hits = "SELECT rule_id, subject_id, band, txn_ids, member_ids FROM rule_hits WHERE run_id = ? ORDER BY ALL"
    alerts = "SELECT typology_id, subject_id, round(score, 9), is_alert FROM typology_scores WHERE run_id = ? ORDER BY ALL"
    got = {}
    for name in ("a", "b"):
        con, run_id = spark_and_duckdb[name]
        got[name] = (con.execute(hits, [run_id]).fetchall(), con.execute(alerts, [run_id]).fetchall())
    assert len(got["a"][0]) > 100 and len(got["a"][1]) > 50
    assert got["b"][0] == got["a"][0]  # every rule hit: rule, subject, band, evidence and member ids
    assert got["b"][1] == got["a"][1]  # every typology score and alert
    summary = spark_and_duckdb["summary"]
    from rules.engine import load_rules

    every_rule = [r for r in load_rules(None)[1].values() if r.enabled]
    assert not summary.failed and len([r for r in summary.rules if r.status == "ok"]) == len(every_rule)  # SQL and Python


@pytest.mark.slow
def test_a_store_without_events_runs_on_spark_as_on_duckdb(tmp_path, spark):
    """A simulator's world or a crypto export alone: no events, so the tables the store derives at detect time
    (where accounts were used from, ...) are empty, and go to Spark empty. Same hits as on DuckDB."""
    from rules.engine import detect
    from rules.spark_engine import SparkRunner
    from tests.helpers import ingest
    from transforms.lake import export_lake
    from transforms.store import connect

    world = ROOT / "tests" / "fixtures" / "worlds" / "amlsim_s311_slice"
    ingest(tmp_path / "a.duckdb", world / "tx_log.csv")
    shutil.copy(tmp_path / "a.duckdb", tmp_path / "b.duckdb")
    rules = ["one_off_payees", "one_shot_hub", "one_shot_senders", "ring", "shell_ring", "daily_burst"]
    got = {}
    for name in ("a", "b"):
        con = connect(tmp_path / f"{name}.duckdb")
        runner = {}
        if name == "b":
            assert con.execute("SELECT count(*) FROM events").fetchone()[0] == 0
            export_lake(con, tmp_path / "lake")
            runner = {"runner": SparkRunner(tmp_path / "lake", session=spark)}
        summary = detect(con, only=rules, **runner)
        assert not summary.failed, summary.failed
        got[name] = con.execute("SELECT rule_id, subject_id, band, txn_ids, member_ids, evidence FROM rule_hits"
                                " WHERE run_id = ? ORDER BY ALL", [summary.run_id]).fetchall()
        con.close()
    assert {r[0] for r in got["a"]} == set(rules)  # each of these rules has hits on the slice
    assert got["b"] == got["a"]  # the evidence JSON too, number for number


def test_lake_export_and_a_lake_that_is_not_one_from_the_command_line(tmp_path):
    from typer.testing import CliRunner

    from flows.cli import app

    db, lake = tmp_path / "c.duckdb", tmp_path / "lake"
    tron = next((SAMPLES / "crypto").glob("TRON-*.csv"))
    assert CliRunner().invoke(app, ["ingest", str(tron), "--db", str(db), "-q"]).exit_code == 0
    r = CliRunner().invoke(app, ["lake", "export", "--to", str(lake), "--db", str(db)])
    assert r.exit_code == 0 and "transactions" in r.output
    months = sorted(p.name for p in (lake / "transactions").iterdir())
    assert months and all(m.startswith("booking_month=20") for m in months)
    import duckdb

    n = duckdb.sql(f"SELECT count(*) FROM read_parquet('{lake}/transactions/*/*.parquet')").fetchall()[0][0]
    assert n == duckdb.connect(str(db), read_only=True).execute("SELECT count(*) FROM transactions").fetchone()[0]
    r = CliRunner().invoke(app, ["detect", "--db", str(db), "--engine", "spark", "--lake", str(tmp_path / "nowhere")])
    assert r.exit_code == 1 and "not a scamtrace lake" in r.output
    # after a detect, the hits and scores go to the lake as well
    assert CliRunner().invoke(app, ["detect", "--db", str(db), "-q"]).exit_code == 0
    assert CliRunner().invoke(app, ["lake", "export", "--to", str(lake), "--db", str(db)]).exit_code == 0
    hits = duckdb.sql(f"SELECT count(*) FROM read_parquet('{lake}/rule_hits/*.parquet')").fetchall()[0][0]
    assert hits == duckdb.connect(str(db), read_only=True).execute("SELECT count(*) FROM rule_hits").fetchone()[0] > 0
    assert (lake / "typology_scores").is_dir() and (lake / "rule_runs").is_dir()


def test_every_catalogue_rule_translates_to_spark_sql():
    """A new rule.sql that uses something the translation does not know fails here, without Spark."""
    from rules.engine import load_rules
    from rules.spec import sql_param_names

    _, rules, _ = load_rules(None)
    since, until = datetime(2026, 3, 1), datetime(2026, 4, 1)
    translated = 0
    for rule in rules.values():
        if rule.spec.kind != "sql":
            continue
        sql = rule.spec.sql()
        values = {**rule.params, "since": since, "until": until, "window_start": since - rule.spec.lookback_td,
                  "history_start": since - rule.spec.history_td}
        steps, final = staged_spark(sql, {k: values[k] for k in sql_param_names(sql)})  # as SparkRunner runs it
        for out in [q for _, q in steps] + [final]:
            sqlglot.parse_one(out, read="spark")
            assert not re.search(r"\bst_[a-z_]+\(", out, re.I), rule.spec.id  # every st_* call has its body
        translated += 1
    assert translated >= 15
