"""The synthetic world: deterministic bytes, truth labels that match what the readers load, clean ingest."""

from __future__ import annotations

import csv
import hashlib
from pathlib import Path

import duckdb
import pyarrow.parquet as pq
import pytest

from transforms.ingest import ingest_paths
from worlds.synth import TYPOLOGIES, generate_world, resolve

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT / "data" / "samples"
ROLES = {"victim", "mule", "consolidator", "off_ramp", "organiser", "legal_person", "compound_wallet", "pass_through", "layer",
         "recruiter", "trafficked_worker", "broker"}
TINY = {"preset": "tiny"}


def digests(root: Path) -> dict[str, str]:
    return {
        p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def read_csv(path: Path) -> list[dict]:
    with open(path, encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


@pytest.fixture(scope="module")
def tiny(tmp_path_factory) -> tuple[Path, dict]:
    out = tmp_path_factory.mktemp("world") / "w"
    return out, generate_world(out, seed=11, scale=TINY)


@pytest.fixture(scope="module")
def tiny_store(tiny, tmp_path_factory):
    out, _ = tiny
    db = tmp_path_factory.mktemp("db") / "s.duckdb"
    reports = ingest_paths(db, [out])
    return db, reports


def test_same_seed_same_bytes(tiny, tmp_path):
    out, summary = tiny
    again = tmp_path / "again"
    assert generate_world(again, seed=11, scale=TINY) == summary
    assert digests(out) == digests(again)


def test_other_seed_other_world(tiny, tmp_path):
    out, _ = tiny
    other = tmp_path / "other"
    generate_world(other, seed=12, scale=TINY)
    assert digests(out)["kyc/parties.csv"] != digests(other)["kyc/parties.csv"]


def test_truth_labels_are_well_formed(tiny):
    out, summary = tiny
    patterns = read_csv(out / "truth" / "patterns.csv")
    assert {p["typology"] for p in patterns} == set(TYPOLOGIES)
    assert all(p["compound_id"] for p in patterns)
    ids = {p["pattern_id"] for p in patterns}
    accounts = read_csv(out / "truth" / "pattern_accounts.csv")
    assert {a["role"] for a in accounts} <= ROLES
    assert {a["pattern_id"] for a in accounts} == ids
    txns = read_csv(out / "truth" / "pattern_transactions.csv")
    assert {t["pattern_id"] for t in txns} == ids
    assert all((out / t["file"]).is_file() for t in txns)
    assert summary["patterns"] == len(patterns)


def test_every_operation_has_a_cast_and_its_patterns_carry_linking_facts(tiny):
    """operations.csv names each operation's organiser; every exposure chain's first wallet is tied to its compound
    by a planted fact (registry entry or payments into the listed wallet), as compound_facts.csv says."""
    out, _ = tiny
    patterns = {p["pattern_id"]: p for p in read_csv(out / "truth" / "patterns.csv")}
    ops = read_csv(out / "truth" / "operations.csv")
    compounds = {p["compound_id"] for p in patterns.values()}
    assert {o["compound_id"] for o in ops if o["role"] == "organiser"} == compounds
    organisers = [o for o in ops if o["role"] == "organiser"]
    assert all(o["party_id"] and o["account_id"] for o in organisers)
    facts: dict[tuple[str, str], set[str]] = {}
    for f in read_csv(out / "truth" / "compound_facts.csv"):
        assert f["compound_id"] == patterns[f["pattern_id"]]["compound_id"] and f["detail"]
        facts.setdefault((f["pattern_id"], f["account_id"]), set()).add(f["fact"])
    accounts = read_csv(out / "truth" / "pattern_accounts.csv")
    starts = [a for a in accounts if patterns[a["pattern_id"]]["typology"] == "exposure" and a["role"] == "compound_wallet"]
    assert starts
    for a in starts:
        assert facts.get((a["pattern_id"], a["account_id"]), set()) & {"registry_account", "wallet_hops"}, a
    # the organisers receive the operation's takings (truth/operation_transactions.csv)
    flows = read_csv(out / "truth" / "operation_transactions.csv")
    assert flows and {f["compound_id"] for f in flows} <= compounds


def test_exposure_start_wallets_pay_into_the_listed_wallet_within_two_hops(tiny):
    """An unlisted start wallet reaches a registry wallet of its compound in <= 2 transfers of the extracts."""
    import yaml

    out, _ = tiny
    registry = {c["id"]: set(c["wallets"]) for c in yaml.safe_load((out / "reference" / "compounds.yml").read_text())["compounds"]}
    patterns = {p["pattern_id"]: p for p in read_csv(out / "truth" / "patterns.csv")}
    edges: dict[str, set[str]] = {}
    for f in sorted((out / "crypto").glob("*.csv")):
        for row in read_csv(f):
            if "from" in row:
                edges.setdefault("tron:" + row["from"], set()).add("tron:" + row["to"])
            else:
                edges.setdefault("ethereum:" + row["From"].lower(), set()).add("ethereum:" + row["To"].lower())
    for a in read_csv(out / "truth" / "pattern_accounts.csv"):
        p = patterns[a["pattern_id"]]
        if p["typology"] != "exposure" or a["role"] != "compound_wallet":
            continue
        listed = registry[p["compound_id"]]
        one = edges.get(a["account_id"], set())
        two = set().union(*(edges.get(x, set()) for x in one)) if one else set()
        assert a["account_id"] in listed or (one | two) & listed, a


def quarantine_matches_planted(world: Path, db: Path, reports) -> None:
    """Every file loads and reconciles; exactly the planted bad rows are quarantined, each with its reason."""
    for r in reports:
        assert r.status == "loaded", (r.path, r.message)
        assert r.reconciles, r.as_dict()
    con = duckdb.connect(str(db), read_only=True)
    try:
        got = {}
        for path, row_no, reasons in con.execute("SELECT path, row_no, reasons FROM quarantine").fetchall():
            got[(Path(path).relative_to(world).as_posix(), row_no)] = " | ".join(reasons)
        planted = {(b["file"], int(b["row_no"])): b["expected_reason"] for b in read_csv(world / "truth" / "planted_bad_rows.csv")}
        assert set(got) == set(planted)
        for k, reason in planted.items():
            assert reason in got[k], (k, got[k])
        # every truth transaction is in the store, under the id the truth file gives
        con.execute(f"CREATE TEMP TABLE pt AS SELECT * FROM read_csv('{world / 'truth' / 'pattern_transactions.csv'}', all_varchar=true)")
        missing = con.execute("SELECT count(*) FROM pt WHERE txn_id NOT IN (SELECT txn_id FROM transactions)").fetchall()[0][0]
        assert missing == 0
        # the stored source_txn_id is one of the extract ids the truth gives (a transfer both sides export
        # is loaded once, from whichever row comes first)
        mismatched = con.execute(
            """SELECT count(*) FROM transactions t WHERE t.txn_id IN (SELECT txn_id FROM pt)
               AND t.source_txn_id NOT IN (SELECT source_txn_id FROM pt WHERE pt.txn_id = t.txn_id)"""
        ).fetchall()[0][0]
        assert mismatched == 0
        ops_file = world / "truth" / "operation_transactions.csv"
        if ops_file.exists():  # the operations' own flows are loaded under the ids the truth gives
            con.execute(f"CREATE TEMP TABLE ot AS SELECT * FROM read_csv('{ops_file}', all_varchar=true)")
            assert con.execute("SELECT count(*) FROM ot WHERE txn_id NOT IN (SELECT txn_id FROM transactions)").fetchall() == [(0,)]
        # every labelled account takes part in the stored flows
        con.execute(f"CREATE TEMP TABLE pa AS SELECT * FROM read_csv('{world / 'truth' / 'pattern_accounts.csv'}', all_varchar=true)")
        orphan = con.execute(
            """SELECT count(*) FROM pa WHERE account_id NOT IN
               (SELECT from_account_id FROM transactions UNION SELECT to_account_id FROM transactions)"""
        ).fetchall()[0][0]
        assert orphan == 0
    finally:
        con.close()


@pytest.mark.slow
def test_world_ingests_with_truth_in_store(tiny, tiny_store):
    out, summary = tiny
    db, reports = tiny_store
    quarantine_matches_planted(out, db, reports)
    assert sum(r.rows_read for r in reports if r.table == "transactions") == summary["extract_rows"]


@pytest.mark.slow
def test_bundled_samples_ingest_cleanly(samples_ingested):
    assert (SAMPLES / "README.md").is_file()
    db, reports = samples_ingested  # the session's ingest of data/samples (tests/conftest.py)
    quarantine_matches_planted(SAMPLES, db, reports)


def test_bundled_samples_are_current(tmp_path):
    """data/samples is what the generator writes today (regenerate it when the generator changes)."""
    fresh = tmp_path / "samples"
    generate_world(fresh, seed=7, scale="sample")
    assert digests(fresh) == {k: v for k, v in digests(SAMPLES).items()}


def test_parquet_output_holds_truth(tmp_path):
    out = tmp_path / "pq"
    summary = generate_world(out, seed=11, scale=TINY, fmt="parquet")
    assert not (out / "bank").exists()
    parts = sorted((out / "parquet" / "transactions").rglob("*.parquet"))
    assert parts
    ids = set()
    n = 0
    for p in parts:
        t = pq.read_table(p, columns=["txn_id", "amount", "booked_at"])
        ids.update(t.column("txn_id").to_pylist())
        n += t.num_rows
    assert n == summary["transactions"] and len(ids) == n
    truth = read_csv(out / "truth" / "pattern_transactions.csv")
    assert truth and all(t["txn_id"] in ids for t in truth)


def test_knobs():
    k = resolve({"preset": "tiny", "difficulty": "hard", "prevalence": {"cycle": 3}})
    assert k.instances("cycle") == 3 and k.difficulty == "hard"
    with pytest.raises(ValueError):
        resolve({"custmers": 5})
    with pytest.raises(ValueError):
        resolve("huge")
    with pytest.raises(ValueError):
        resolve({"prevalence": {"smurfing": 1}})


@pytest.mark.parametrize("difficulty", ["easy", "hard"])
def test_difficulties_plant_every_typology(tmp_path, difficulty):
    out = tmp_path / difficulty
    summary = generate_world(out, seed=5, scale={"preset": "tiny", "difficulty": difficulty, "monthly_files": True})
    assert set(summary["patterns_by_typology"]) == set(TYPOLOGIES)
    assert {p["difficulty"] for p in read_csv(out / "truth" / "patterns.csv")} == {difficulty}


def test_the_generator_plants_every_typology_of_the_rules():
    # the typology ids come from rules/typologies; each needs a planter (a method of Scams named by its id)
    from rules.spec import load_typologies
    from worlds.synth.scams import Scams

    assert set(TYPOLOGIES) == set(load_typologies()), sorted(set(load_typologies()) - set(TYPOLOGIES))
    assert all(callable(getattr(Scams, t)) for t in TYPOLOGIES)
