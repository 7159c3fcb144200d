"""Synthetic scam-economy world with truth labels (`scamtrace synth`; docs/synth.md).

generate_world(out_dir, seed=7, scale="sample", fmt="extracts") writes
  bank/<bank>_<yyyy-mm>.<ext> + bank/<bank>.mapping.yml   delimited statement extracts, one layout per bank
  crypto/TRON-tokenTransfer-<address>--<stamp>.csv        Tronscan TRC-20 exports, one per investigated address
  crypto/export-tokentx-<address>.csv                     Etherscan ERC-20 exports
  kyc/parties.csv, kyc/accounts.csv, events/events.csv, reference/fx_rates.csv, reference/compounds.yml,
  reference/watchlist.ftm.json (worlds/synth/watchlist.py)
  truth/*.csv, README.md
fmt="parquet" writes the canonical transactions table directly (parquet/transactions/month=.../part-N.parquet)
instead of the bank and explorer extracts.

Generation runs day by day and streams every row to disk: memory holds the population and the planted patterns
still in flight, never the transactions. Same seed and knobs, same bytes.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path

import numpy as np

from worlds.synth.actors import World
from worlds.synth.background import Background, usdt
from transforms.errors import InputError
from worlds.synth.config import PRESETS, TYPOLOGIES, KnobError, Knobs, resolve
from worlds.synth.model import Tx
from worlds.synth.scams import Scams
from worlds.synth.truth import Truth, readme
from worlds.synth.world import BANK_BY_COUNTRY, BANKS
from worlds.synth import watchlist
from worlds.synth import writers as W

__all__ = ["generate_world", "PRESETS", "TYPOLOGIES", "Knobs", "resolve"]


class Engine:
    def __init__(self, out: Path, seed: int, knobs: Knobs, fmt: str):
        self.out = out
        self.seed = seed
        self.knobs = knobs
        self.fmt = fmt
        self.files = W.Files(out)
        self.kyc = W.KycWriter(self.files)
        self.truth = Truth(out)
        self.world = World(knobs, seed, self)
        end = datetime.fromtimestamp(self.world.t0 + knobs.days * 86400, timezone.utc)
        span = f"{knobs.start_date:%Y%m%d}-{(end.date()):%Y%m%d}"
        self.banks = {b.code: W.BankWriter(self.files, b, knobs.monthly_files, span) for b in BANKS}
        self.statement_banks = {}
        if knobs.statement_formats and fmt == "extracts" and statement_readers():
            # one bank speaks ISO 20022 camt.053, one SWIFT MT940 (when those readers are installed)
            self.statement_banks = {"LNGTSGSG": W.Camt053Writer(self.files, BANK_BY_COUNTRY["SG"], span),
                                    "IRWDMMMY": W.Mt940Writer(self.files, BANK_BY_COUNTRY["MM"], span)}
            self.banks.update(self.statement_banks)
        self.explorer = W.ExplorerWriter(self.files, end.strftime("%Y%m%d%H%M%S"))
        self.parquet = W.ParquetSink(out) if fmt == "parquet" else None
        self.native = {b.code: 0 for b in BANKS}
        self.n_tx = 0
        self.n_rows = 0
        self._months: dict[int, str] = {}

    # sink interface used by World while it opens accounts
    def party(self, p):
        self.kyc.party(p)

    def account(self, a):
        self.kyc.account(a)

    def event(self, *args):
        self.kyc.event(*args)

    # ------------------------------------------------------------------ run

    def run(self) -> dict:
        w = self.world
        w.build()
        bg = Background(w)
        scams = Scams(w, self.truth, self.knobs)
        bad = self.planted_bad(w) if self.knobs.bad_rows and self.fmt == "extracts" else {}
        for d in range(self.knobs.days):
            txs = bg.day(d) + scams.day(d) + bad.get(d, [])
            txs.sort(key=lambda t: t.ts)  # stable: ties keep generation order
            for tx in txs:
                self.emit(tx)
            if self.statement_banks:
                day_str = (self.knobs.start_date + timedelta(days=d)).isoformat()
                for sw in self.statement_banks.values():
                    sw.end_day(day_str)
            self.logins(d)
        if self.parquet:
            self.parquet.flush()
        self.files.close()
        if self.fmt == "extracts":
            W.write_mappings(self.out, [b for b in BANKS if b.code not in self.statement_banks])
        n_fx = W.write_fx(self.out, w.fx)
        W.write_yaml(self.out / "reference" / "compounds.yml", self.truth.registry(),
                     "# Suspected scam compounds (synthetic registry; docs/layouts.md). Lists only what is 'known':\n"
                     "# a TRON and an ETH wallet, the shell company's account and the company names of each operation.\n")
        self.truth.lookalikes(w.lookalikes)
        self.truth.close()
        n_listed = watchlist.write(self.out, self.truth.ops)
        by_typ: dict[str, int] = {}
        for _, typ, _, _ in self.truth.patterns:
            by_typ[typ] = by_typ.get(typ, 0) + 1
        file_rows = dict(sorted(self.files.rows.items()))
        summary = {
            "seed": self.seed, "format": self.fmt, "days": self.knobs.days, "customers": self.knobs.customers,
            "transactions": self.n_tx, "extract_rows": self.n_rows, "parties": self.kyc.n_parties,
            "accounts": self.kyc.n_accounts, "events": self.kyc.n_events, "fx_rates": n_fx, "watchlist_entities": n_listed,
            "patterns": len(self.truth.patterns), "patterns_by_typology": by_typ,
            "pattern_transactions": self.truth.n_txn_rows, "planted_bad_rows": len(self.truth.bad),
            "file_rows": file_rows,
        }
        text = readme(self.out, "Synthetic scam-economy world", summary, self.truth, w.lookalikes, self.seed,
                      self.knobs_label, statements=bool(self.statement_banks))
        (self.out / "README.md").write_text(text, encoding="utf-8")
        files = sorted(p for p in self.out.rglob("*") if p.is_file())
        summary["files"] = len(files)
        summary["bytes"] = sum(p.stat().st_size for p in files)
        return summary

    knobs_label = "sample"

    # ------------------------------------------------------------------ one transfer

    def emit(self, tx: Tx) -> None:
        self.n_tx += 1
        src, dst = tx.src, tx.dst
        if src is not None and src.rail == "crypto":
            h = self.world.mint.tx_hash(src.chain)
            if self.parquet:
                self.parquet_crypto(tx, h)
                return
            rel, row, sid, key = self.explorer.write(tx, h, 1.0)
            self.n_rows += 1
            if tx.bad:
                self.truth.bad_row(rel, row, tx.bad)
            elif tx.pids or tx.op_flow:
                self.truth.txn(tx, key, sid, rel)
            return
        sb = src.bank if src is not None else None
        db = dst.bank if dst is not None else None
        if sb is not None and db is not None and sb.e2e and db.e2e:
            if sb.country != db.country:
                tx.uetr = self.world.mint.uetr()
                tx.channel = "wire"
            else:
                tx.e2e = self.world.mint.e2e(sb.code)
        day = (tx.ts - self.world.t0) // 86400
        if self.parquet:
            self.parquet_bank(tx, sb, db, day)
            return
        if sb is not None:
            rel, row, sid, key = self.banks[sb.code].entry(tx, src, dst, True, tx.amount)
            self.n_rows += 1
            if tx.bad:
                self.truth.bad_row(rel, row, tx.bad)
            elif tx.pids or tx.op_flow:
                self.truth.txn(tx, key, sid, rel)
        if db is not None and (sb is None or (sb.e2e and db.e2e)):
            amount = tx.amount if src is None else self.world.fx.convert(tx.amount, src.currency, dst.currency, day,
                                                                         dst.decimals)
            rel, row, sid, key = self.banks[db.code].entry(tx, dst, src, False, amount)
            self.n_rows += 1
            if tx.pids or tx.op_flow:
                self.truth.txn(tx, key, sid, rel)

    def month(self, ts: int) -> str:
        day = ts // 86400
        hit = self._months.get(day)
        if hit is None:
            hit = datetime.fromtimestamp(day * 86400, timezone.utc).strftime("%Y-%m")
            self._months[day] = hit
        return hit

    def parquet_bank(self, tx: Tx, sb, db, day: int) -> None:
        from transforms.ids import txn_id_from_key

        src, dst = tx.src, tx.dst
        side = sb or db
        if side is None:
            return
        self.native[side.code] += 1
        native = f"{side.native_prefix}{self.native[side.code]:010d}"
        if side.uetr and tx.uetr:
            key = "uetr|" + tx.uetr
        elif side.e2e and tx.e2e:
            key = "e2e|" + tx.e2e
        else:
            key = f"id|{side.code}|{native}"
        cur_acct = src if sb is not None else dst
        amount = tx.amount
        usd_cents = int(round(amount / 10_000 * self.world.fx.rate(cur_acct.currency, day)))
        month = self.month(tx.ts)
        tid = txn_id_from_key(key)
        rel = self.parquet.add(month, (
            tid, native, "bank", tx.ts, src.acct_id if src else "cash", dst.acct_id if dst else "cash", amount,
            cur_acct.currency, usd_cents, tx.channel, tx.ref, src.institution if src else None,
            dst.institution if dst else None, src.country if src else None, dst.country if dst else None,
            tx.e2e or None, tx.uetr or None, None, None, None, None))
        self.n_rows += 1
        if tx.pids or tx.op_flow:
            self.truth.txn(tx, key, native, rel)

    def parquet_crypto(self, tx: Tx, h: str) -> None:
        from transforms.ids import txn_id_from_key

        chain = tx.src.chain
        value = W.canonical(tx.amount)
        contract = W.USDT_TRON if chain == "tron" else W.USDT_ETH
        key = f"tx|{chain}|{h}|{tx.src.acct_id}|{tx.dst.acct_id}|{contract}|{value}"
        month = self.month(tx.ts)
        rel = self.parquet.add(month, (
            txn_id_from_key(key), h, "crypto", tx.ts, tx.src.acct_id, tx.dst.acct_id, tx.amount, "USDT",
            int(round(tx.amount / 10_000 * self.world.fx.rate("USDT", (tx.ts - self.world.t0) // 86400))), "onchain", "",
            None, None, None, None, None, None, chain, h, None, contract))
        self.n_rows += 1
        if tx.pids or tx.op_flow:
            self.truth.txn(tx, key, h, rel)

    # ------------------------------------------------------------------ events and planted rows

    def logins(self, d: int) -> None:
        w = self.world
        rng = np.random.default_rng([self.seed, 300, d])
        n = int(rng.poisson(len(w.customers) * self.knobs.logins_per_customer_day))
        idx = rng.integers(0, len(w.customers), n)
        sec = rng.integers(6 * 3600, 23 * 3600, n)
        for i in range(n):
            a = w.customers[idx[i]]
            w.sink.event(w.t0 + d * 86400 + int(sec[i]) - a.bank.tz_offset, "login", a, a.holder, w.cgnat_ip(a.country),
                         w.device_of(a.holder), a.holder.phone, None)

    def planted_bad(self, w: World) -> dict[int, list[Tx]]:
        """A few malformed rows the readers must quarantine (documented in the README and truth/planted_bad_rows.csv)."""
        out: dict[int, list[Tx]] = {}

        def first(country: str):
            return w.customers[w.by_country[country][0]] if w.by_country[country] else None

        def add(day: int, tx: Tx):
            if day < self.knobs.days:
                out.setdefault(day, []).append(tx)

        t = lambda day, h, acct: w.t0 + day * 86400 + h * 3600 - acct.bank.tz_offset  # noqa: E731
        th, kh, my, ph, mm = (first(c) for c in ("TH", "KH", "MY", "PH", "MM"))
        if th:
            add(10, Tx(t(10, 13, th), th, w.merchants["TH"][0], w.fx.usd_to(25, th.currency, 10, 2), "card", "POS", bad="bad_amount"))
        if kh:
            add(20, Tx(t(20, 9, kh), kh, None, w.fx.usd_to(100, kh.currency, 20, kh.decimals), "cash_withdrawal", "ATM",
                       bad="bad_currency"))
        if my:
            add(30, Tx(t(30, 11, my), my, None, w.fx.usd_to(60, my.currency, 30, 2), "cash_withdrawal", "ATM", bad="future_date"))
        if ph:
            add(40, Tx(t(40, 15, ph), ph, w.merchants["PH"][0], w.fx.usd_to(12, ph.currency, 40, 2), "card", "POS",
                       bad="extra_field"))
        if mm and self.statement_banks:
            mm = th  # the Myanmar bank writes MT940: plant the debit-and-credit row in the Thai extract instead
        if mm:
            add(50, Tx(t(50, 10, mm), mm, None, w.fx.usd_to(40, mm.currency, 50, 0), "cash_withdrawal", "ATM",
                       bad="both_sides"))
        for j, day in enumerate((15, 45, 75)):
            if w.traders:
                acct, wallet, ex = w.traders[j % len(w.traders)]
                add(day, Tx(w.t0 + day * 86400 + 5000, wallet, ex.hot_tron, usdt(150 + 50 * j), "onchain",
                            confirmed=False, bad="unconfirmed", subject=ex.hot_tron.number))
        return out


def generate_world(out_dir: Path, *, seed: int = 7, scale: str | dict = "sample", fmt: str = "extracts") -> dict:
    """Write a synthetic world to out_dir and return a summary of counts. Same seed and scale, same bytes."""
    if fmt not in ("extracts", "parquet"):
        raise KnobError("--format must be 'extracts' or 'parquet'")
    knobs = resolve(scale)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    leftovers = [p for p in out.rglob("*") if p.is_file()]
    if leftovers:
        raise InputError("folder is not empty; generate into a new or empty folder", path=out)
    eng = Engine(out, int(seed), knobs, fmt)
    eng.knobs_label = scale if isinstance(scale, str) else dict(sorted(scale.items()))
    return eng.run()


def statement_readers() -> bool:
    """camt.053 and MT940 readers are present in this installation."""
    from transforms.sources.registry import all_readers

    names = {r.name for r in all_readers()}
    return {"camt053", "mt940"} <= names

