"""Legitimate activity, one day at a time: person-to-person, shopping, bills, cash, payroll, remittances, savings,
crypto trading through exchanges, OTC desks and P2P merchants, casinos, and dormant accounts that wake up.

Draws for day d come from a random stream seeded by (seed, d): a day can be generated without the others, and
the same seed gives the same day.
"""

from __future__ import annotations

from datetime import timedelta

import numpy as np

from worlds.synth.model import Account, Tx


class Background:
    def __init__(self, world):
        self.w = world
        self.quiet = {a.acct_id for a in world.dormant}  # membership only; never iterated
        self.active_idx = {c: [i for i in idx if world.customers[i].acct_id not in self.quiet]
                           for c, idx in world.by_country.items()}
        self.all_active = [i for i in range(len(world.customers)) if world.customers[i].acct_id not in self.quiet]
        self.trader_level = [1.0] * len(world.traders)

    def ts(self, d: int, local_sec: float, acct: Account | None) -> int:
        off = acct.bank.tz_offset if acct is not None and acct.bank is not None else 7 * 3600
        return self.w.t0 + d * 86400 + int(local_sec) - off

    def amt(self, usd: float, acct: Account, d: int) -> int:
        return self.w.fx.usd_to(usd, acct.currency, d, acct.decimals)

    def day(self, d: int) -> list[Tx]:
        """The background transactions of day d, kind by kind, in a fixed order: the random draws follow it."""
        rng = np.random.default_rng([self.w.seed, 100, d])
        out: list[Tx] = []
        date = self.w.start + timedelta(days=d)
        for part in (self._p2p_transfers, self._shopping, self._bills, self._atm_withdrawals, self._cash_shops,
                     self._payroll, self._remittances_and_savings, self._crypto_traders, self._otc_clients,
                     self._p2p_merchants, self._casinos, self._dormant_accounts):
            part(d, date, rng, out)
        return out

    def _senders(self, rng, share: float) -> tuple[int, list[Account]]:
        """n ~ Poisson(active customers x activity x share) payments, each by a random active customer."""
        act = self.all_active
        n = int(rng.poisson(len(act) * self.w.knobs.activity * share))
        return n, [self.w.customers[act[i]] for i in rng.integers(0, len(act), n)]

    @staticmethod
    def _secs(rng):
        def secs(n):
            return 7 * 3600 + rng.random(n) * 16 * 3600

        return secs

    def _p2p_transfers(self, d: int, date, rng, out: list[Tx]) -> None:
        """Person to person, mostly inside the country."""
        custs = self.w.customers
        act = self.all_active
        secs = self._secs(rng)
        n, senders = self._senders(rng, 0.35)
        pick = rng.integers(0, 1 << 30, n)
        local = rng.random(n) < 0.85
        usd = np.clip(np.exp(rng.normal(3.6, 1.0, n)), 2, 4000)
        sec = secs(n)
        for i in range(n):
            s = senders[i]
            pool = self.active_idx[s.country] if local[i] else act
            t = custs[pool[pick[i] % len(pool)]]
            if t is s:
                continue
            ch = "ewallet" if pick[i] % 5 == 0 else "transfer"
            out.append(Tx(self.ts(d, sec[i], s), s, t, self.amt(usd[i], s, d), ch, "P2P"))

    def _shopping(self, d: int, date, rng, out: list[Tx]) -> None:
        """Shopping: card / QR payments to merchants (popular merchants get many senders a day)."""
        w = self.w
        secs = self._secs(rng)
        n, senders = self._senders(rng, 0.45)
        mi = np.minimum(rng.pareto(1.1, n), 10_000).astype(np.int64)
        usd = np.clip(np.exp(rng.normal(2.8, 0.8, n)), 1, 1500)
        sec = secs(n)
        for i in range(n):
            s = senders[i]
            ms = w.merchants[s.country]
            m = ms[int(mi[i]) % len(ms)]
            out.append(Tx(self.ts(d, sec[i], s), s, m, self.amt(usd[i], s, d), "card" if i % 3 else "ewallet",
                          f"POS {m.latin_name[:18].upper()}"))

    def _bills(self, d: int, date, rng, out: list[Tx]) -> None:
        """Bills."""
        w = self.w
        secs = self._secs(rng)
        n, senders = self._senders(rng, 0.08)
        usd = np.clip(np.exp(rng.normal(3.3, 0.5, n)), 5, 600)
        sec = secs(n)
        for i in range(n):
            s = senders[i]
            b = w.billers[s.country][i % 2]
            out.append(Tx(self.ts(d, sec[i], s), s, b, self.amt(usd[i], s, d), "transfer", "BILL PAYMENT"))

    def _atm_withdrawals(self, d: int, date, rng, out: list[Tx]) -> None:
        """ATM withdrawals."""
        secs = self._secs(rng)
        n, senders = self._senders(rng, 0.08)
        usd = np.round(np.clip(np.exp(rng.normal(4.0, 0.6, n)), 10, 800), -1)
        sec = secs(n)
        for i in range(n):
            s = senders[i]
            out.append(Tx(self.ts(d, sec[i], s), s, None, self.amt(usd[i], s, d), "cash_withdrawal", "ATM"))

    def _cash_shops(self, d: int, date, rng, out: list[Tx]) -> None:
        """Shops deposit the day's cash; now and then the takings land just under the reporting threshold."""
        w = self.w
        r = rng.random(len(w.cash_shops))
        frac = rng.uniform(0.03, 0.5, len(w.cash_shops))
        near = rng.uniform(0.90, 0.99, len(w.cash_shops))
        thr = w.knobs.cash_threshold_usd
        for i, shop in enumerate(w.cash_shops):
            if r[i] < 0.75:
                # near the threshold on at most one day in ten: never 3 such deposits within 7 days
                f = near[i] if (d + 3 * i) % 10 == 0 and r[i] < 0.3 else frac[i]
                amount = w.fx.usd_to(thr * f, shop.currency, d, 0)  # whole units, as cash is counted
                out.append(Tx(self.ts(d, 17 * 3600 + i * 7, shop), None, shop, amount, "cash_deposit", "CASH DEPOSIT"))

    def _payroll(self, d: int, date, rng, out: list[Tx]) -> None:
        """Payroll on payday (fan-out of a legitimate kind) and weekly B2B income of the employer."""
        w = self.w
        for e in w.employers:
            if date.day == e.payday:
                for j, (emp, salary) in enumerate(e.employees):
                    out.append(Tx(self.ts(d, 9 * 3600 + j * 61, e.account), e.account, emp,
                                  self.amt(salary, e.account, d), "transfer", f"SALARY {date:%m%Y}"))
            if date.weekday() == 0:
                total = sum(s for _, s in e.employees)
                ms = w.merchants[e.account.country]
                m = ms[(d + len(e.employees)) % len(ms)]
                out.append(Tx(self.ts(d, 11 * 3600, m), m, e.account, self.amt(total / 4 * rng.uniform(0.8, 1.3), m, d),
                              "transfer", "INVOICE"))

    def _remittances_and_savings(self, d: int, date, rng, out: list[Tx]) -> None:
        """Remittances home and savings."""
        w = self.w
        if date.day in (26, 27, 28):
            for j, (migrant, home, usd_amt) in enumerate(w.migrants):
                if j % 3 == date.day - 26:
                    out.append(Tx(self.ts(d, 19 * 3600 + j * 13, migrant), migrant, home,
                                  self.amt(usd_amt * rng.uniform(0.8, 1.2), migrant, d), "ewallet", "FAMILY SUPPORT"))
        if date.day == 27:
            for j, (acct, sav, usd_amt) in enumerate(w.savers):
                out.append(Tx(self.ts(d, 20 * 3600 + j * 17, acct), acct, sav, self.amt(usd_amt, acct, d), "transfer",
                              "SAVINGS"))

    def _crypto_traders(self, d: int, date, rng, out: list[Tx]) -> None:
        """Crypto traders: buy on an exchange (bank -> VASP deposit account, then USDT hot wallet -> own wallet)."""
        w = self.w
        tr = rng.random(len(w.traders))
        growth = rng.uniform(0.75, 1.4, len(w.traders))
        base = rng.uniform(80, 1500, len(w.traders))
        for j, (acct, wallet, ex) in enumerate(w.traders):
            if (d + j) % 7 != 0 or tr[j] > 0.6:
                continue
            lvl = self.trader_level[j] = min(4.0, max(0.5, self.trader_level[j] * growth[j]))
            usd_amt = base[j] * lvl
            t = self.ts(d, 12 * 3600 + j * 37, acct)
            if tr[j] < 0.48:
                out.append(Tx(t, acct, ex.deposit[acct.country], self.amt(usd_amt, acct, d), "transfer",
                              f"{ex.name[:12].upper()} TOPUP {wallet.number[-6:]}"))
                out.append(Tx(t + 3 * 3600, ex.hot_tron, wallet, usdt(usd_amt * 0.995), "onchain", subject=ex.hot_tron.number))
            else:
                out.append(Tx(t, wallet, ex.hot_tron, usdt(usd_amt), "onchain", subject=ex.hot_tron.number))
                out.append(Tx(t + 5 * 3600, ex.deposit[acct.country], acct, self.amt(usd_amt * 0.995, acct, d),
                              "transfer", f"{ex.name[:12].upper()} WITHDRAWAL"))
        for j, (wallet, ex) in enumerate(w.eth_traders):
            if (d + j) % 10 == 0:
                t = w.t0 + d * 86400 + 6 * 3600 + j * 53
                usd_amt = float(rng.uniform(200, 3000))
                if j % 4:
                    out.append(Tx(t, ex.hot_eth, wallet, usdt(usd_amt), "onchain", subject=ex.hot_eth.number))
                else:
                    out.append(Tx(t, wallet, ex.hot_eth, usdt(usd_amt), "onchain", subject=ex.hot_eth.number))

    def _otc_clients(self, d: int, date, rng, out: list[Tx]) -> None:
        """Licensed OTC desks: a client pays in local currency and receives USDT."""
        w = self.w
        oc = rng.random(len(w.otc_clients))
        for j, (acct, wallet) in enumerate(w.otc_clients):
            if oc[j] < 0.03:
                bank_acct, otc_wallet = w.otc_desks[j % len(w.otc_desks)]
                usd_amt = float(rng.uniform(2000, 20000))
                t = self.ts(d, 10 * 3600 + j * 41, acct)
                out.append(Tx(t, acct, bank_acct, self.amt(usd_amt, acct, d), "transfer", "OTC USDT"))
                out.append(Tx(t + 2 * 3600, otc_wallet, wallet, usdt(usd_amt * 0.99), "onchain", subject=otc_wallet.number))

    def _p2p_merchants(self, d: int, date, rng, out: list[Tx]) -> None:
        """P2P merchants: buyers pay the merchant's bank account, the merchant releases USDT."""
        w = self.w
        if w.p2p_buyers:
            for j, (bank_acct, p2p_wallet) in enumerate(w.p2p):
                k = min(int(rng.poisson(2.5)), 8)
                picks = rng.choice(len(w.p2p_buyers), size=min(k, len(w.p2p_buyers)), replace=False)
                for q, b in enumerate(sorted(int(x) for x in picks)):
                    acct, wallet = w.p2p_buyers[b]
                    usd_amt = float(rng.uniform(20, 600))
                    t = self.ts(d, 9 * 3600 + q * 2900 + j * 11, acct)
                    out.append(Tx(t, acct, bank_acct, self.amt(usd_amt, acct, d), "transfer", "P2P ORDER"))
                    out.append(Tx(t + 900, p2p_wallet, wallet, usdt(usd_amt * 0.985), "onchain", subject=p2p_wallet.number))

    def _casinos(self, d: int, date, rng, out: list[Tx]) -> None:
        """Casinos on weekends: deposits from many players, winnings to some."""
        w = self.w
        custs = self.w.customers
        act = self.all_active
        n_act = len(act)
        if date.weekday() >= 5 and w.casinos:
            n = int(rng.poisson(max(3.0, n_act * 0.004)))
            src = rng.integers(0, n_act, n)
            usd = np.clip(np.exp(rng.normal(5.0, 0.9, n)), 20, 5000)
            win = rng.random(n)
            for i in range(n):
                s = custs[act[src[i]]]
                cas = w.casinos[i % len(w.casinos)]
                t = self.ts(d, 20 * 3600 + i * 97, s)
                out.append(Tx(t, s, cas, self.amt(usd[i], s, d), "transfer", "DEPOSIT GAMING ACCT"))
                if win[i] < 0.4:
                    out.append(Tx(t + 4 * 3600, cas, s, self.amt(usd[i] * (0.5 + 2 * win[i]), cas, d), "transfer", "WINNINGS"))

    def _dormant_accounts(self, d: int, date, rng, out: list[Tx]) -> None:
        """Dormant accounts: a little activity at the start, ~100 quiet days, then ordinary payments."""
        w = self.w
        for j, acct in enumerate(w.dormant):
            if d == j % 5:
                out.append(Tx(self.ts(d, 10 * 3600, acct), acct, w.billers[acct.country][0],
                              self.amt(30 + j % 40, acct, d), "transfer", "BILL PAYMENT"))
            wake = 100 + j % 25
            if d == wake:
                m = w.merchants[acct.country][j % len(w.merchants[acct.country])]
                out.append(Tx(self.ts(d, 9 * 3600, acct), None, acct, self.amt(300 + 7 * j % 500, acct, d),
                              "cash_deposit", "CASH DEPOSIT"))
                out.append(Tx(self.ts(d, 15 * 3600, acct), acct, m, self.amt(40 + j % 90, acct, d), "card", "POS"))
                out.append(Tx(self.ts(d + 1 if d + 1 < w.days else d, 16 * 3600, acct), acct, w.billers[acct.country][1],
                              self.amt(25 + j % 50, acct, d), "transfer", "BILL PAYMENT"))

def usdt(usd: float) -> int:
    """USDT micro-units, rounded to cents as exchanges do."""
    return int(round(usd * 100)) * 10_000
