"""Fast synthetic world of canonical transactions for the national-scale benchmark (bench/run.py).

    python -m worlds.canonical --rows 10000000 --out bench/cache/world_10000000

worlds/synth writes realistic bank extracts at ~20k tx/s; this writes canonical-transaction Parquet (the
layout of transforms/sources/canonical_parquet.py) at ~130k tx/s per core with numpy and pyarrow, one month per
worker process (--workers, default: one per core), in chunks, so that 100M rows fit in a few GB of memory. What it
writes under OUT:

  transactions/month=YYYY-MM/part-00000.parquet  one file per month, 365 days of history, rows sorted by time
  daily/day=YYYY-MM-DD.parquet                     (--daily N) one extra day after the history: the incremental batch
  kyc/accounts.csv                                 a sample of the accounts (KYC), every planted account, every merchant
  events/events.csv                                logins from each account's own devices (a few devices shared)
  reference/fx_rates.csv                           THB and USDT to USD, every day
  truth.json                                       the planted accounts, history and day (truth/<month>.json per month)
  world.json                                       the arguments and counts; a world is reused only by the same ones

The shape: accounts ~ rows / 25, sending activity per account log-normally skewed, 83 % USD bank transfers /
card / wire / cash, 12 % THB, 5 % USDT on TRON.

Who pays whom (--background, default regular): as in AMLworld, where each agent trades with a set of its own, every
account has a book of 1-8 regular payees and sends to one of them (92 % of its payments) or, once in a while, to
anyone. About 1.5 % of bank accounts are merchants: they are the popular payees (a log-normal share of the
customers' books) and KYC lists each of them with kind `merchant`, as a bank knows its business customers.
`--background uniform` draws every payee at random by activity weight, the world of the earlier benchmark runs:
there, busy accounts receive from many strangers a day, which the fan-in and gather-scatter rules rightly flag,
so that the world raises about 1.5 alerts per 1,000 rows on its background alone.

Planted so that the rules have work (per million rows): ~40 fan-in mules (12-20 senders within hours, then ~95 %
passed on within a day), ~40 structuring accounts (4-6 cash deposits of USD 9,000-9,990 within 5 days), ~20
scatter-gather hubs; all on non-merchant accounts, listed in truth.json (history and daily). The same --rows,
--seed and --background give the same files.
"""

from __future__ import annotations

import argparse
import binascii
import json
import multiprocessing
import os
import shutil
import time
from concurrent.futures import ProcessPoolExecutor
from datetime import datetime, timedelta, timezone
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

START = datetime(2025, 11, 15, tzinfo=timezone.utc)  # 365 days of history, ending two weeks before "now"
DAYS = 365
CHUNK = 1_000_000
SCHEMA = pa.schema(
    [
        ("txn_id", pa.string()),
        ("rail", pa.string()),
        ("booked_at", pa.timestamp("us", tz="UTC")),
        ("from_account_id", pa.string()),
        ("to_account_id", pa.string()),
        ("amount", pa.decimal128(38, 2)),
        ("currency", pa.string()),
        ("channel", pa.string()),
        ("reference", pa.string()),
        ("from_institution", pa.string()),
        ("to_institution", pa.string()),
        ("from_country", pa.string()),
        ("to_country", pa.string()),
        ("chain", pa.string()),
    ]
)
BANKS = np.array(["BKA", "BKB", "BKC", "BKD", "BKE", "BKF", "BKG", "BKH"])
REFS = np.array(["", "rent", "food", "invoice", "salary", "transfer", "gift", "loan", "school fees", "shop"])
FX_THB = 0.0285
FX_USDT = 1.0
GENERATOR = 2  # bump when the same arguments would write a different world (cached worlds are then rewritten)
MERCHANT_SHARE = 0.015  # of bank accounts (regular background)
MERCHANT_SLOT = 0.5  # chance that a slot of a payee book is a merchant
ONE_OFF = 0.08  # payments to someone outside the payer's book
PLANTS = ("fan_in", "structuring", "scatter_gather")  # the planted patterns, the keys of truth.json's lists


