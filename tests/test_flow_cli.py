"""The Prefect flow end to end through the test harness, and the CLI's contract (messages, exit codes)."""

from __future__ import annotations

import re

import pytest
from typer.testing import CliRunner

from flows.cli import app
from tests.helpers import FX, rows

pytestmark = pytest.mark.usefixtures("prefect_harness")

MAPPING = "name: m\nfiles: ['x_*.csv']\nconstants: {institution: B1, currency: THB}\ncolumns: {booked_at: t, account: a, counterparty_account: cp, amount: amt, txn_id: ref}\n"


def test_ingest_flow_runs_in_prefect_and_records_the_run(db, write):
    from flows.ingest_flow import ingest_flow

    write("fx.csv", FX)
    write("m.mapping.yml", MAPPING)
    f = write("x_1.csv", "ref,t,a,cp,amt\nR1,2026-03-01 10:00:00,A,C,5\nR2,2026-03-01 10:00:00,A,C,zz\n")
    reports = ingest_flow(paths=[str(f.parent)], db=str(db))
    by_name = {r["path"].rsplit("/", 1)[-1]: r for r in reports}
    assert (by_name["x_1.csv"]["rows_loaded"], by_name["x_1.csv"]["rows_quarantined"]) == (1, 1)
    assert rows(db, "SELECT command, status FROM runs") == [("ingest", "ok")]


def test_cli_ingest_prints_reconciliation_and_exits_0(db, write):
    write("fx.csv", FX)
    write("m.mapping.yml", MAPPING)
    f = write("x_1.csv", "ref,t,a,cp,amt\nR1,2026-03-01 10:00:00,A,C,5\n")
    result = CliRunner().invoke(app, ["ingest", str(f.parent), "--db", str(db)])
    assert result.exit_code == 0, result.output
    flat = re.sub(r"[\s│┃]", "", result.output)  # the table folds long paths
    assert "Reconciliation" in result.output and "x_1.csv" in flat
    again = CliRunner().invoke(app, ["ingest", str(f.parent), "--db", str(db), "--quiet"])
    assert again.exit_code == 0 and again.output.strip() == ""


def test_cli_refused_file_is_one_line_and_exit_1(db, write):
    f = write("mystery.csv", "foo,bar\n1,2\n")
    result = CliRunner().invoke(app, ["ingest", str(f), "--db", str(db), "-q"])
    assert result.exit_code == 1
    assert "Traceback" not in result.output
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1 and "mystery.csv: unknown layout" in lines[0]


def test_cli_broken_mapping_is_usage_error_exit_2(db, write):
    m = write("bad.mapping.yml", "name: m\ncolumns: {booked_at: t, acount: a, amount: x, currency: c}\n")
    result = CliRunner().invoke(app, ["ingest", str(m.parent), "--db", str(db)])
    assert result.exit_code == 2
    assert "did you mean 'account'" in result.output and "Traceback" not in result.output


def test_cli_missing_path_is_exit_1_with_message(db, tmp_path):
    result = CliRunner().invoke(app, ["ingest", str(tmp_path / "nope"), "--db", str(db)])
    assert result.exit_code == 1 and "no such file or folder" in result.output
