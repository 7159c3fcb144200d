"""A small literal store for the export tests: two countries, a TRON USDT transfer, hostile names.

Built from the real DDL (transforms.store, rules.tables, rules.alert_tables) so the tests follow the
column contract, not the casework builder's progress.
"""

from __future__ import annotations

import shutil
from datetime import datetime, timezone
from decimal import Decimal
from pathlib import Path

import pytest

from rules import alert_tables
from rules import tables as rule_tables
from tests.helpers import reference_dir
from tests.world import insert_row
from transforms import store

ROOT = Path(__file__).resolve().parents[2]
REFERENCE_GOAML = reference_dir("goaml")  # ../shared/reference/goaml, or the copy in tests/fixtures

RUN = "run-0001"
F_TH, F_KH, F_TRON, F_KYC = ("a" * 64, "b" * 64, "c" * 64, "d" * 64)
USDT_CONTRACT = "TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t"
W_KH = "tron:TKHconsolWallet111111111111111111"
W_OTC = "tron:TOtcDeskWallet22222222222222222222"
HOSTILE = '=HYPERLINK("http://evil","x") <script>alert(1)</script>'


def ts(day: int, hour: int = 10) -> datetime:
    return datetime(2024, 3, day, hour, 0, tzinfo=timezone.utc)


insert = insert_row  # tests/world.py: the tests' one row writer


def txn(con, txn_id, day, frm, to, amount, currency, usd, *, channel="transfer", fc="TH", tc="TH", fi="KASITHBK",
        ti="KASITHBK", fname=None, tname=None, reference=None, file_id=F_TH, row_no=1, rail="bank", **extra):
    insert(con, "transactions", txn_id=txn_id, source_txn_id=f"SRC-{txn_id}", rail=rail, booked_at=ts(day),
           from_account_id=frm, to_account_id=to, amount=Decimal(amount), currency=currency,
           amount_usd=Decimal(usd), channel=channel, reference=reference, from_name=fname, to_name=tname,
           from_institution=fi, to_institution=ti, from_country=fc, to_country=tc,
           source="delimited:test" if rail == "bank" else "tronscan_trc20", file_id=file_id, row_no=row_no, **extra)


