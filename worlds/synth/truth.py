"""Truth labels: planted patterns, their accounts and transactions, planted bad rows, legitimate look-alikes,
and the README table of a generated world."""

from __future__ import annotations

import csv
from pathlib import Path

from transforms.ids import txn_id_from_key
from worlds.synth.model import Pattern
from worlds.synth.world import COMPOUNDS

BAD_REASONS = {
    "bad_amount": "debit: not a number",
    "bad_currency": "currency: not an ISO 4217 code nor a currency in the rates table",
    "future_date": "booked_at: in the future",
    "extra_field": "record: wrong number of fields",
    "both_sides": "debit/credit: both columns hold an amount",
    "unconfirmed": "status: transfer failed or unconfirmed on chain",
}


class Truth:
    def __init__(self, root: Path):
        self.dir = root / "truth"
        self.dir.mkdir(parents=True, exist_ok=True)
        self._fh = {}
        self._w = {}
        for name, header in (
            ("patterns", ["pattern_id", "typology", "compound_id", "difficulty"]),
            ("pattern_accounts", ["pattern_id", "account_id", "role"]),
            ("pattern_transactions", ["pattern_id", "txn_id", "source_txn_id", "file"]),
            ("planted_bad_rows", ["file", "row_no", "defect", "expected_reason"]),
            ("compound_facts", ["pattern_id", "compound_id", "account_id", "fact", "detail"]),
            ("operation_transactions", ["compound_id", "flow", "txn_id", "source_txn_id", "file"]),
        ):
            fh = open(self.dir / f"{name}.csv", "w", encoding="utf-8", newline="")
            self._fh[name] = fh
            self._w[name] = csv.writer(fh, lineterminator="\n")
            self._w[name].writerow(header)
        self.patterns: list[tuple[str, str, str, str]] = []
        self.accounts: list[tuple[str, str, str]] = []
        self.notes: dict[str, str] = {}
        self.ops = []
        self.n_txn_rows = 0
        self.bad: list[tuple[str, int, str]] = []

    def op(self, op) -> None:
        self.ops.append(op)

    def pattern(self, p: Pattern) -> None:
        row = (p.pattern_id, p.typology, p.compound_id, p.difficulty)
        self.patterns.append(row)
        self._w["patterns"].writerow(row)
        for acct, role in p.accounts:
            self.accounts.append((p.pattern_id, acct.acct_id, role))
            self._w["pattern_accounts"].writerow((p.pattern_id, acct.acct_id, role))
        if p.note:
            self.notes[p.pattern_id] = p.note

    def fact(self, pattern_id: str, compound_id: str, account_id: str, kind: str, detail: str) -> None:
        """A planted fact that ties a pattern's account to its compound (kinds as the compound links name them)."""
        self._w["compound_facts"].writerow((pattern_id, compound_id, account_id, kind, detail))

    def txn(self, tx, key: str, source_txn_id: str, rel: str) -> None:
        tid = txn_id_from_key(key)
        if tx.op_flow:
            compound, flow = tx.op_flow.split(":", 1)
            self._w["operation_transactions"].writerow((compound, flow, tid, source_txn_id, rel))
        for pid in tx.pids:
            self.n_txn_rows += 1
            self._w["pattern_transactions"].writerow((pid, tid, source_txn_id, rel))

    def bad_row(self, rel: str, row_no: int, defect: str) -> None:
        self.bad.append((rel, row_no, defect))
        self._w["planted_bad_rows"].writerow((rel, row_no, defect, BAD_REASONS[defect]))

    def lookalikes(self, items) -> None:
        with open(self.dir / "lookalikes.csv", "w", encoding="utf-8", newline="") as fh:
            w = csv.writer(fh, lineterminator="\n")
            w.writerow(["account_id", "typology", "description", "comes_to", "rule_default"])
            for x in items:
                w.writerow([x.account_id, x.typology, x.description, x.measured, x.threshold])

    def operations(self) -> None:
        """operations.csv: the cast of every operation, whether or not a pattern names them (the organiser of an
        operation without a cycle pattern is still its organiser)."""
        with open(self.dir / "operations.csv", "w", encoding="utf-8", newline="") as fh:
            w = csv.writer(fh, lineterminator="\n")
            w.writerow(["compound_id", "operation", "role", "account_id", "party_id", "name"])
            for o in sorted(self.ops, key=lambda o: o.k):
                cast = (("organiser", o.organiser), ("legal_person", o.shell), ("legal_person", o.casino),
                        ("consolidator", o.consolidator), ("otc_desk", o.otc_bank), ("otc_desk", o.otc_wallet),
                        ("listed_wallet", o.wallet_listed), ("listed_wallet", o.wallet_eth_listed),
                        ("unlisted_wallet", o.wallet_hidden), ("unlisted_wallet", o.wallet_eth))
                for role, a in cast:
                    w.writerow([o.compound.compound_id, o.k, role, a.acct_id, a.holder.party_id if a.holder else "",
                                a.latin_name])

    def close(self) -> None:
        self.operations()
        for fh in self._fh.values():
            fh.close()

    def registry(self) -> dict:
        """compounds.yml: what an investigator already knows (a TRON and an ETH wallet, one account, the companies
        per operation)."""
        out = []
        for c in COMPOUNDS:
            ops = [o for o in self.ops if o.compound.compound_id == c.compound_id]
            out.append({
                "id": c.compound_id, "name": c.name, "aliases": list(c.aliases), "country": c.country,
                "lat": c.lat, "lon": c.lon, "radius_km": c.radius_km, "ip_cidrs": [c.cidr],
                "phone_prefixes": list(c.phone_prefixes),
                "wallets": [w.acct_id for o in ops for w in (o.wallet_listed, o.wallet_eth_listed)],
                "accounts": [o.shell.acct_id for o in ops],
                "companies": [n for o in ops for n in o.companies[:2]],
                "sources": [c.source], "confidence": c.confidence,
            })
        return {"compounds": out}


