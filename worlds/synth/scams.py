"""Scam operations, one function per typology.

An operation belongs to a compound and has a cast: organiser(s), a shell company and a casino company (legal
persons whose contact details are the organiser's), a consolidator, an underground OTC desk and compound wallets.
Each typology function plants one instance (one `patterns.csv` row) using fresh mules and victims drawn from the
background population plus the operation's cast, so patterns of one operation share accounts.

Difficulty sets how close a planted instance sits to the rule defaults (DESIGN.md section 4):
  easy   well past the threshold, similar amounts, compound IPs everywhere
  normal clearly past it
  hard   just past it, amounts from the normal range, fewer compound identifiers
"""

from __future__ import annotations

import random

from worlds.synth.background import usdt
from worlds.synth.model import MICRO, Account, Pattern, Tx
from worlds.synth.operations import REFS_VICTIM, Op, company_names
from worlds.synth.trafficking import Trafficking
from worlds.synth.world import (
    BANK_BY_COUNTRY,
    COMPOUNDS,
    OFAC_ADDRESSES,
)

COMPOUND_BANK = {"MM": "MM", "KH": "KH", "LA": "LA", "PH": "PH"}
VICTIM_COUNTRIES = ("TH", "SG", "MY", "PH", "TH", "SG")
LAYER_ROUTES = (("TH", "KH", "LA", "MM"), ("SG", "MY", "KH", "LA"), ("MY", "TH", "KH", "PH"), ("PH", "KH", "LA", "TH"),
                ("TH", "MY", "SG", "KH"))