class Accounts:
    """The account population: ids, institutions, log-normal sending weights (heavy-tailed degree) and, for the
    regular background, each account's book of regular payees."""

    def __init__(self, n_rows: int, seed: int, hubs: bool = False, background: str = "regular"):
        rng = np.random.default_rng([seed, 1])
        self.n_bank = max(20_000, n_rows // 25)
        self.n_crypto = max(2_000, n_rows // 250)
        bank_inst = rng.integers(0, len(BANKS), self.n_bank)
        self.bank_inst = BANKS[bank_inst]
        self.bank_ids = np.char.add(np.char.add(self.bank_inst, ":"), np.char.zfill(np.arange(self.n_bank).astype(str), 9))
        w = rng.lognormal(0.0, 1.2, self.n_bank)
        if hubs:  # merchants, utilities: thousands of payers a year each (--hubs: the stress case of the report)
            w[rng.random(self.n_bank) < 0.001] *= 200
        self.bank_cdf = np.cumsum(w) / w.sum()
        self.crypto_ids = np.char.add("tron:T", np.char.zfill(np.arange(self.n_crypto).astype(str), 33))
        wc = rng.lognormal(0.0, 1.5, self.n_crypto)
        self.crypto_cdf = np.cumsum(wc) / wc.sum()
        self.regular = background == "regular"
        self.merchant = rng.random(self.n_bank) < MERCHANT_SHARE if self.regular else np.zeros(self.n_bank, bool)
        self.person_idx = np.flatnonzero(~self.merchant)  # plants and one-off payees are never merchants
        if self.regular:
            merchants = np.flatnonzero(self.merchant)
            pop = rng.lognormal(0.0, 1.5, len(merchants))  # a few merchants are in most customers' books
            self.bank_book = _payee_book(rng, self.n_bank, merchants, np.cumsum(pop) / pop.sum(), self.person_idx)
            self.crypto_book = _payee_book(rng, self.n_crypto, np.empty(0, np.int64), np.ones(0), np.arange(self.n_crypto))

    def bank(self, rng, n: int) -> np.ndarray:
        return np.minimum(np.searchsorted(self.bank_cdf, rng.random(n)), self.n_bank - 1)

    def crypto(self, rng, n: int) -> np.ndarray:
        return np.minimum(np.searchsorted(self.crypto_cdf, rng.random(n)), self.n_crypto - 1)

    def person(self, rng, n: int) -> np.ndarray:
        """n accounts drawn uniformly among non-merchants (every account in the uniform world)."""
        return self.person_idx[rng.integers(0, len(self.person_idx), n)]

    def payee(self, rng, book: tuple[np.ndarray, ...], src: np.ndarray, anyone: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """For each sender, one of its regular payees and about the usual amount for that payee (rent, a salary, a
        shop's prices vary little); or (share ONE_OFF) one of `anyone` and any amount. Never itself."""
        payees, usual, sizes = book
        slot = (rng.random(len(src)) * sizes[src]).astype(np.int64)
        dst = payees[src, slot]
        amount = usual[src, slot] * rng.lognormal(0.0, 0.2, len(src))
        once = rng.random(len(src)) < ONE_OFF
        k = int(once.sum())
        dst[once] = anyone[rng.integers(0, len(anyone), k)]
        amount[once] = rng.lognormal(4.6, 1.3, k)
        return dst, np.round(amount, 2)


def _payee_book(rng, n: int, merchants: np.ndarray, merchant_cdf: np.ndarray, others: np.ndarray) -> tuple[np.ndarray, ...]:
    """Each of n accounts gets 1-8 regular payees: a merchant (by popularity) with probability MERCHANT_SLOT, else
    one of `others` uniformly (family, landlord, staff, suppliers), each with its usual amount.
    Returns (payees[n, 8], usual_amount[n, 8], sizes[n])."""
    slots = 8
    sizes = 1 + rng.binomial(slots - 1, 0.4, n)
    book = others[rng.integers(0, len(others), (n, slots))]
    if len(merchants):
        shop = rng.random((n, slots)) < MERCHANT_SLOT
        pick = np.minimum(np.searchsorted(merchant_cdf, rng.random(int(shop.sum()))), len(merchants) - 1)
        book[shop] = merchants[pick]
    own = book == np.arange(n)[:, None]
    book[own] = (book[own] + 1) % n  # not itself (the neighbour may be a merchant or a person: either is fine)
    usual = rng.lognormal(4.6, 1.3, (n, slots)).astype(np.float32)
    return book.astype(np.int64), usual, sizes


def hex_ids(rng, n: int, prefix: str) -> pa.Array:
    """n random 32-hex-digit ids (like the loader's hashed ids), built without a Python loop."""
    raw = rng.integers(0, 256, n * 16, dtype=np.uint8).tobytes()
    text = np.frombuffer(binascii.hexlify(raw), dtype="S32")
    return pa.array(np.char.add(prefix.encode(), text)).cast(pa.string())


def _frame(rng, acc: Accounts, n: int, t0: float, t1: float) -> dict[str, np.ndarray]:
    """n background transactions with times uniform in [t0, t1) (epoch seconds)."""
    kind = rng.random(n)
    crypto = kind < 0.05
    thb = (kind >= 0.05) & (kind < 0.17)
    src = acc.bank(rng, n)
    if acc.regular:
        dst, usual = acc.payee(rng, acc.bank_book, src, acc.person_idx)
    else:
        dst = acc.bank(rng, n)
    same = src == dst
    dst[same] = (dst[same] + 1) % acc.n_bank
    from_id = acc.bank_ids[src].astype(object)
    to_id = acc.bank_ids[dst].astype(object)
    from_inst = acc.bank_inst[src].astype(object)
    to_inst = acc.bank_inst[dst].astype(object)
    ch_draw = rng.random(n)
    channel = np.where(ch_draw < 0.60, "transfer", np.where(ch_draw < 0.80, "card", np.where(ch_draw < 0.85, "wire",
              np.where(ch_draw < 0.92, "cash_deposit", "cash_withdrawal")))).astype(object)
    dep = channel == "cash_deposit"
    wd = channel == "cash_withdrawal"
    from_id[dep] = "cash"
    from_inst[dep] = None
    to_id[wd] = "cash"
    to_inst[wd] = None
    amount = usual if acc.regular else np.round(rng.lognormal(4.6, 1.3, n), 2)
    currency = np.where(thb, "THB", "USD").astype(object)
    amount[thb] = np.round(amount[thb] / FX_THB, 0)
    # crypto slice: USDT on TRON between addresses
    nc = int(crypto.sum())
    if nc:
        cs = acc.crypto(rng, nc)
        if acc.regular:
            cd, amount[crypto] = acc.payee(rng, acc.crypto_book, cs, np.arange(acc.n_crypto))
        else:
            cd = acc.crypto(rng, nc)
        cd[cs == cd] = (cd[cs == cd] + 1) % acc.n_crypto
        from_id[crypto] = acc.crypto_ids[cs]
        to_id[crypto] = acc.crypto_ids[cd]
        from_inst[crypto] = None
        to_inst[crypto] = None
        channel[crypto] = "onchain"
        currency[crypto] = "USDT"
    secs = rng.uniform(t0, t1, n)
    return {
        "booked_at": secs,
        "from": from_id,
        "to": to_id,
        "from_inst": from_inst,
        "to_inst": to_inst,
        "amount": amount,
        "currency": currency,
        "channel": channel,
        "crypto": crypto,
        "reference": REFS[rng.integers(0, len(REFS), n)].astype(object),
    }


def _plants(rng, acc: Accounts, n_rows: int, t0: float, t1: float) -> tuple[dict[str, np.ndarray], dict]:
    """Planted laundering patterns in [t0, t1): fan-in + pass-through mules, structuring, scatter-gather."""
    per = max(1, round(n_rows / 1_000_000 * 40))
    parts: list[dict] = []
    truth: dict = {k: [] for k in PLANTS}

    def add(src, dst, amount, secs, channel):
        k = len(secs)
        parts.append({"from": np.asarray(src, object), "to": np.asarray(dst, object), "amount": np.round(np.asarray(amount, float), 2),
                      "booked_at": np.asarray(secs, float), "channel": np.full(k, channel, object)})

    span = max(t1 - t0 - 3 * 86400, 0.3 * (t1 - t0))
    for _ in range(per):  # fan-in mule, then passed on
        mule = acc.bank_ids[acc.person(rng, 1)[0]]
        k = int(rng.integers(12, 21))
        senders = acc.bank_ids[acc.person(rng, k)]
        start = t0 + rng.uniform(0, span)
        amts = rng.uniform(300, 1500, k)
        add(senders, [mule] * k, amts, start + np.sort(rng.uniform(0, 6 * 3600, k)), "transfer")
        outs = acc.bank_ids[acc.person(rng, 2)]
        total = amts.sum() * 0.95
        add([mule, mule], outs, [total * 0.6, total * 0.4], start + 7 * 3600 + rng.uniform(0, 12 * 3600, 2), "transfer")
        truth["fan_in"].append(str(mule))
    for _ in range(per):  # structuring: cash deposits just under USD 10,000
        acct = acc.bank_ids[acc.person(rng, 1)[0]]
        k = int(rng.integers(4, 7))
        start = t0 + rng.uniform(0, span)
        add(["cash"] * k, [acct] * k, rng.uniform(9000, 9990, k), start + np.sort(rng.uniform(0, 5 * 86400, k)), "cash_deposit")
        truth["structuring"].append(str(acct))
    for _ in range(max(1, per // 2)):  # scatter-gather: one source, 8 intermediaries, one collector
        a, c = acc.bank_ids[acc.person(rng, 2)]
        mids = acc.bank_ids[acc.person(rng, 8)]
        start = t0 + rng.uniform(0, span)
        amts = rng.uniform(2000, 4000, 8)
        add([a] * 8, mids, amts, start + rng.uniform(0, 3600, 8), "transfer")
        add(mids, [c] * 8, amts * 0.97, start + 4 * 3600 + rng.uniform(0, 3600 * 20, 8), "transfer")
        truth["scatter_gather"].append(str(c))
    out = {k: np.concatenate([p[k] for p in parts]) for k in parts[0]}
    n = len(out["booked_at"])
    inst = lambda ids: np.array([None if x == "cash" else x.split(":")[0] for x in ids], object)  # noqa: E731
    out.update(from_inst=inst(out["from"]), to_inst=inst(out["to"]), currency=np.full(n, "USD", object),
               crypto=np.zeros(n, bool), reference=np.full(n, "", object))
    return out, truth


def _table(rng, cols: dict[str, np.ndarray]) -> pa.Table:
    order = np.argsort(cols["booked_at"], kind="stable")
    n = len(order)
    c = {k: v[order] for k, v in cols.items()}
    micros = (c["booked_at"] * 1e6).astype(np.int64)
    crypto = c["crypto"]
    country = lambda ids: np.where(crypto, None, np.where(ids == "cash", None, "TH")).astype(object)  # noqa: E731
    amount = pa.array(c["amount"], pa.float64()).cast(pa.decimal128(38, 2), safe=False)
    return pa.table(
        {
            "txn_id": hex_ids(rng, n, "b"),
            "rail": pa.array(np.where(crypto, "crypto", "bank").astype(object), pa.string()),
            "booked_at": pa.array(micros, pa.int64()).cast(pa.timestamp("us", tz="UTC")),
            "from_account_id": pa.array(c["from"], pa.string()),
            "to_account_id": pa.array(c["to"], pa.string()),
            "amount": amount,
            "currency": pa.array(c["currency"], pa.string()),
            "channel": pa.array(c["channel"], pa.string()),
            "reference": pa.array(c["reference"], pa.string()),
            "from_institution": pa.array(c["from_inst"], pa.string()),
            "to_institution": pa.array(c["to_inst"], pa.string()),
            "from_country": pa.array(country(c["from"]), pa.string()),
            "to_country": pa.array(country(c["to"]), pa.string()),
            "chain": pa.array(np.where(crypto, "tron", None).astype(object), pa.string()),
        },
        schema=SCHEMA,
    )


def _write_span(path: Path, rng, acc: Accounts, n: int, t0: float, t1: float, truth: dict) -> None:
    """n background rows (plus plants) in [t0, t1), written in time order in chunks of CHUNK rows."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    pieces = max(1, -(-n // CHUNK))
    with pq.ParquetWriter(tmp, SCHEMA, compression="zstd") as w:
        for i in range(pieces):
            a = t0 + (t1 - t0) * i / pieces
            b = t0 + (t1 - t0) * (i + 1) / pieces
            m = n // pieces + (1 if i < n % pieces else 0)
            cols = _frame(rng, acc, m, a, b)
            plants, t = _plants(rng, acc, m, a, b)
            for k in truth:
                truth[k] += t[k]
            cols = {k: np.concatenate([cols[k], plants[k]]) for k in cols}
            w.write_table(_table(rng, cols), row_group_size=256_000)
    tmp.rename(path)  # last: a month whose file exists is complete


_ACC: Accounts | None = None


def _init_worker(rows: int, seed: int, hubs: bool, background: str) -> None:
    global _ACC
    _ACC = Accounts(rows, seed, hubs, background)


def _month(job: tuple) -> None:
    """Write one month's file and its plants (truth/<month>.json), in this process or a worker."""
    path, truth_path, seed_key, n, a, b = job
    truth: dict = {k: [] for k in PLANTS}
    _write_span(path, np.random.default_rng(seed_key), _ACC, n, a, b, truth)
    truth_path.parent.mkdir(parents=True, exist_ok=True)
    truth_path.write_text(json.dumps(truth))


def generate(rows: int, out: Path, seed: int = 1, daily: int = 0, hubs: bool = False, background: str = "regular",
             workers: int = os.cpu_count() or 1) -> dict:
    """Write the world (skipping what exists). Returns its manifest (also written to OUT/world.json).

    A world cached by another generator (GENERATOR, background or seed) is deleted and written again."""
    out = Path(out)
    manifest_path = out / "world.json"
    if manifest_path.exists():
        manifest = json.loads(manifest_path.read_text())
        same = ((manifest.get("generator", 1), manifest.get("background", "uniform"), manifest.get("seed"))
                == (GENERATOR, background, seed))
        if same and manifest.get("daily_rows", 0) >= daily:
            return manifest
        if not same:
            for sub in ("transactions", "truth", "daily", "kyc", "events", "reference", "store"):
                shutil.rmtree(out / sub, ignore_errors=True)
            manifest_path.unlink()
    t_start = time.perf_counter()
    acc = Accounts(rows, seed, hubs, background)
    truth: dict = {k: [] for k in PLANTS}
    start = START.timestamp()
    months: list[tuple[str, float, float]] = []
    day = START
    end = START + timedelta(days=DAYS)
    while day < end:
        nxt = min(end, (day.replace(day=1) + timedelta(days=32)).replace(day=1))
        months.append((day.strftime("%Y-%m"), day.timestamp(), nxt.timestamp()))
        day = nxt
    total_secs = end.timestamp() - start
    tx_dir = out / "transactions"
    jobs = []
    for i, (label, a, b) in enumerate(months):
        n = round(rows * (b - start) / total_secs) - round(rows * (a - start) / total_secs)
        jobs.append((tx_dir / f"month={label}" / "part-00000.parquet", out / "truth" / f"{label}.json", [seed, 2, i], n, a, b))
    global _ACC
    _ACC = acc
    todo = [j for j in jobs if not (j[0].exists() and j[1].exists())]
    if workers > 1 and len(todo) > 1:
        # spawned, not forked: the caller may hold DuckDB or Arrow threads, which a fork would copy mid-state. Each
        # worker builds the same population from the seed (a few seconds at 100M).
        with ProcessPoolExecutor(min(workers, len(todo)), mp_context=multiprocessing.get_context("spawn"),
                                 initializer=_init_worker, initargs=(rows, seed, hubs, background)) as pool:
            list(pool.map(_month, todo))
    else:
        for job in todo:
            _month(job)
    for _, truth_path, *_ in jobs:  # each month's plants, also of months written by an earlier, interrupted run
        for k, v in json.loads(truth_path.read_text()).items():
            truth[k] += v
    day_truth: dict = {k: [] for k in PLANTS}
    if daily:
        d0 = end.timestamp()
        _write_span(out / "daily" / f"day={end.date()}.parquet", np.random.default_rng([seed, 3]), acc, daily, d0, d0 + 86400, day_truth)
    _write_reference(out, acc, seed, truth, day_truth, end)
    manifest = {
        "rows": rows,
        "seed": seed,
        "generator": GENERATOR,
        "daily_rows": daily,
        "history": [START.isoformat(), end.isoformat()],
        "daily_day": end.date().isoformat() if daily else None,
        "hubs": hubs,
        "background": background,
        "bank_accounts": acc.n_bank,
        "merchants": int(acc.merchant.sum()),
        "crypto_accounts": acc.n_crypto,
        "planted": {k: len(v) for k, v in truth.items()},
        "planted_daily": {k: len(v) for k, v in day_truth.items()},
        "seconds": round(time.perf_counter() - t_start, 1),
    }
    manifest_path.write_text(json.dumps(manifest, indent=2))
    return manifest


def _write_reference(out: Path, acc: Accounts, seed: int, truth: dict, day_truth: dict, end: datetime) -> None:
    import polars as pl

    rng = np.random.default_rng([seed, 4])
    (out / "reference").mkdir(parents=True, exist_ok=True)
    days = [(START + timedelta(days=d - 7)).date().isoformat() for d in range(DAYS + 10)]
    pl.DataFrame({"date": days * 2, "currency": ["THB"] * len(days) + ["USDT"] * len(days),
                  "usd_per_unit": [str(FX_THB)] * len(days) + [str(FX_USDT)] * len(days)}).write_csv(out / "reference" / "fx_rates.csv")
    # KYC for a sample of accounts plus every planted subject (small next to the transactions, as in practice)
    n_kyc = min(acc.n_bank, 50_000)
    idx = np.unique(np.concatenate([rng.choice(acc.n_bank, n_kyc, replace=False)]))
    planted = sorted({a for t in (truth, day_truth) for v in t.values() for a in v})
    merchants = set(acc.bank_ids[acc.merchant].tolist())  # every merchant: the bank knows its business customers
    ids = sorted(set(acc.bank_ids[idx].tolist()) | set(planted) | merchants)
    opened = START - timedelta(days=3 * 365)
    opened_at = [(opened + timedelta(days=int(d))).isoformat() for d in rng.integers(0, 3 * 365, len(ids))]
    (out / "kyc").mkdir(parents=True, exist_ok=True)
    pl.DataFrame({
        "rail": ["bank"] * len(ids),
        "institution": [i.split(":")[0] for i in ids],
        "account": [i.split(":")[1] for i in ids],
        "holder_id": [f"P{i.split(':')[1]}" for i in ids],
        "opened_at": opened_at,
        "country": ["TH"] * len(ids),
        "kind": ["merchant" if i in merchants else "customer" for i in ids],
    }).write_csv(out / "kyc" / "accounts.csv")
    # events: logins of KYC'd accounts; a few devices shared by many accounts
    n_ev = min(200_000, max(10_000, len(ids) * 2))
    who = rng.integers(0, len(ids), n_ev)
    # each account logs in from one of its own two devices (phone, laptop)
    dev = np.char.add(np.char.add("D", who.astype(str)), np.char.add("-", rng.integers(0, 2, n_ev).astype(str))).astype(object)
    shared = rng.random(n_ev) < 0.002
    dev[shared] = np.char.add("SHARED", rng.integers(0, 20, int(shared.sum())).astype(str))
    when = START.timestamp() + rng.uniform(0, (end - START).total_seconds(), n_ev)
    ids_arr = np.array(ids)
    pl.DataFrame({
        "event_id": [f"E{i:09d}" for i in range(n_ev)],
        "occurred_at": pl.Series((when * 1e6).astype(np.int64)).cast(pl.Datetime("us")).dt.strftime("%Y-%m-%dT%H:%M:%S"),
        "kind": ["login"] * n_ev,
        "institution": [s.split(":")[0] for s in ids_arr[who]],
        "account": [s.split(":")[1] for s in ids_arr[who]],
        "ip": [f"10.{a}.{b}.{c}" for a, b, c in rng.integers(0, 255, (n_ev, 3))],
        "device_id": dev,
    }).write_csv((out / "events").mkdir(parents=True, exist_ok=True) or out / "events" / "events.csv")
    (out / "truth.json").write_text(json.dumps({"history": truth, "daily": day_truth}))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rows", type=int, required=True)
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--daily", type=int, default=0, help="rows of the extra incremental day")
    ap.add_argument("--hubs", action="store_true", help="0.1 %% of accounts are merchant hubs (200x the activity)")
    ap.add_argument("--workers", type=int, default=os.cpu_count() or 1, help="processes writing months")
    ap.add_argument("--background", choices=["regular", "uniform"], default="regular",
                    help="who pays whom: books of regular payees (default), or anyone at random")
    a = ap.parse_args()
    print(json.dumps(generate(a.rows, a.out, a.seed, a.daily, a.hubs, a.background, a.workers), indent=2))


if __name__ == "__main__":
    main()