def build_store(path: Path) -> Path:
    con = store.connect(path)
    rule_tables.ensure_tables(con)
    alert_tables.ensure_tables(con)
    for fid, p, src, tgt in (
        (F_TH, "/landing/kbank_th_2024-03.csv", "delimited:kbank_th", "transactions"),
        (F_KH, "/landing/aba_kh_2024-03.csv", "delimited:aba_kh", "transactions"),
        (F_TRON, "/landing/tronscan_TKH.csv", "tronscan_trc20", "transactions"),
        (F_KYC, "/landing/kyc.csv", "kyc", "parties"),
    ):
        insert(con, "ingested_files", file_id=fid, path=p, source=src, target_table=tgt, rows_read=5, rows_loaded=5,
               rows_quarantined=0, rows_duplicate=0, run_id="ingest-1", ingested_at=ts(5))
    # parties and accounts
    insert(con, "parties", party_id="P-MULE", party_type="person", name="Somchai Jaidee", birth_date=datetime(1990, 5, 1).date(),
           nationality="TH", id_number="1100200300400", phone="+66812345678", email="somchai@example.com",
           address="12 Sukhumvit Rd", country="TH", source="kyc", file_id=F_KYC, row_no=1)
    insert(con, "parties", party_id="P-LEGAL", party_type="legal", name=HOSTILE, registration_no="KH-0099",
           phone="+85512345678", address="Sihanoukville", country="KH", source="kyc", file_id=F_KYC, row_no=2)
    insert(con, "parties", party_id="P-BOSS", party_type="person", name="王 伟", nationality="CN", country="KH",
           source="kyc", file_id=F_KYC, row_no=3)
    for acc, inst, holder, cc, kind, rail in (
        ("KASITHBK:111", "KASITHBK", "P-VIC", "TH", "customer", "bank"),
        ("KASITHBK:222", "KASITHBK", "P-VIC2", "TH", "customer", "bank"),
        ("KASITHBK:333", "KASITHBK", "P-MULE", "TH", "customer", "bank"),
        ("ABAAKHPP:444", "ABAAKHPP", "P-LEGAL", "KH", "merchant", "bank"),
        (W_KH, "HuionePay", "P-LEGAL", "KH", "vasp_deposit", "crypto"),
        (W_OTC, "OTC-Desk-1", None, "KH", "otc_desk", "crypto"),
    ):
        insert(con, "accounts", account_id=acc, rail=rail, institution=inst, holder_id=holder, country=cc, kind=kind,
               opened_at=ts(1), source="kyc", file_id=F_KYC, row_no=4)
    insert(con, "events", event_id="E1", party_id="P-LEGAL", account_id=W_KH, occurred_at=ts(3, 9), kind="login",
           ip="103.2.3.4", device_id="dev-1", source="events", file_id=F_KYC, row_no=9)
    insert(con, "compounds", compound_id="KKPARK", name="KK Park", aliases=["KK"], country="MM", lat=16.6, lon=98.5,
           radius_km=3.0, ip_cidrs=["103.2.3.0/24"], sources=["UNODC 2024"], confidence=0.9, source="compounds",
           file_id=F_KYC, row_no=1)
    insert(con, "fx_rates", rate_date=datetime(2024, 3, 1).date(), currency="THB", usd_per_unit=Decimal("0.028"),
           source="fx", file_id=F_KYC, row_no=1)
    # transactions: victims -> mule (TH), mule -> legal person's account (KH), KH -> TRON wallet -> OTC desk
    txn(con, "T1", 1, "KASITHBK:111", "KASITHBK:333", "50000", "THB", "1400", fname="Victim One", tname="Somchai Jaidee", row_no=1)
    txn(con, "T2", 1, "KASITHBK:222", "KASITHBK:333", "30000", "THB", "840", fname="Victim Two", tname="Somchai Jaidee",
        reference="=cmd|' /C calc'!A0", row_no=2)
    txn(con, "T3", 2, "KASITHBK:333", "ABAAKHPP:444", "2200", "USD", "2200", channel="wire", tc="KH", ti="ABAAKHPP",
        fname="Somchai Jaidee", tname=HOSTILE, row_no=3)
    txn(con, "T4", 2, "ABAAKHPP:444", W_KH, "2150", "USD", "2150", channel="ewallet", fc="KH", tc="KH", fi="ABAAKHPP",
        ti="HuionePay", fname=HOSTILE, file_id=F_KH, row_no=1)
    txn(con, "T5", 3, W_KH, W_OTC, "2140.123456789012345678", "USDT", "2140.12", channel="onchain", fc="KH", tc="KH",
        fi="HuionePay", ti="OTC-Desk-1", rail="crypto", file_id=F_TRON, row_no=7, chain="tron",
        tx_hash="9f" * 32, block_number=61234567, token_contract=USDT_CONTRACT)
    # rules output
    for rule_id, ver in (("fan_in_24h", "1.0.0"), ("off_ramp", "1.2.0")):
        insert(con, "rule_runs", run_id=RUN, rule_id=rule_id, rule_version=ver, param_hash="h" + rule_id[:6],
               parameters={"min_senders": 2}, status="ok", note="", candidates=3, hits=1, seconds=0.01,
               since=ts(1, 0), until=ts(10, 0))
    insert(con, "alerts", alert_id="AL-mule", subject_type="account", subject_id="KASITHBK:333",
           subject_name="Somchai Jaidee", typology_id="mule_fan_in", typology_version="1", typologies=["mule_fan_in"],
           rule_ids=["fan_in_24h"], rule_scores={"fan_in_24h": 1.0}, reasons=["2 senders in 24 h"], status="new",
           is_current=True, score=1.0, threshold=0.8, priority="high", priority_score=0.9, total_usd=Decimal("4440"),
           n_transactions=3, first_activity_at=ts(1), last_activity_at=ts(2), evidence_hash="e1",
           member_ids=["KASITHBK:111", "KASITHBK:222"], country="TH", institution="KASITHBK", network_id="NW-1",
           compound_ids=[], run_id=RUN, first_run_id=RUN, created_at=ts(5), updated_at=ts(5))
    insert(con, "alerts", alert_id="AL-../../etc/passwd", subject_type="account", subject_id="ABAAKHPP:444",
           subject_name=HOSTILE, typology_id="off_ramp", typology_version="1", typologies=["off_ramp"],
           rule_ids=["off_ramp"], rule_scores={"off_ramp": 0.8}, reasons=["98 % to VASPs in 72 h"], status="updated",
           is_current=True, score=0.8, threshold=0.7, priority="medium", priority_score=0.6, total_usd=Decimal("4350"),
           n_transactions=2, first_activity_at=ts(2), last_activity_at=ts(3), evidence_hash="e2",
           member_ids=[W_KH, W_OTC], country="KH", institution="ABAAKHPP", network_id="NW-1",
           compound_ids=["KKPARK"], run_id=RUN, first_run_id=RUN, created_at=ts(4), updated_at=ts(5))
    # An alert without evidence transactions (shared identifiers only): goAML gets an activity report.
    insert(con, "alerts", alert_id="AL-shared", subject_type="party", subject_id="P-BOSS", subject_name="王 伟",
           typology_id="shared_identifiers", typology_version="1", typologies=["shared_identifiers"],
           rule_ids=["shared_kyc_contact"], rule_scores={"shared_kyc_contact": 0.5}, reasons=["phone shared by 3 parties"],
           status="unchanged", is_current=True, score=0.5, threshold=0.5, priority="low", priority_score=0.3,
           total_usd=Decimal("0"), n_transactions=0, evidence_hash="e0", member_ids=[], country="CN",
           compound_ids=[], run_id=RUN, first_run_id=RUN, created_at=ts(5), updated_at=ts(5))
    for alert_id, txn_id, role, direction, cp, usd, day in (
        ("AL-mule", "T1", "inbound_to_mule", "in", "KASITHBK:111", "1400", 1),
        ("AL-mule", "T2", "inbound_to_mule", "in", "KASITHBK:222", "840", 1),
        ("AL-mule", "T3", "outbound_layer", "out", "ABAAKHPP:444", "2200", 2),
        ("AL-../../etc/passwd", "T4", "off_ramp_transfer", "out", W_KH, "2150", 2),
        ("AL-../../etc/passwd", "T5", "intermediary_hop", "other", W_OTC, "2140.12", 3),
    ):
        insert(con, "alert_evidence", alert_id=alert_id, txn_id=txn_id, role=role, direction=direction,
               counterparty_id=cp, amount_usd=Decimal(usd), booked_at=ts(day), rule_ids=["fan_in_24h"])
    insert(con, "networks", network_id="NW-1", status="new", is_current=True, core_hash="c1",
           alert_ids=["AL-../../etc/passwd", "AL-mule"], n_alerts=2, n_accounts=6, n_parties=2, score=0.9,
           priority="high", total_usd=Decimal("8730.12"), first_activity_at=ts(1), last_activity_at=ts(3),
           top_member_type="party", top_member_id="P-BOSS", typologies=["mule_fan_in", "off_ramp"],
           link_kinds=["flow"], jurisdictions=["TH", "KH", "../x"], institutions=["KASITHBK", "ABAAKHPP"],
           vasps=["HuionePay", "OTC-Desk-1"], compound_ids=["KKPARK"], legal_persons=["P-LEGAL"], run_id=RUN,
           first_run_id=RUN, created_at=ts(5), updated_at=ts(5))
    members = (
        ("party", "P-BOSS", "王 伟", "organiser", 1, None, "KH", None, "person"),
        ("party", "P-LEGAL", HOSTILE, "legal_person", 2, None, "KH", None, "legal"),
        ("account", "ABAAKHPP:444", HOSTILE, "consolidator", 3, "ABAAKHPP", "KH", "merchant", "legal"),
        ("account", W_KH, HOSTILE, "compound_linked", 4, "HuionePay", "KH", "vasp_deposit", "legal"),
        ("account", W_OTC, "OTC desk", "off_ramp", 5, "OTC-Desk-1", "KH", "otc_desk", None),
        ("account", "KASITHBK:333", "Somchai Jaidee", "mule", 6, "KASITHBK", "TH", "customer", "person"),
        ("party", "P-MULE", "Somchai Jaidee", "account_holder", 7, None, "TH", None, "person"),
        ("account", "KASITHBK:111", "Victim One", "victim", 8, "KASITHBK", "TH", "customer", "person"),
        ("account", "KASITHBK:222", "Victim Two", "victim", 9, "KASITHBK", "TH", "customer", "person"),
    )
    for mtype, mid, name, role, rank, inst, cc, kind, ptype in members:
        insert(con, "network_members", network_id="NW-1", member_type=mtype, member_id=mid, name=name, role=role,
               roles=[role], rank=rank, rank_score=1.0 / rank, centrality=0.1, is_alerted=mid in ("KASITHBK:333", "ABAAKHPP:444"),
               alert_ids=[], in_usd=Decimal("100"), out_usd=Decimal("90"), holder_id=None, account_ids=None,
               party_type=ptype, kind=kind, institution=inst, country=cc, compound_ids=[])
    for src, dst, usd, n, day, kind, st, dt in (
        ("KASITHBK:111", "KASITHBK:333", "1400", 1, 1, "flow", "account", "account"),
        ("KASITHBK:222", "KASITHBK:333", "840", 1, 1, "flow", "account", "account"),
        ("KASITHBK:333", "ABAAKHPP:444", "2200", 1, 2, "flow", "account", "account"),
        ("ABAAKHPP:444", W_KH, "2150", 1, 2, "flow", "account", "account"),
        (W_KH, W_OTC, "2140.12", 1, 3, "flow", "account", "account"),
        ("P-LEGAL", "ABAAKHPP:444", None, None, 1, "holder", "party", "account"),
        ("P-MULE", "KASITHBK:333", None, None, 1, "holder", "party", "account"),
        ("P-BOSS", "P-LEGAL", None, None, 1, "phone", "party", "party"),
    ):
        insert(con, "network_edges", network_id="NW-1", src_type=st, src_id=src, dst_type=dt, dst_id=dst, kind=kind,
               usd=None if usd is None else Decimal(usd), n_txns=n, first_at=ts(day), last_at=ts(day),
               evidence="T" if kind == "flow" else "+85512345678")
    insert(con, "compound_links", link_id="CL-1", compound_id="KKPARK", subject_type="account", subject_id=W_KH,
           link_kind="ip_cidr", evidence={"event_id": "E1", "ip": "103.2.3.4", "cidr": "103.2.3.0/24"},
           evidence_text="Login from 103.2.3.4 inside KK Park range 103.2.3.0/24 <b>bold</b>", confidence=0.72,
           first_seen_at=ts(3, 9), last_seen_at=ts(3, 9), n_facts=1, status="new", is_current=True, run_id=RUN)
    con.close()
    return path


@pytest.fixture(scope="session")
def store_path(tmp_path_factory) -> Path:
    return build_store(tmp_path_factory.mktemp("store") / "s.duckdb")


@pytest.fixture
def store_copy(tmp_path, store_path) -> Path:
    dst = tmp_path / "s.duckdb"
    shutil.copy(store_path, dst)
    return dst


@pytest.fixture(scope="session")
def exported(tmp_path_factory, store_path) -> tuple[Path, dict]:
    """One full export of the literal store, shared by the read-only checks."""
    from exports import export

    out = tmp_path_factory.mktemp("export") / "out"
    con = store.connect(store_path, read_only=True)
    try:
        result = export(con, out)
    finally:
        con.close()
    return out, result