class Scams(Trafficking):
    def __init__(self, world, truth, knobs):
        self.w = world
        self.truth = truth
        self.knobs = knobs
        self.pending: dict[int, list[Tx]] = {}
        self.facts: dict[str, dict[str, str]] = {}  # account id -> link kind -> the planted fact behind it
        self.ops: dict[int, Op] = {}
        self.n_patterns = 0
        self.used_victims: set[str] = set()
        self.ofac = [world.wallet(ch, "sanctioned", None, f"OFAC SDN: {name}", address=addr)
                     for ch, addr, name in OFAC_ADDRESSES]
        self.diff = {"easy": 0, "normal": 1, "hard": 2}[knobs.difficulty]
        self.quiet = {a.acct_id for a in world.dormant}  # membership only
        self.plan = self._plan()

    # ------------------------------------------------------------------ planning

    def _plan(self) -> dict[int, list[tuple[str, int]]]:
        from worlds.synth.config import TYPOLOGIES

        plan: dict[int, list[tuple[str, int]]] = {}
        days = self.knobs.days
        for ti, typ in enumerate(TYPOLOGIES):
            n = self.knobs.instances(typ)
            for i in range(n):
                r = random.Random(f"{self.w.seed}:plan:{typ}:{i}")
                if typ == "dormant_active":
                    day = r.randint(0, 4)
                else:  # leave room for the instance to play out before the world ends
                    tail = {"victim_escalation": 80, "cycle": 32, "recruitment_fees": 55, "controlled_accounts": 20,
                            "worker_turned_mule": 30, "release_payments": 20}.get(typ, 12)
                    day = r.randint(3, max(4, days - tail))
                plan.setdefault(day, []).append((typ, i))
        return plan

    def n_ops(self) -> int:
        return max(len(COMPOUNDS), max(self.knobs.instances(t) for t in ("mule_fan_in", "off_ramp")) // 2)

    def op(self, k: int) -> Op:
        k = k % self.n_ops()
        if k in self.ops:
            return self.ops[k]
        w = self.w
        r = random.Random(f"{w.seed}:op:{k}")
        comp = COMPOUNDS[k % len(COMPOUNDS)]
        home = BANK_BY_COUNTRY[COMPOUND_BANK[comp.country]]
        opened = w.t0 - r.randint(200, 900) * 86400
        org_p = w.party(w.people.person(comp.country, "CN", phone_prefix=comp.phone_prefixes[0]))
        where = comp.point(r)
        org = w.open_bank(org_p, BANK_BY_COUNTRY["LA"] if comp.country != "LA" or k % 2 else home, "customer", opened,
                          ip=comp.ip(r), where=where)
        names = company_names(k)
        shell_p = w.party(w.people.company(names[0], home.country, address=org_p.address, phone=org_p.phone))
        cas_p = w.party(w.people.company(names[1], home.country, address=org_p.address, phone=org_p.phone))
        otc_p = w.party(w.people.company(names[2], "KH", phone=org_p.phone))
        shell = w.open_bank(shell_p, home, "corporate", opened + 86400, ip=comp.ip(r), where=where)
        casino = w.open_bank(cas_p, home, "casino", opened + 2 * 86400, label=names[1], ip=comp.ip(r), where=where)
        cons_bank = BANK_BY_COUNTRY[("TH", "MY", "KH", "PH", "TH")[k % 5]]
        cons_p = w.party(w.people.person(cons_bank.country, phone_prefix=comp.phone_prefixes[-1] if self.diff < 2 else None))
        cons = w.open_bank(cons_p, cons_bank, "customer", w.t0 - r.randint(20, 120) * 86400, ip=comp.ip(r), where=where)
        otc_bank = w.open_bank(otc_p, BANK_BY_COUNTRY["KH"], "otc_desk", opened, label=names[2], ip=comp.ip(r))
        otc_wallet = w.wallet("tron", "otc_desk", otc_p, names[2], export=True)
        listed = w.wallet("tron", "compound_wallet", None, f"{comp.name} wallet", export=True, kyc=False)
        hidden = w.wallet("tron", "unknown", None, "", export=True, kyc=False)
        eth = w.wallet("ethereum", "unknown", None, "", export=True, kyc=False)
        eth_listed = w.wallet("ethereum", "compound_wallet", None, f"{comp.name} ETH wallet", export=True, kyc=False)
        op = Op(k, comp, org, shell, casino, cons, otc_bank, otc_wallet, listed, hidden, eth, eth_listed, names)
        # what ties the cast to the compound in the data (truth/compound_facts.csv)
        cidr = comp.cidr
        for a in (org, shell, casino, cons, otc_bank):
            self.fact(a, "ip_cidr", f"account opened from the compound's network {cidr}")
        for a in (org, shell, casino, cons):
            self.fact(a, "geo_radius", f"account opened within {comp.radius_km} km of the compound")
        for a in (org, shell, casino, otc_bank) + ((cons,) if self.diff < 2 else ()):
            self.fact(a, "phone_prefix", f"holder's KYC phone starts with a compound prefix ({a.holder.phone})")
        for a in (shell, casino):
            self.fact(a, "company_name", f"{a.holder.latin_name} is named in the compound's registry entry")
        for a in (listed, eth_listed, shell):
            self.fact(a, "registry_account", "listed in the compound's registry entry (compounds.yml)")
        self.ops[k] = op
        self.truth.op(op)
        return op

    # ------------------------------------------------------------------ helpers

    def pattern(self, typology: str, op: Op, note: str = "") -> Pattern:
        self.n_patterns += 1
        p = Pattern(f"P{self.n_patterns:05d}", typology, op.compound.compound_id, self.knobs.difficulty, note=note)
        return p

    def tx(self, pats, day: int, hour: float, src: Account | None, dst: Account | None, usd: float | None = None,
           amount: int | None = None, channel: str = "transfer", ref: str = "", subject: str = "") -> Tx:
        w = self.w
        day = day + int(hour // 24)
        hour = hour % 24
        ref_acct = src if src is not None and src.rail == "bank" else dst
        off = ref_acct.bank.tz_offset if ref_acct is not None and ref_acct.bank is not None else 8 * 3600
        ts = w.t0 + day * 86400 + int(hour * 3600) - off
        if amount is None:
            cur_acct = src if src is not None else dst
            if cur_acct.rail == "crypto":
                amount = usdt(usd)
            else:
                amount = w.fx.usd_to(usd, cur_acct.currency, day, cur_acct.decimals)
        if src is not None and src.rail == "crypto":
            channel = "onchain"
        t = Tx(ts, src, dst, amount, channel, ref, tuple(p.pattern_id for p in pats), subject=subject)
        if day < w.days:
            self.pending.setdefault(day, []).append(t)
        return t

    def usd_of(self, t: Tx) -> float:
        acct = t.src if t.src is not None else t.dst
        if acct.rail == "crypto":
            return t.amount / MICRO
        day = (t.ts - self.w.t0) // 86400
        return t.amount / MICRO * self.w.fx.rate(acct.currency, day)

    def victim(self, r: random.Random, countries=VICTIM_COUNTRIES) -> Account:
        w = self.w
        for _ in range(50):
            c = r.choice(countries)
            idx = w.by_country[c]
            if not idx:
                continue
            a = w.customers[r.choice(idx)]
            if a.acct_id not in self.used_victims and a.acct_id not in self.quiet:
                self.used_victims.add(a.acct_id)
                return a
        return w.customers[r.randrange(len(w.customers))]

    def mule(self, op: Op, r: random.Random, country: str, day: int, device: str | None = None,
             ip: str | None = None) -> Account:
        """A mule account opened shortly before use, often from the compound's network and phone prefix."""
        w = self.w
        comp = op.compound
        use_compound = self.diff < 2 or r.random() < 0.5
        p = w.party(w.people.person(country, phone_prefix=r.choice(comp.phone_prefixes) if use_compound else None))
        opened = w.t0 + max(day - r.randint(3, 25), -60) * 86400 + r.randint(8, 20) * 3600
        a = w.open_bank(p, BANK_BY_COUNTRY[country], "customer", opened,
                        ip=ip or (comp.ip(r) if use_compound else w.cgnat_ip(country)),
                        device=device, where=comp.point(r) if use_compound else None)
        if ip or use_compound:
            self.fact(a, "ip_cidr", f"account opened from the compound's network {comp.cidr}")
        if use_compound:
            self.fact(a, "geo_radius", f"account opened within {comp.radius_km} km of the compound")
            self.fact(a, "phone_prefix", f"holder's KYC phone starts with a compound prefix ({p.phone})")
        for j in range(r.randint(1, 3)):  # mules are run from the compound: logins from its network
            t = opened + (j + 1) * r.randint(3, 9) * 86400
            if t < w.t0 + w.days * 86400:
                w.sink.event(t, "login", a, p, comp.ip(r), device or w.device_of(p), p.phone, comp.point(r))
                self.fact(a, "ip_cidr", f"logins from the compound's network {comp.cidr}")
                self.fact(a, "geo_radius", f"logins located within {comp.radius_km} km of the compound")
        return a

    def near(self, r: random.Random, lo: float, hi: float) -> float:
        """A factor in [lo, hi] pulled toward lo as difficulty rises."""
        span = hi - lo
        return lo + span * (1.0 - self.diff / 2.0) * r.uniform(0.3, 1.0) if self.diff < 2 else lo + span * r.uniform(0.0, 0.15)

    def normal_usd(self, r: random.Random, similar_to: float = 400.0) -> float:
        if self.diff == 2:
            return min(2500.0, max(20.0, r.lognormvariate(3.9, 0.9)))  # indistinguishable from everyday payments
        return similar_to * r.uniform(0.9, 1.1)

    def fact(self, acct: Account, kind: str, detail: str) -> None:
        """Record a planted fact that ties `acct` to its operation's compound (first fact of each kind is kept)."""
        self.facts.setdefault(acct.acct_id, {}).setdefault(kind, detail)

    def finish(self, p: Pattern) -> None:
        self.truth.pattern(p)
        seen = set()
        for acct, role in p.accounts:
            if role in ("victim", "off_ramp") or acct.acct_id in seen:
                continue
            seen.add(acct.acct_id)
            for kind, detail in self.facts.get(acct.acct_id, {}).items():
                self.truth.fact(p.pattern_id, p.compound_id, acct.acct_id, kind, detail)

    # ------------------------------------------------------------------ engine

    def day(self, d: int) -> list[Tx]:
        if d == 0:
            self.trafficking_lookalikes()
        for typ, i in self.plan.pop(d, []):
            r = random.Random(f"{self.w.seed}:{typ}:{i}")
            op = self.op(i * 7 + len(typ))
            getattr(self, typ)(op, r, d)
        txs = self.pending.pop(d, [])
        self.hand_up(d, txs)
        return txs

    def hand_up(self, d: int, txs: list[Tx]) -> None:
        """The consolidator hands most of the week's takings up to the organiser (the top of the operation: where
        the proceeds end, besides the shell company). An operation's own flow, outside any pattern: listed in
        truth/operation_transactions.csv."""
        by_cons = {op.consolidator.acct_id: op for op in self.ops.values()}
        for t in txs:
            op = by_cons.get(t.dst.acct_id) if t.dst is not None else None
            if op is not None and t.src is not op.organiser:
                op.takings += self.usd_of(t)
        for op in self.ops.values():
            if (d - op.k) % 7 == 6 and op.takings >= 500:
                r = random.Random(f"{self.w.seed}:hand_up:{op.k}:{d}")
                t = self.tx([], d + 1, r.uniform(9, 17), op.consolidator, op.organiser, op.takings * r.uniform(0.55, 0.75),
                            channel="wire" if op.consolidator.country != op.organiser.country else "transfer",
                            ref=r.choice(("LOAN REPAYMENT", "INVESTMENT", "CONSULTING FEE")))
                t.op_flow = f"{op.compound.compound_id}:hand_up"
                op.takings = 0.0

    # ------------------------------------------------------------------ typologies

    def mule_fan_in(self, op: Op, r: random.Random, d: int) -> None:
        p = self.pattern("mule_fan_in", op)
        m = self.mule(op, r, r.choice(("TH", "MY", "PH")), d)
        p.add(m, "mule")
        n = (12, r.randint(6, 8), 5)[self.diff]
        span = (18.0, 22.0, 23.3)[self.diff]
        base = r.uniform(200, 900)
        total = 0.0
        for j in range(n):
            v = self.victim(r)
            p.add(v, "victim")
            t = self.tx([p], d, 8 + span * j / (n - 1), v, m, self.normal_usd(r, base), ref=r.choice(REFS_VICTIM))
            total += self.usd_of(t)
        # forwards only part soon (so that this instance is a fan-in, not also a pass-through)
        p.add(op.consolidator, "consolidator")
        self.tx([p], d + 2, 11, m, op.consolidator, total * 0.6, ref="TRANSFER")
        self.tx([p], d + 7, 15, m, op.consolidator, total * 0.3, ref="TRANSFER")
        self.finish(p)

    def fan_out(self, op: Op, r: random.Random, d: int) -> None:
        p = self.pattern("fan_out", op)
        hub = self.mule(op, r, r.choice(("KH", "TH", "MY")), d)
        p.add(op.shell, "legal_person")
        p.add(hub, "consolidator")
        n = (10, r.randint(6, 8), 5)[self.diff]
        span = (3.0, 6.0, 7.6)[self.diff]
        each = r.uniform(300, 1500)
        self.tx([p], d, 8, op.shell, hub, each * n * 1.02, channel="wire", ref="SERVICE FEE")
        for j in range(n):
            payee = self.mule(op, r, hub.country, d)
            p.add(payee, "mule")
            self.tx([p], d, 9 + span * j / (n - 1), hub, payee, self.normal_usd(r, each), ref="PAYMENT")
        self.finish(p)

    def pass_through(self, op: Op, r: random.Random, d: int) -> None:
        p = self.pattern("pass_through", op)
        m = self.mule(op, r, r.choice(("TH", "MY", "SG", "PH")), d)
        p.add(m, "pass_through")
        share = (r.uniform(0.97, 0.995), r.uniform(0.92, 0.96), r.uniform(0.912, 0.92))[self.diff]
        delay = (r.uniform(1, 4), r.uniform(8, 20), r.uniform(40, 60))[self.diff]
        total = 0.0
        for j in range(r.randint(2, 4)):
            v = self.victim(r)
            p.add(v, "victim")
            total += self.usd_of(self.tx([p], d, 9 + j, v, m, r.uniform(800, 6000), ref=r.choice(REFS_VICTIM)))
        p.add(op.consolidator, "consolidator")
        self.tx([p], d, 12 + delay, m, op.consolidator, total * share, ref="TRF")
        self.finish(p)

    def rapid_layering(self, op: Op, r: random.Random, d: int) -> None:
        p = self.pattern("rapid_layering", op)
        hops = (5, 4, 3)[self.diff]
        share = (0.95, 0.92, 0.82)[self.diff]
        route = LAYER_ROUTES[r.randrange(len(LAYER_ROUTES))]
        also = share >= 0.9
        p2 = self.pattern("pass_through", op, note="secondary: layering hops pass >= 90 % on") if also else None
        pats = [p, p2] if p2 else [p]
        p.add(op.consolidator, "consolidator")
        chain = [op.consolidator]
        for j in range(hops):
            a = self.mule(op, r, route[j % len(route)], d)
            p.add(a, "layer")
            if p2:
                p2.add(a, "pass_through")
            chain.append(a)
        usd = r.uniform(5000, 30000)
        hour = 9.0
        for j in range(len(chain) - 1):
            if j:  # each hop passes on `share` of what it received (a little more when easy), never more than all
                usd *= min(1.0, share * (r.uniform(1.0, 1.03) if self.diff < 2 else 1.0))
            cross = chain[j].country != chain[j + 1].country
            self.tx(pats, d, hour, chain[j], chain[j + 1], usd, channel="wire" if cross else "transfer",
                    ref="INVESTMENT" if j == 0 else "TRADE SETTLEMENT")
            hour += (r.uniform(1, 3), r.uniform(2, 12), r.uniform(19, 23))[self.diff]
        end = self.w.external("AE", op.shell.holder, use_iban=True)
        p.add(end, "layer")
        self.tx(pats, d, hour, chain[-1], end, usd * share, channel="wire", ref="GENERAL TRADING")
        self.finish(p)
        if p2:
            self.finish(p2)

    def structuring(self, op: Op, r: random.Random, d: int) -> None:
        p = self.pattern("structuring", op)
        country = ("KH", "PH", "TH", "MY")[r.randrange(4)]
        m = self.mule(op, r, country, d)
        p.add(m, "mule")
        thr = self.knobs.cash_threshold_usd  # in USD, as the rule's default compares amount_usd
        n = (5, r.randint(3, 4), 3)[self.diff]
        span_days = (4, 5, 6.8)[self.diff]
        total = 0
        for j in range(n):
            f = (r.uniform(0.95, 0.99), r.uniform(0.92, 0.99), r.uniform(0.902, 0.91))[self.diff]
            hour = 10 + 24 * span_days * j / max(1, n - 1)
            day = d + int(hour // 24)
            amount = self.w.fx.usd_to(thr * f, m.currency, day, 0)  # whole units, as cash is counted
            total += amount
            self.tx([p], day, hour % 24, None, m, amount=amount, channel="cash_deposit", ref="CASH DEPOSIT")
        p.add(op.consolidator, "consolidator")
        usd = total / MICRO * self.w.fx.rate(m.currency, d)
        self.tx([p], d + int(span_days) + 1, 10, m, op.consolidator, usd * 0.9, ref="TRANSFER")
        self.finish(p)

    def cycle(self, op: Op, r: random.Random, d: int) -> None:
        p = self.pattern("cycle", op)
        length = (3, 4, 6)[self.diff]
        ret = (r.uniform(0.95, 0.98), r.uniform(0.86, 0.93), r.uniform(0.805, 0.82))[self.diff]
        span = (5, 14, 28)[self.diff]
        nodes = [op.shell, op.casino, op.organiser]
        while len(nodes) < length:
            nodes.append(self.mule(op, r, r.choice(("KH", "LA", "TH")), d))
        nodes = nodes[:length]
        roles = {id(op.shell): "legal_person", id(op.casino): "legal_person", id(op.organiser): "organiser"}
        for a in nodes:
            p.add(a, roles.get(id(a), "layer"))
        usd = r.uniform(20000, 80000)
        step = ret ** (1 / length)
        for j in range(length):
            s, t = nodes[j], nodes[(j + 1) % length]
            self.tx([p], d + span * j // length, 10 + j, s, t, usd, channel="wire" if s.country != t.country else "transfer",
                    ref=("CONSULTING FEE", "GAMING SETTLEMENT", "LOAN", "DIVIDEND")[j % 4])
            usd *= step
        self.finish(p)

    def scatter_gather(self, op: Op, r: random.Random, d: int) -> None:
        p = self.pattern("scatter_gather", op)
        k = (6, 4, 3)[self.diff]
        p.add(op.consolidator, "consolidator")
        p.add(op.shell, "legal_person")
        gap = (6, 20, 60)[self.diff]
        for j in range(k):
            mid = self.mule(op, r, r.choice(("TH", "MY", "PH")), d)
            p.add(mid, "layer")
            usd = self.normal_usd(r, r.uniform(1500, 4000))
            self.tx([p], d, 9 + j * 0.5, op.consolidator, mid, usd, ref="LOAN")
            self.tx([p], d, 9 + j * 0.5 + gap * r.uniform(0.5, 1.0), mid, op.shell, usd * 0.97, channel="wire",
                    ref="IMPORT PAYMENT")
        self.finish(p)

    def gather_scatter(self, op: Op, r: random.Random, d: int) -> None:
        p = self.pattern("gather_scatter", op)
        k_in, k_out = ((8, 6), (5, 4), (3, 3))[self.diff]
        hub = self.mule(op, r, r.choice(("TH", "KH", "MY")), d)
        p.add(hub, "consolidator")
        total = 0.0
        for j in range(k_in):
            s = self.mule(op, r, r.choice(("TH", "MY", "PH", "SG")), d)
            p.add(s, "mule")
            total += self.usd_of(self.tx([p], d, 9 + j * 0.7, s, hub, self.normal_usd(r, r.uniform(1000, 3000)),
                                         ref="TRANSFER"))
        for j in range(k_out):
            t = self.mule(op, r, r.choice(("KH", "LA", "MM")), d)
            p.add(t, "layer")
            self.tx([p], d + 1, 8 + j, hub, t, total * 0.95 / k_out, channel="wire" if t.country != hub.country else "transfer",
                    ref="PAYMENT")
        self.finish(p)

    def bipartite(self, op: Op, r: random.Random, d: int) -> None:
        p = self.pattern("bipartite", op)
        m, n = ((5, 4), (4, 3), (3, 3))[self.diff]
        left = [self.mule(op, r, r.choice(("TH", "MY", "PH")), d) for _ in range(m)]
        right = [self.mule(op, r, r.choice(("KH", "TH")), d) for _ in range(n)]
        for a in left:
            p.add(a, "mule")
        for b in right:
            p.add(b, "consolidator")
        for i, a in enumerate(left):
            for j, b in enumerate(right):
                self.tx([p], d + (i + j) // 4, 9 + i + j * 0.3, a, b, self.normal_usd(r, r.uniform(300, 1200)),
                        ref="TRANSFER")
        self.finish(p)

    def dormant_active(self, op: Op, r: random.Random, d: int) -> None:
        p = self.pattern("dormant_active", op)
        w = self.w
        a = w.new_customer(BANK_BY_COUNTRY[r.choice(("TH", "MY", "PH"))], opened_at=w.t0 - r.randint(400, 1500) * 86400)
        p.add(a, "mule")
        self.tx([p], d, 12, a, w.billers[a.country][0], r.uniform(20, 60), ref="BILL PAYMENT")
        quiet = (120, r.randint(100, 110), r.randint(91, 94))[self.diff]
        wake = min(d + quiet, w.days - 3)
        n = (12, 8, 5)[self.diff]
        # the rented account is logged into from the compound at wake-up
        w.sink.event(w.t0 + wake * 86400 - 3 * 3600, "login", a, a.holder, op.compound.ip(r), "dev-" + f"{r.getrandbits(64):016x}",
                     a.holder.phone, op.compound.point(r))
        self.fact(a, "ip_cidr", f"login at wake-up from the compound's network {op.compound.cidr}")
        self.fact(a, "geo_radius", f"login at wake-up located within {op.compound.radius_km} km of the compound")
        total = 0.0
        for j in range(n):
            v = self.victim(r)
            p.add(v, "victim")
            total += self.usd_of(self.tx([p], wake, 9 + j * 1.3, v, a, self.normal_usd(r, r.uniform(300, 1500)),
                                         ref=r.choice(REFS_VICTIM)))
        p.add(op.consolidator, "consolidator")
        self.tx([p], wake + 1, 10, a, op.consolidator, total * 0.8, ref="TRANSFER")
        self.finish(p)

    def victim_escalation(self, op: Op, r: random.Random, d: int) -> None:
        p = self.pattern("victim_escalation", op)
        v = self.victim(r)
        p.add(v, "victim")
        k = (5, 4, 3)[self.diff]
        usd = r.uniform(80, 400)
        via_vasp = r.random() < 0.5 and v.country in self.w.exchanges[0].deposit
        if via_vasp:
            ex = self.w.exchanges[r.randrange(len(self.w.exchanges))]
            payee = ex.deposit[v.country]
            wallet = self.w.wallet("tron", "customer", v.holder, "wallet opened on the scammer's advice")
            p.add(wallet, "victim")
            p.add(op.wallet_listed, "compound_wallet")
        else:
            payee = self.mule(op, r, v.country, d)
            p.add(payee, "mule")
        day = d
        for j in range(k):
            t = self.tx([p], day, 19 + r.random() * 3, v, payee, usd, ref=r.choice(("INVESTMENT", "TOP UP", "TAX FEE", "UNLOCK FEE")))
            if via_vasp:
                got = self.usd_of(t) * 0.99
                self.tx([p], day + 1, 9, ex.hot_tron, wallet, got, subject=ex.hot_tron.number)
                self.tx([p], day + 1, 10, wallet, op.wallet_listed, got * 0.999, subject=op.wallet_listed.number)
            factor = (r.uniform(2.0, 3.0), r.uniform(1.6, 2.2), r.uniform(1.53, 1.58))[self.diff]
            usd *= factor
            day += (r.randint(3, 8), r.randint(5, 15), r.randint(15, 25))[self.diff]
        self.finish(p)

    def shared_identifiers(self, op: Op, r: random.Random, d: int) -> None:
        p = self.pattern("shared_identifiers", op)
        n = (8, 5, 3)[self.diff]
        device = "dev-" + f"{r.getrandbits(64):016x}"
        ip = op.compound.ip(r)
        country = r.choice(("TH", "MY", "PH"))
        accts = []
        for j in range(n):
            a = self.mule(op, r, country, d + (j * (25 if self.diff == 2 else 3)) // n, device=device,
                          ip=ip if self.diff < 2 or j == 0 else op.compound.ip(r))
            accts.append(a)
            p.add(a, "mule")
        p.add(op.consolidator, "consolidator")
        for j, a in enumerate(accts):  # a little use each, forwarded to the consolidator
            v = self.victim(r)
            p.add(v, "victim")
            t = self.tx([p], d + 1 + j, 14, v, a, self.normal_usd(r, r.uniform(200, 800)), ref=r.choice(REFS_VICTIM))
            self.tx([p], d + 3 + j, 10, a, op.consolidator, self.usd_of(t) * 0.7, ref="TRANSFER")
        self.finish(p)

    def off_ramp(self, op: Op, r: random.Random, d: int) -> None:
        p = self.pattern("off_ramp", op)
        hub = self.mule(op, r, r.choice(("TH", "MY", "KH")), d)  # its own hub: its inflow is exactly the mules'
        p.add(hub, "consolidator")
        n = (6, 5, 4)[self.diff]
        total = 0.0
        for j in range(n):
            m = self.mule(op, r, r.choice(("TH", "MY", "PH")), d)
            p.add(m, "mule")
            total += self.usd_of(self.tx([p], d, 9 + j * 1.5, m, hub, r.uniform(1500, 5000), ref="TRANSFER"))
        share = (0.95, r.uniform(0.8, 0.9), r.uniform(0.705, 0.72))[self.diff]
        delay = (10, 40, 66)[self.diff]
        # part to the operation's OTC desk, part to P2P merchants (complicit), the rest stays
        p.add(op.otc_bank, "off_ramp")
        self.tx([p], d, 18 + delay * 0.5, hub, op.otc_bank, total * share * 0.7, ref="USDT PURCHASE")
        p2p_bank, p2p_wallet = self.w.p2p[r.randrange(len(self.w.p2p))]
        p.add(p2p_bank, "off_ramp")
        self.tx([p], d, 18 + delay, hub, p2p_bank, total * share * 0.3, ref="P2P ORDER")
        p.add(op.wallet_listed, "compound_wallet")
        p.add(op.otc_wallet, "off_ramp")
        self.tx([p], d + 1, 20 + delay * 0.5, op.otc_wallet, op.wallet_listed, total * share * 0.7 * 0.985,
                subject=op.otc_wallet.number)
        self.finish(p)

    def peel_chain(self, op: Op, r: random.Random, d: int) -> None:
        p = self.pattern("peel_chain", op)
        hops = (8, 6, 5)[self.diff]
        src = op.wallet_hidden
        p.add(src, "compound_wallet")
        self.fact(src, "operation_otc_desk", f"funded by the operation's OTC desk wallet {op.otc_wallet.acct_id}, whose "
                                             f"holder opened its bank account {op.otc_bank.acct_id} from {op.compound.cidr}")
        usd = r.uniform(20000, 90000)
        self.tx([p], d, 6, op.otc_wallet, src, usd, subject=op.otc_wallet.number)
        cur = src
        hour = 8.0
        for j in range(hops):
            nxt = self.w.wallet("tron", "unknown", None, "", export=True, kyc=False)
            peel = (r.uniform(0.02, 0.05), r.uniform(0.03, 0.08), r.uniform(0.06, 0.1))[self.diff]
            ex = self.w.exchanges[(j + op.k) % len(self.w.exchanges)]
            p.add(nxt, "layer")
            self.tx([p], d, hour, cur, ex.hot_tron, usd * peel, subject=cur.number)
            usd *= (1 - peel)
            self.tx([p], d, hour + 0.2, cur, nxt, usd, subject=cur.number)
            cur = nxt
            hour += r.uniform(0.5, 6)
        self.finish(p)

    def exposure(self, op: Op, r: random.Random, d: int) -> None:
        """An operation's wallet pays a sanctioned address in 1-3 hops.

        The chain starts at one of the operation's wallets, and the data always holds a fact that ties that wallet
        to its compound: either it is the wallet listed in the registry, or it is an unlisted wallet that also sweeps
        what is left into the listed wallet of the same chain, directly or through a fresh relay address (how an
        investigator would attribute it: on-chain flows into a known compound wallet). Without such a fact the chain
        would be a pattern "of compound X" that nothing in the extracts connects to X."""
        p = self.pattern("exposure", op)
        hops = (1, 2, 3)[self.diff]
        eth = r.random() < 0.35
        if eth:
            ofac = self.ofac[2]
            listed, unlisted = op.wallet_eth_listed, op.wallet_eth
            chain = "ethereum"
        else:
            ofac = self.ofac[r.randrange(2)]
            listed, unlisted = op.wallet_listed, op.wallet_hidden
            chain = "tron"
        start = unlisted if r.random() < 0.6 else listed
        p.add(start, "compound_wallet")
        p.add(ofac, "layer")
        usd = self.normal_usd(r, r.uniform(3000, 12000)) if self.diff == 2 else r.uniform(3000, 12000)
        keep = r.uniform(0.3, 0.8)  # what the start wallet holds beyond the exposure payment
        # funding: an ETH wallet from an exchange withdrawal, a TRON wallet from the operation's OTC desk
        fund = self.w.exchanges[op.k % len(self.w.exchanges)].hot_eth if eth else op.otc_wallet
        self.tx([p], d, 7, fund, start, usd * (1.05 + keep), subject=start.number)
        path = [start]
        for j in range(hops - 1):
            mid = self.w.wallet(chain, "unknown", None, "", export=False, kyc=False)
            p.add(mid, "layer")
            path.append(mid)
        path.append(ofac)
        for j in range(len(path) - 1):
            self.tx([p], d, 9 + j * 2, path[j], path[j + 1], usd * (0.99 ** j), subject=start.number if j == 0 else path[j].number)
        if start is unlisted:
            # the sweep into the listed wallet, before or after the exposure payment; through a relay the two legs
            # are hours apart (the relay forwards what it got)
            p.add(listed, "compound_wallet")
            at = r.choice((8.0, 9.5 + 2 * hops, 30.0 + r.uniform(0, 72)))
            amount = usd * keep * r.uniform(0.9, 0.99)
            if r.random() < 0.5:
                self.tx([p], d, at, start, listed, amount, subject=start.number)
                self.fact(start, "wallet_hops", f"pays the listed wallet {listed.acct_id} directly (1 hop)")
            else:
                relay = self.w.wallet(chain, "unknown", None, "", export=False, kyc=False)
                p.add(relay, "layer")
                self.tx([p], d, at, start, relay, amount, subject=start.number)
                self.tx([p], d, at + r.uniform(0.5, 20), relay, listed, amount * 0.998, subject=listed.number)
                self.fact(start, "wallet_hops", f"pays the listed wallet {listed.acct_id} through relay {relay.acct_id} (2 hops)")
                self.fact(relay, "wallet_hops", f"pays the listed wallet {listed.acct_id} directly (1 hop)")
        self.finish(p)
