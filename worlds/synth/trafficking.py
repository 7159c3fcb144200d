"""The trafficking side of an operation: the people it recruits, moves into its compound and forces to work, and
the families who pay for their release. One method per trafficking typology (a mixin of Scams: its methods are
typologies too), plus the legitimate look-alikes of each.

Trafficked workers are ordinary people with an account at home: opened years before, used at home (logins from
their carrier's network, bills), until the operation moves them. From then on their accounts are logged into
from the compound's network and area, on the worker's own phone or on one phone the compound shares out. The
truth names them `trafficked_worker`: the alerts should find them, and casework should not rank them as suspects.
"""

from __future__ import annotations

import random
from typing import TYPE_CHECKING

from worlds.synth.model import Account, Lookalike, Party
from worlds.synth.operations import REFS_VICTIM, Op
from worlds.synth.world import BANK_BY_COUNTRY

WORKER_COUNTRIES = ("TH", "MY", "PH", "LA", "MM")
FAMILY_COUNTRIES = ("TH", "MY", "PH")
AGENCIES = ("Bright Future Manpower", "Golden Bridge Recruitment", "Asia Career Link", "Sunrise Overseas Jobs",
            "Prime Talent Placement", "Pacific Work Connect")
if TYPE_CHECKING:
    from worlds.synth.scams import Scams

ABROAD_IPS = "198.18.40"  # where a legitimate agency's clients work: a network inside no compound (RFC 2544 range)


