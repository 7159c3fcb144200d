"""A small hand-made scam network in a real DuckDB store, and literal rule outputs (rule_hits, typology_scores).

    victims V01..V15 --400 USD each--> mules M1 (V01-V05, V06 also pays M2), M2 (V06-V10), M3 (V11-V15)
    M1, M2, M3 --> consolidator C (held by the organiser Chen Wei, KH)
    C --> L  (Golden Shell Trading Co., Ltd.: legal person; shares the organiser's phone)
    C --> O_BANK (OTC desk, bank)   O_W (same OTC desk, TRON wallet) --> W_KK (KK Park registry wallet)
    L --> YX ("Yatai International Holding Group": a KK Park front company named in the registry)
    L2 (held by "CHEN, Wei" from a second bank: same id number and birth date) --> OFAC-listed TRON address
    events: M1 opened from 203.0.113.10 (inside KK Park's CIDR), M2 logs in by GPS 1 km from KK Park,
            M3's holder has a +9597712 phone (KK Park prefix)
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path

from rules import alert_tables, tables
from rules.casework import build
from tests.world import insert_row
from transforms.store import connect

T0 = datetime(2024, 3, 1, tzinfo=timezone.utc)
W_KK = "tron:TKkParkCompoundWa11etABCDEFGHJKLMN"
OFAC = "tron:TofacListedAddressABCDEFGHJKLMNPQR"


def at(hours: float) -> datetime:
    return T0 + timedelta(hours=hours)


class Case:
    def __init__(self, tmp_path: Path):
        self.con = connect(tmp_path / "store.duckdb")
        tables.ensure_tables(self.con)
        alert_tables.ensure_tables(self.con)
        self.txns: dict[str, tuple] = {}
        self.n = 0

    # ---------------------------------------------------------------- canonical rows
    def party(self, pid, name, *, ptype="person", country="TH", phone=None, email=None, id_number=None, birth=None):
        insert_row(self.con, "parties", party_id=pid, party_type=ptype, name=name, birth_date=birth,
                   id_number=id_number, phone=phone, email=email, country=country)

    def account(self, aid, holder, *, kind="customer", rail="bank", institution="BANKTH", country="TH", label=None):
        insert_row(self.con, "accounts", account_id=aid, rail=rail, institution=institution, holder_id=holder,
                   opened_at=at(-24 * 30), country=country, kind=kind, label=label)

    def txn(self, frm, to, usd, hours, *, rail="bank", channel="transfer", to_name=None, tid=None) -> str:
        self.n += 1
        tid = tid or f"T{self.n:03d}"
        insert_row(self.con, "transactions", txn_id=tid, source_txn_id=tid, rail=rail, booked_at=at(hours),
                   from_account_id=frm, to_account_id=to, amount=Decimal(str(usd)), currency="USD",
                   amount_usd=Decimal(str(usd)), channel=channel, to_name=to_name, row_no=self.n)
        self.txns[tid] = (frm, to, usd, hours)
        return tid

    def event(self, account_id, hours, *, kind="login", ip=None, device=None, phone=None, lat=None, lon=None):
        self.n += 1
        insert_row(self.con, "events", event_id=f"E{self.n:03d}", account_id=account_id, occurred_at=at(hours),
                   kind=kind, ip=ip, device_id=device, phone=phone, lat=lat, lon=lon)
        return f"E{self.n:03d}"

    def compound(self, cid, name, *, cidrs=(), lat=None, lon=None, radius=None, prefixes=(), wallets=(), companies=(),
                 aliases=(), confidence=0.85):
        insert_row(self.con, "compounds", compound_id=cid, name=name, aliases=list(aliases), country="MM", lat=lat,
                   lon=lon, radius_km=radius, ip_cidrs=list(cidrs), phone_prefixes=list(prefixes), wallets=list(wallets),
                   accounts=[], companies=list(companies), sources=["test"], confidence=confidence)

    # ---------------------------------------------------------------- rule outputs
    def alert(self, run_id, typology, subject, txn_ids, *, score=0.8, threshold=0.7, rule="r_" + "x", members=()):
        times = [at(self.txns[t][3]) for t in txn_ids]
        self.con.execute(
            "INSERT INTO rule_hits VALUES (?, ?, '1.0.0', 'h', ?, 'account', ?, 1, 1, ?, 'reason', ?, ?, ?, ?, '{}')",
            [run_id, rule, typology, subject, score, list(txn_ids), list(members), min(times), max(times)],
        )
        self.con.execute(
            "INSERT INTO typology_scores VALUES (?, ?, '1.0.0', 'account', ?, ?, ?, ?, ?, ['reason'], ?, ?, ?, ?, 'c')",
            [run_id, typology, subject, score, threshold, score >= threshold, json.dumps({rule: score}),
             sorted(txn_ids), sorted(members), min(times), max(times)],
        )

    def build(self, run_id: str) -> dict:
        return build(self.con, run_id)

    def rows(self, sql, params=None):
        return self.con.execute(sql, params or []).fetchall()


def make_world(case: Case) -> dict:
    c = case
    c.compound("kk_park", "KK Park", cidrs=["203.0.113.0/25"], lat=16.6152, lon=98.5261, radius=3.0,
               prefixes=["+9597712"], wallets=[W_KK.split(":", 1)[1]], companies=["Yatai International Holding Group"],
               aliases=["KK Garden"])
    c.con.execute("INSERT INTO listed_addresses VALUES (?, 'ofac_sdn', NULL, 'sdn.csv', 1.0)", [OFAC])
    for i in range(1, 16):
        c.party(f"PV{i:02d}", f"Victim Number{i}")
        c.account(f"V{i:02d}", f"PV{i:02d}")
    c.party("PM1", "Aung Kyaw", country="MM")
    c.party("PM2", "Somchai Jaidee")
    c.party("PM3", "Min Thu", phone="+959771234567", country="MM")
    for m in ("M1", "M2", "M3"):
        c.account(m, "P" + m)
    c.party("ORG", "Chen Wei", country="CN", phone="+8613800000000", id_number="G1234567", birth="1980-05-05")
    c.party("ORG_B2", "CHEN, Wei", country="CN", id_number="G-1234567", birth="1980-05-05")
    c.account("C", "ORG", institution="BANKKH", country="KH")
    c.account("L2", "ORG_B2", institution="BANKSG", country="SG")
    c.party("LP", "Golden Shell Trading Co., Ltd.", ptype="legal", country="KH", phone="+8613800000000")
    c.account("L", "LP", institution="BANKKH", country="KH", kind="merchant")
    c.party("OTC", "Phnom Penh Gold OTC Co., Ltd.", ptype="legal", country="KH")
    c.account("O_BANK", "OTC", kind="otc_desk", institution="BANKKH", country="KH", label="Phnom Penh Gold OTC")
    c.account("O_W", "OTC", kind="otc_desk", rail="crypto", institution="tron", country=None, label="Phnom Penh Gold OTC")
    c.account("YX", None, institution="BANKHK", country="HK")

    ev = {"M1": [], "M2": [], "M3": []}
    for i in range(1, 6):
        ev["M1"].append(c.txn(f"V{i:02d}", "M1", 400, i))
    for i in range(6, 11):
        ev["M2"].append(c.txn(f"V{i:02d}", "M2", 400, i))
    ev["M1"].append(c.txn("V06", "M1", 400, 6.5))  # V06 pays two mules
    for i in range(11, 16):
        ev["M3"].append(c.txn(f"V{i:02d}", "M3", 400, i))
    out = {"M1": c.txn("M1", "C", 2350, 20), "M2": c.txn("M2", "C", 1950, 21), "M3": c.txn("M3", "C", 1950, 22)}
    c_to_l = c.txn("C", "L", 1000, 25)
    c_to_otc = c.txn("C", "O_BANK", 5000, 26)
    otc_to_kk = c.txn("O_W", W_KK, 5000, 30, rail="crypto", channel="onchain")
    l_to_yx = c.txn("L", "YX", 900, 40, to_name="YATAI INTERNATIONAL HOLDING GROUP LTD")
    l2_to_ofac = c.txn("L2", OFAC, 100, 50, rail="crypto", channel="onchain")
    c.event("M1", -24 * 30, kind="account_opening", ip="203.0.113.10", device="dev-m1")
    c.event("M2", 2, kind="login", ip="100.64.1.1", lat=16.62, lon=98.53)  # carrier NAT IP: never a shared identifier
    c.event("M3", 3, kind="login", ip="100.64.1.1")
    return {"in": ev, "out": out, "c_to_l": c_to_l, "c_to_otc": c_to_otc, "otc_to_kk": otc_to_kk, "l_to_yx": l_to_yx,
            "l2_to_ofac": l2_to_ofac}


def raise_alerts(case: Case, run_id: str, w: dict, *, m1_score: float = 0.8) -> None:
    for m in ("M1", "M2", "M3"):
        case.alert(run_id, "mule_fan_in", m, w["in"][m], score=m1_score if m == "M1" else 0.8, rule="fan_in_24h",
                   members=[case.txns[t][0] for t in w["in"][m]])
        case.alert(run_id, "pass_through", m, w["in"][m] + [w["out"][m]], score=0.8, rule="pass_through")
    into_c = list(w["out"].values())
    case.alert(run_id, "off_ramp", "C", into_c + [w["c_to_otc"]], score=0.9, threshold=0.9, rule="off_ramp",
               members=["O_BANK"])
    case.alert(run_id, "pass_through", "C", into_c + [w["c_to_otc"], w["c_to_l"]], score=0.8, rule="pass_through")


