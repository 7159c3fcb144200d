"""worlds.evaluate with truth/operations.csv: every operation's organiser is ranked, and alerts on cast accounts that
no pattern names are not false positives (hand-made truth and store, real DuckDB)."""

from __future__ import annotations

from rules import alert_tables, tables
from worlds.evaluate import evaluate
from transforms.store import connect


def _store_and_truth(tmp_path, with_operations: bool):
    con = connect(tmp_path / "store.duckdb")
    tables.ensure_tables(con)
    alert_tables.ensure_tables(con)
    d = tmp_path / "truth"
    d.mkdir()
    (d / "patterns.csv").write_text("pattern_id,typology,compound_id,difficulty\nP1,mule_fan_in,cA,normal\n"
                                    "P2,mule_fan_in,cB,normal\n")
    (d / "pattern_accounts.csv").write_text("pattern_id,account_id,role\nP1,MA,mule\nP1,CA,consolidator\nP1,VA,victim\n"
                                            "P2,MB,mule\nP2,CB,consolidator\n")
    (d / "pattern_transactions.csv").write_text("pattern_id,txn_id\n")
    if with_operations:  # cA's organiser ORG is in no pattern (no cycle planted for cA); cB's organiser ORGB neither
        (d / "operations.csv").write_text("compound_id,operation,role,account_id,party_id,name\n"
                                          "cA,0,organiser,ORG,PORG,Boss A\ncA,0,consolidator,CA,PCA,C\n"
                                          "cB,1,organiser,ORGB,PORGB,Boss B\n")
    con.execute("INSERT INTO accounts (account_id, holder_id, source, file_id, row_no) VALUES ('ORG', 'PORG', 't', 'f', 1),"
                " ('ORGB', 'PORGB', 't', 'f', 2)")
    # alerts of run r: the mule, the consolidator, and the organiser (shared identifiers with the cast)
    for subj, typ in (("MA", "mule_fan_in"), ("CA", "mule_fan_in"), ("ORG", "shared_identifiers"), ("MB", "mule_fan_in")):
        con.execute("INSERT INTO typology_scores (run_id, typology_id, subject_type, subject_id, score, is_alert, txn_ids,"
                    " member_ids) VALUES ('r', ?, 'account', ?, 1.0, true, [], [])", [typ, subj])
    con.execute("INSERT INTO networks (network_id, is_current, compound_ids, n_accounts, n_alerts) VALUES"
                " ('N1', true, ['cA'], 4, 3), ('N2', true, ['cB'], 2, 1)")
    for nid, mtype, mid, rank, holder in (("N1", "account", "CA", 1, None), ("N1", "party", "PORG", 2, "PORG"),
                                          ("N1", "account", "MA", 3, None), ("N1", "account", "ORG", 4, None),
                                          ("N2", "account", "MB", 1, None), ("N2", "account", "CB", 2, None)):
        con.execute("INSERT INTO network_members (network_id, member_type, member_id, rank, holder_id) VALUES (?, ?, ?, ?, ?)",
                    [nid, mtype, mid, rank, holder])
    return con, tmp_path


def test_organisers_of_every_operation_and_cast_alerts_are_right(tmp_path):
    con, root = _store_and_truth(tmp_path, with_operations=True)
    res = evaluate(con, root, run_id="r")
    comp = res["networks"]["compounds"]
    # ORG is ranked through its party (rank 2 in N1) though no pattern names it
    assert comp["cA"]["organisers"] == [{"account_id": "ORG", "party_id": "PORG", "rank": 2, "network_id": "N1",
                                         "network_members": 4}]
    # ORGB is in no network: checked, and reported as missing (rank None), not skipped
    assert [(o["account_id"], o["rank"]) for o in comp["cB"]["organisers"]] == [("ORGB", None)]
    assert res["networks"]["targets"]["organisers"] == 2 and res["networks"]["targets"]["organisers_top"] == 1
    # the alert on the organiser is right: 4 alerted subjects, all suspects of an operation
    assert res["accounts"]["precision"] == 1.0
    assert res["per_typology"]["shared_identifiers"]["accounts"]["precision"] == 1.0
    # recall still counts pattern targets only (MA, CA, MB of 4 targets: CB not alerted)
    assert res["accounts"]["recall"] == 0.75
    con.close()


def test_without_operations_file_only_pattern_organisers_and_targets_count(tmp_path):
    con, root = _store_and_truth(tmp_path, with_operations=False)
    res = evaluate(con, root, run_id="r")
    assert all(not m["organisers"] for m in res["networks"]["compounds"].values())
    assert res["accounts"]["precision"] == 0.75  # the organiser's alert is not a pattern target
    con.close()