def readme(root: Path, title: str, summary: dict, truth: Truth, lookalikes, seed: int, scale,
           statements: bool = False) -> str:
    by_typ: dict[str, int] = {}
    for _, typ, _, _ in truth.patterns:
        by_typ[typ] = by_typ.get(typ, 0) + 1
    lines = [
        f"# {title}",
        "",
        f"Generated by `worlds.synth.generate_world(out, seed={seed}, scale={scale!r})` (`scamtrace synth`). "
        "Everything here is synthetic: people, companies, banks (BIC-like codes of no real bank), addresses and "
        "coordinates are invented; IPs are documentation or carrier-grade NAT ranges. The sanctioned wallets are real "
        "OFAC SDN entries (Funnull Technology, Grinex), used as exposure endpoints. Regenerate with the same seed and "
        "scale: the bytes are identical.",
        "",
        "Ingest: `scamtrace ingest <this folder>` (the `*.mapping.yml` files beside the bank extracts claim them; "
        "`truth/` and `*.md` are skipped).",
        "",
        "## Contents",
        "",
        "| what | count |",
        "|---|---|",
    ]
    for k in ("transactions", "extract_rows", "parties", "accounts", "events", "fx_rates", "patterns",
              "pattern_transactions", "planted_bad_rows"):
        if k in summary:
            lines.append(f"| {k} | {summary[k]:,} |")
    lines += ["", "Files:", ""]
    for rel, n in sorted(summary.get("file_rows", {}).items()):
        lines.append(f"- `{rel}`: {n:,} rows")
    lines += ["", "## Planted patterns per typology", "", "| typology | patterns |", "|---|---|"]
    for typ, n in sorted(by_typ.items()):
        lines.append(f"| {typ} | {n} |")
    lines += ["", "## Which accounts embody which typology and compound", "",
              "Roles: victim, mule, consolidator, off_ramp, organiser, legal_person, compound_wallet, pass_through, "
              "layer. Account ids are as the store names them. Full lists: `truth/pattern_accounts.csv`; "
              "transactions: `truth/pattern_transactions.csv` (store `txn_id`, the extract's id and file).", "",
              "| pattern | typology | compound | difficulty | accounts (role) |", "|---|---|---|---|---|"]
    accts: dict[str, list[str]] = {}
    for pid, aid, role in truth.accounts:
        accts.setdefault(pid, []).append(f"`{aid}` ({role})")
    for pid, typ, comp, diff in truth.patterns:
        a = accts.get(pid, [])
        shown = ", ".join(a[:8]) + (f", ... ({len(a)} in all)" if len(a) > 8 else "")
        note = f" *{truth.notes[pid]}*" if pid in truth.notes else ""
        lines.append(f"| {pid} | {typ}{note} | {comp} | {diff} | {shown} |")
    lines += ["", "## Operations (compound casts)", "", "| compound | organiser | legal persons | consolidator | "
              "OTC desk | listed wallets (in compounds.yml) | unlisted wallets |", "|---|---|---|---|---|---|---|"]
    for o in truth.ops:
        lines.append(f"| {o.compound.compound_id} | `{o.organiser.acct_id}` ({o.organiser.latin_name}) | "
                     f"`{o.shell.acct_id}` ({o.companies[0]}), `{o.casino.acct_id}` ({o.companies[1]}) | "
                     f"`{o.consolidator.acct_id}` | `{o.otc_bank.acct_id}`, `{o.otc_wallet.acct_id}` | "
                     f"`{o.wallet_listed.acct_id}`, `{o.wallet_eth_listed.acct_id}` | `{o.wallet_hidden.acct_id}`, "
                     f"`{o.wallet_eth.acct_id}` |")
    lines += ["", "The legal persons are registered at the organiser's address with the organiser's phone "
              "(parties.csv), which is how they link to the people behind them. `truth/operations.csv` lists each "
              "operation's cast; `truth/compound_facts.csv` lists, per pattern account, the planted facts that tie it "
              "to its compound (opening or login IP in the compound's CIDR, position, phone prefix, registry entry, "
              "payments into a listed wallet, the operation's OTC desk). An unlisted wallet that starts an exposure "
              "chain also sweeps into the listed wallet of its chain, directly or through a relay address.", "",
              "## Rows planted as bad (each must be quarantined with this reason)", "",
              "| file | row | defect | expected reason |", "|---|---|---|---|"]
    for rel, row, defect in truth.bad:
        lines.append(f"| `{rel}` | {row} | {defect} | {BAD_REASONS[defect]} |")
    lines += ["", "Nothing else is quarantined when the folder is ingested; `truth/planted_bad_rows.csv` lists the same rows.",
              "", "## Legitimate look-alikes", "",
              "Background actors whose behaviour comes close to (or past) a typology's default threshold "
              "(DESIGN.md section 4) without being scams. They are not in the truth labels; an alert on them is a "
              "false positive.", "", "| account | typology | what it is | comes to | rule default |", "|---|---|---|---|---|"]
    for x in lookalikes:
        lines.append(f"| `{x.account_id}` | {x.typology} | {x.description} | {x.measured} | {x.threshold} |")
    lines += ["", "## Conventions that vary between extracts", "",
              "- Thai bank: cp874, separate date and time columns (dd/mm/yyyy), withdrawal/deposit columns, "
              "thousands separators, names in Thai script.",
              "- Cambodian bank: UTF-8 with BOM, `;`, decimal comma and `.` thousands, USD and KHR accounts, minutes only.",
              "- Philippine bank: UTF-16, tab-separated, mm/dd/yyyy, unsigned amount with a DR/CR column.",
              "- Malaysian bank: date-only timestamps, signed amounts, end-to-end ids and UETRs.",
              *(["- Myanmar bank: SWIFT MT940, one statement per account and day, date-only bookings, counterparty in "
                 "`:86:` `/CNTP/` (cash entries have no counterparty).",
                 "- Singapore bank: ISO 20022 camt.053.001.08 with booking date-times, balances, end-to-end ids and "
                 "UETRs (a transfer between the Singapore and Malaysian banks appears in both extracts and is loaded "
                 "once)."] if statements else
                ["- Myanmar bank: `;`, debit/credit columns with 0.00 in the empty one, Asia/Yangon (+06:30).",
                 "- Singapore bank: ISO timestamps, value date, end-to-end ids and UETRs (a transfer between the "
                 "Singapore and Malaysian banks appears in both extracts and is loaded once)."]),
              "- Lao bank: GB18030, tab-separated, Chinese headers, date-only, 借/贷 direction markers, CNY and LAK.",
              "- Tronscan TRC-20 and Etherscan ERC-20 exports, one file per investigated address.",
              "- Some planted patterns (difficulty hard) use amounts drawn from the everyday range.", ""]
    return "\n".join(lines)