class Trafficking:
    """Planted trafficking typologies (methods named by typology id). Needs Scams' helpers (self.w, self.tx, ...)."""

    # ------------------------------------------------------------------ people

    def _worker(self: "Scams", r: random.Random, home_day: int, country: str | None = None) -> Account:
        """A person with an account at home: opened years ago, logged into from home in the days before `home_day`,
        and a bill paid early on `home_day` (transfers can only be planted from the current day on)."""
        w = self.w
        c = country or r.choice(WORKER_COUNTRIES)
        a = w.new_customer(BANK_BY_COUNTRY[c], opened_at=w.t0 - r.randint(300, 2000) * 86400)
        self.tx([], home_day, r.uniform(7, 8.5), a, w.billers[c][r.randrange(len(w.billers[c]))], r.uniform(15, 60),
                ref="BILL PAYMENT")
        w.sink.event(w.t0 + (home_day - r.randint(1, 10)) * 86400 + r.randint(7, 21) * 3600, "login", a, a.holder,
                     w.cgnat_ip(c), w.device_of(a.holder), a.holder.phone, None)
        return a

    def _arrive(self: "Scams", op: Op, r: random.Random, a: Account, day: int, device: str | None = None) -> None:
        """The worker is inside the compound from `day`: its account is logged into from there."""
        w, comp = self.w, op.compound
        t = w.t0 + day * 86400 + r.randint(8, 20) * 3600
        for j in range(r.randint(2, 4)):
            at = t + j * r.randint(1, 4) * 86400
            if at < w.t0 + w.days * 86400:
                w.sink.event(at, "login", a, a.holder, comp.ip(r), device or w.device_of(a.holder), a.holder.phone,
                             comp.point(r) if self.diff < 2 else None)
        self.fact(a, "ip_cidr", f"logins from the compound's network {comp.cidr} after the holder moved there")

    def _relative(self: "Scams", head: Party, country: str) -> Party:
        """A family member of `head`: same surname (last name word) and address."""
        p = self.w.people.person(country)
        p.name = p.name.split(" ")[0] + " " + head.name.split(" ", 1)[-1]
        p.latin_name = p.latin_name.split(" ")[0] + " " + head.latin_name.split(" ", 1)[-1]
        p.address = head.address
        return self.w.party(p)

    # ------------------------------------------------------------------ typologies

    def recruitment_fees(self: "Scams", op: Op, r: random.Random, d: int) -> None:
        """An agency takes placement fees; within weeks its payers' accounts are used from inside the compound."""
        w = self.w
        p = self.pattern("recruitment_fees", op)
        country = r.choice(("TH", "KH", "MY", "PH"))
        agency_p = w.party(w.people.company(f"{AGENCIES[op.k % len(AGENCIES)]} {op.k + 1} Co., Ltd.", country))
        agency = w.open_bank(agency_p, BANK_BY_COUNTRY[country], "corporate", w.t0 - r.randint(200, 800) * 86400)
        p.add(agency, "recruiter")
        n = (5, 4, 3)[self.diff]
        fee = r.uniform(500, 1500)
        total = 0.0
        for j in range(n):
            paid = d + j * r.randint(1, 3)
            worker = self._worker(r, d)
            p.add(worker, "trafficked_worker")
            t = self.tx([p], paid, r.uniform(9, 18), worker, agency, fee * r.uniform(0.92, 1.08),
                        ref=r.choice(("PLACEMENT FEE", "VISA FEE", "JOB FEE", "TRAVEL")))
            total += self.usd_of(t)
            self._arrive(op, r, worker, paid + r.randint(7, 35 if self.diff else 20))
        # the agency hands the fees on to the operation (its own flow: the link to the compound's company)
        t = self.tx([], d + n * 3 + 2, 11, agency, op.shell, total * r.uniform(0.5, 0.7), channel="wire",
                    ref="SERVICE FEE")
        t.op_flow = f"{op.compound.compound_id}:recruitment"
        self.finish(p)

    def controlled_accounts(self: "Scams", op: Op, r: random.Random, d: int) -> None:
        """Workers' own accounts, after they were moved, run from one compound phone to take victims' money."""
        p = self.pattern("controlled_accounts", op)
        n = (5, 4, 3)[self.diff]
        device = "dev-" + f"{r.getrandbits(64):016x}"
        for j in range(n):
            worker = self._worker(r, d)
            p.add(worker, "trafficked_worker")
            arrive = d + j
            self._arrive(op, r, worker, arrive, device=device)
            for k in range(r.randint(1, 2)):  # the compound uses the account: a victim pays, the money goes on
                v = self.victim(r)
                p.add(v, "victim")
                t = self.tx([p], arrive + 2 + k, r.uniform(10, 20), v, worker, self.normal_usd(r, r.uniform(300, 900)),
                            ref=r.choice(REFS_VICTIM))
                self.tx([p], arrive + 3 + k, r.uniform(9, 12), worker, op.consolidator, self.usd_of(t) * 0.9,
                        ref="TRANSFER")
        self.finish(p)

    def worker_turned_mule(self: "Scams", op: Op, r: random.Random, d: int) -> None:
        """One worker's account, once its holder is inside the compound, collects from new senders."""
        p = self.pattern("worker_turned_mule", op)
        worker = self._worker(r, d)
        p.add(worker, "trafficked_worker")
        self._arrive(op, r, worker, d)
        n = (6, 5, 4)[self.diff]
        total = 0.0
        for j in range(n):
            v = self.victim(r)
            p.add(v, "victim")
            t = self.tx([p], d + 2 + j * r.randint(1, 4), r.uniform(9, 21), v, worker,
                        self.normal_usd(r, r.uniform(200, 900)), ref=r.choice(REFS_VICTIM))
            total += self.usd_of(t)
        self.tx([p], d + 2 + n * 4 + 1, 10, worker, op.consolidator, total * 0.85, ref="TRANSFER")
        self.finish(p)

    def release_payments(self: "Scams", op: Op, r: random.Random, d: int) -> None:
        """Families pay a broker near the compound large one-off sums for a worker's release; the broker buys USDT."""
        w = self.w
        p = self.pattern("release_payments", op)
        country = "TH" if op.compound.country == "MM" else "KH"
        broker_p = w.party(w.people.person(country, phone_prefix=op.compound.phone_prefixes[0]))
        broker = w.open_bank(broker_p, BANK_BY_COUNTRY[country], "customer", w.t0 - r.randint(30, 300) * 86400)
        p.add(broker, "broker")
        p.add(op.otc_bank, "off_ramp")
        families = (3, 2, 2)[self.diff]
        day = d
        for f in range(families):
            head = self.victim(r, tuple(c for c in FAMILY_COUNTRIES if c != country))  # the family lives abroad
            payers = [head]
            if f == 0 or r.random() < 0.4:  # a second member of the family pays too (a loan, a relative's savings)
                rel = self._relative(head.holder, head.country)
                payers.append(w.open_bank(rel, BANK_BY_COUNTRY[head.country], "customer",
                                          w.t0 - r.randint(300, 3000) * 86400))
            for payer in payers:
                p.add(payer, "victim")
                usd = r.uniform(1800, 3500) if self.diff == 2 else r.uniform(3000, 12000)
                t = self.tx([p], day, r.uniform(8, 20), payer, broker, usd, channel="wire",
                            ref=r.choice(("RELEASE", "DEBT", "HELP SON", "FAMILY", "")))
                self.tx([p], day + r.randint(0, 2), r.uniform(20, 23), broker, op.otc_bank,
                        self.usd_of(t) * r.uniform(0.88, 0.96), ref="USDT PURCHASE")
                day += r.randint(1, 4)
        self.finish(p)

    # ------------------------------------------------------------------ look-alikes

    def trafficking_lookalikes(self: "Scams") -> None:
        """Legitimate behaviour that resembles each trafficking typology (truth/lookalikes.csv)."""
        w = self.w
        r = random.Random(f"{w.seed}:trafficking_lookalikes")
        # a licensed agency: similar fees, and its clients log in from their employer's country, not a compound
        agency = w.open_bank(w.party(w.people.company("Harbour Staffing Solutions Co., Ltd.", "TH")),
                             BANK_BY_COUNTRY["TH"], "corporate", w.t0 - 900 * 86400)
        for j in range(6):
            client = self._worker(r, 10 + j * 2, "TH")
            self.tx([], 10 + j * 2, 11, client, agency, r.uniform(700, 800), ref="PLACEMENT FEE")
            at = w.t0 + (40 + j) * 86400
            w.sink.event(at, "login", client, client.holder, f"{ABROAD_IPS}.{10 + j}", w.device_of(client.holder),
                         client.holder.phone, None)
        w.lookalikes.append(Lookalike(agency.acct_id, "recruitment_fees",
                                      "a licensed agency: 6 clients pay similar fees, then log in from abroad",
                                      "0 payers reappear inside a compound", ">= 2 payers moved into one compound"))
        # families paying a student abroad once each (tuition, a deposit): kept and spent, not passed on
        student = w.new_customer(BANK_BY_COUNTRY["MY"])
        for j in range(3):
            payer = self.victim(r, ("TH", "PH"))
            self.tx([], 20 + j * 3, 12, payer, student, r.uniform(3000, 6000), channel="wire", ref="TUITION")
        for j in range(6):
            self.tx([], 25 + j * 5, 13, student, w.billers["MY"][0], r.uniform(100, 300), ref="RENT")
        w.lookalikes.append(Lookalike(student.acct_id, "release_payments",
                                      "relatives abroad pay a student large one-off sums, which are spent slowly",
                                      "< 30 % passed on, none towards a compound or off-ramp",
                                      ">= 70 % passed on, >= 50 % towards a compound or off-ramp"))
        if w.migrants:
            w.lookalikes.append(Lookalike(w.migrants[0][0].acct_id, "release_payments",
                                          "migrant workers send money home every month",
                                          "repeated payments to the same family account", "one-off payments only"))
