"""Building the population: customers, merchants, employers, VASPs, OTC desks, P2P merchants, casinos.

Every account opening is reported to the sink (KYC party + account + an opening event), so the KYC files and
events are written as the world grows and nothing is held twice.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from worlds.synth.config import Knobs
from worlds.synth.model import Account, Lookalike, Party
from worlds.synth.world import (
    BANK_BY_COUNTRY,
    BANK_WEIGHTS,
    BANKS,
    CITIES,
    COUNTRY_IDX,
    EXTERNAL_BANKS,
    BankSpec,
    Fx,
    IdMint,
    PeopleFactory,
    fmt_number,
    iban,
    ts_of,
)


@dataclass
class Employer:
    account: Account
    employees: list  # (Account, salary_usd)
    payday: int  # day of month


@dataclass
class Exchange:
    name: str
    party: Party
    deposit: dict  # country -> bank Account (vasp_deposit)
    hot_tron: Account
    hot_eth: Account


class World:
    def __init__(self, knobs: Knobs, seed: int, sink):
        self.knobs = knobs
        self.seed = seed
        self.sink = sink
        self.start = knobs.start_date
        self.days = knobs.days
        self.fx = Fx(seed, self.start, knobs.days)
        self.mint = IdMint(seed)
        self.rng = random.Random(f"{seed}:world")
        self.people = PeopleFactory(self.mint, self.rng, self.start)
        self.customers: list[Account] = []
        self.by_country: dict[str, list[int]] = {b.country: [] for b in BANKS}
        self.merchants: dict[str, list[Account]] = {b.country: [] for b in BANKS}
        self.billers: dict[str, list[Account]] = {b.country: [] for b in BANKS}
        self.cash_shops: list[Account] = []
        self.employers: list[Employer] = []
        self.migrants: list[tuple[Account, Account, float]] = []
        self.savers: list[tuple[Account, Account, float]] = []
        self.traders: list[tuple[Account, Account, Exchange]] = []
        self.eth_traders: list[tuple[Account, Exchange]] = []
        self.exchanges: list[Exchange] = []
        self.otc_desks: list[tuple[Account, Account]] = []  # (bank account, tron wallet)
        self.otc_clients: list[tuple[Account, Account]] = []
        self.p2p: list[tuple[Account, Account]] = []
        self.p2p_buyers: list[tuple[Account, Account]] = []
        self.casinos: list[Account] = []
        self.dormant: list[Account] = []
        self.lookalikes: list[Lookalike] = []
        self.devices: dict[str, str] = {}
        self.t0 = ts_of(self.start, 0, 0)

    # ------------------------------------------------------------------ opening accounts

    def bank_number(self, bank: BankSpec) -> str:
        n = bank.number_format.count("#")
        return fmt_number(bank.number_format, self.mint.digits(bank.code, n))

    def open_bank(self, holder: Party, bank: BankSpec, kind: str, opened_at: int, currency: str | None = None,
                  label: str = "", ip: str | None = None, device: str | None = None,
                  where: tuple[float, float] | None = None, phone: str | None = None) -> Account:
        number = self.bank_number(bank)
        cur = currency or bank.currencies[0]
        acct = Account(
            acct_id=f"{bank.code}:{number.replace('-', '').replace(' ', '')}", rail="bank", institution=bank.code,
            number=number, currency=cur, country=bank.country, kind=kind, holder=holder, opened_at=opened_at,
            label=label, bank=bank, decimals=0 if cur in bank.whole_units else 2,
        )
        self.sink.account(acct)
        if ip is None:
            ip = self.cgnat_ip(bank.country)
        if device is None:
            device = self.device_of(holder)
        if where is None:
            city = self.rng.choice(CITIES[bank.country])
            where = (round(city[1] + self.rng.uniform(-0.05, 0.05), 5), round(city[2] + self.rng.uniform(-0.05, 0.05), 5))
        self.sink.event(opened_at, "account_opening", acct, holder, ip, device, phone or holder.phone, where)
        return acct

    def external(self, country: str, holder: Party, use_iban: bool = False) -> Account:
        code, cur = EXTERNAL_BANKS[country]
        digits = self.mint.digits(code, 16)
        if use_iban:
            number = iban(country, digits[:3], digits)
            acct_id = number
        else:
            number = digits
            acct_id = f"{code}:{digits}"
        return Account(acct_id=acct_id, rail="bank", institution=code, number=number, currency=cur, country=country,
                       kind="external", holder=holder, opened_at=self.t0 - 400 * 86400)

    def wallet(self, chain: str, kind: str, holder: Party | None, label: str = "", export: bool = False,
               address: str | None = None, opened_at: int | None = None, kyc: bool = True) -> Account:
        addr = address or (self.mint.tron() if chain == "tron" else self.mint.eth())
        acct_id = f"{chain}:{addr.lower() if chain != 'tron' else addr}"
        acct = Account(acct_id=acct_id, rail="crypto", institution=chain, number=addr,
                       currency="USDT", country="", kind=kind, holder=holder,
                       opened_at=opened_at if opened_at is not None else self.t0 - 200 * 86400, label=label,
                       chain=chain, export=export, decimals=6)
        if kyc:
            self.sink.account(acct)
        return acct

    def party(self, p: Party) -> Party:
        self.sink.party(p)
        return p

    def cgnat_ip(self, country: str) -> str:
        # carrier-grade NAT (RFC 6598): mobile customers of one carrier legitimately share few public addresses
        ci = COUNTRY_IDX.get(country, 0)
        return f"100.{64 + ci * 8 + self.rng.randint(0, 1)}.{self.rng.randint(0, 3)}.{self.rng.randint(1, 40)}"

    def device_of(self, holder: Party) -> str:
        dev = self.devices.get(holder.party_id)
        if dev is None:
            dev = "dev-" + self.mint.digest("device").hex()[:16]
            self.devices[holder.party_id] = dev
        return dev

    def before_start(self, lo_days: int, hi_days: int) -> int:
        return self.t0 - self.rng.randint(lo_days * 86400, hi_days * 86400)

    def customer_bank(self) -> BankSpec:
        r = self.rng.random()
        acc = 0.0
        for c, w in BANK_WEIGHTS.items():
            acc += w
            if r < acc:
                return BANK_BY_COUNTRY[c]
        return BANK_BY_COUNTRY["TH"]

    def new_customer(self, bank: BankSpec | None = None, nationality: str | None = None, kind: str = "customer",
                     opened_at: int | None = None, city: str | None = None) -> Account:
        bank = bank or self.customer_bank()
        p = self.party(self.people.person(bank.country, nationality, city=city))
        cur = bank.currencies[0] if len(bank.currencies) == 1 or self.rng.random() < 0.7 else bank.currencies[1]
        return self.open_bank(p, bank, kind, opened_at if opened_at is not None else self.before_start(60, 3000), cur)

    # ------------------------------------------------------------------ population

    def build(self) -> None:
        """The population, part by part, in a fixed order: the random draws follow it."""
        for part in (self._customers, self._families_and_businesses, self._migrants_and_savers, self._vasps,
                     self._crypto_customers, self._dormant):
            part()

    def _customers(self) -> None:
        """Customers of the banks, some of them migrants or living near a compound."""
        k = self.knobs
        for _ in range(k.customers):
            bank = self.customer_bank()
            nat = None
            city = None
            if bank.country == "TH" and self.rng.random() < 0.08:
                nat = "MM"  # migrant workers from Myanmar with Thai accounts
            if bank.country == "TH" and self.rng.random() < 0.04:
                city = "Mae Sot"  # a border town a few km from KK Park: legitimate customers near a compound
            acct = self.new_customer(bank, nat, city=city)
            self.by_country[bank.country].append(len(self.customers))
            self.customers.append(acct)

    def _families_and_businesses(self) -> None:
        """Family members sharing a phone/tablet: two customers on one device (below the shared-identifier threshold)."""
        k = self.knobs
        la = k.lookalikes
        shared = 0
        for i in range(0, len(self.customers) - 1, 37):
            a, b = self.customers[i], self.customers[i + 1]
            if a.holder and b.holder and a.bank is b.bank:
                dev = self.device_of(a.holder)
                self.devices[b.holder.party_id] = dev
                self.sink.event(self.t0 + 3600 * (i % 24), "device_binding", b, b.holder, self.cgnat_ip(b.country), dev,
                                b.holder.phone, None)
                shared += 1
        if shared:
            self.lookalikes.append(Lookalike("(families)", "shared_identifiers",
                                             f"{shared} pairs of family members bind one device", "2 customers per device",
                                             ">= 3 customers per identifier in 30 d"))
        self.lookalikes.append(Lookalike("(all customers)", "shared_identifiers",
                                         "mobile customers log in through carrier-grade NAT (100.64.0.0/10): "
                                         "dozens share one public IP", "up to ~40 customers per IP",
                                         ">= 3-5 customers per identifier in 30 d (IP alone must not suffice)"))
        n = len(self.customers)
        for bank in BANKS:
            c = bank.country
            share = max(2, int(n * BANK_WEIGHTS[c] / 30 * la))
            for j in range(share):
                p = self.party(self.people.company(self._shop_name(c, j), c))
                m = self.open_bank(p, bank, "merchant", self.before_start(300, 3000))
                self.merchants[c].append(m)
                if j % 4 == 0:
                    self.cash_shops.append(m)
            for j in range(2):
                p = self.party(self.people.company(f"{c} {'Electric' if j == 0 else 'Telecom'} Utility Corp", c))
                self.billers[c].append(self.open_bank(p, bank, "merchant", self.before_start(2000, 4000)))
            # employers paying salaries (fan-out look-alike)
            local = self.by_country[c]
            for j in range(max(1, int(len(local) / 60 * la))):
                p = self.party(self.people.company(self._employer_name(c, j), c))
                acct = self.open_bank(p, bank, "payroll", self.before_start(500, 4000))
                staff = sorted(self.rng.sample(local, min(len(local), self.rng.randint(8, 40))))
                emp = [(self.customers[s], round(self.rng.uniform(350, 2500), 2)) for s in staff]
                self.employers.append(Employer(acct, emp, self.rng.choice((25, 28, 30))))
        big = max(self.employers, key=lambda e: len(e.employees))
        self.lookalikes.append(Lookalike(big.account.acct_id, "fan_out",
                                         f"payroll account paying {len(big.employees)} employees within an hour on payday",
                                         f"{len(big.employees)} payees in 1 h", ">= 5 payees in 8 h"))

    def _migrants_and_savers(self) -> None:
        """Migrant workers remitting to family in Myanmar; savings transfers."""
        n = len(self.customers)  # the customers of the banks (only _customers adds to them)
        for idx in self.by_country["TH"]:
            acct = self.customers[idx]
            if acct.holder.nationality == "MM":
                fam = self.party(self.people.person("MM"))
                home = self.open_bank(fam, BANK_BY_COUNTRY["MM"], "customer", self.before_start(100, 2000))
                self.migrants.append((acct, home, round(self.rng.uniform(80, 300), 2)))
        for i in range(0, n, 23):
            acct = self.customers[i]
            sav = self.open_bank(acct.holder, acct.bank, "customer", self.before_start(30, 2000), acct.currency,
                                 label="savings")
            self.savers.append((acct, sav, round(self.rng.uniform(50, 600), 2)))

    def _vasps(self) -> None:
        """VASPs."""
        k = self.knobs
        la = k.lookalikes
        for j, name in enumerate(("Siam Digital Exchange", "Merlion Crypto Exchange", "Nusantara Coin Exchange")):
            home = ("TH", "SG", "MY")[j]
            p = self.party(self.people.company(name + (" Co., Ltd." if home == "TH" else " Pte. Ltd." if home == "SG" else " Sdn. Bhd."), home))
            deposit = {}
            for c in ("TH", "SG", "MY", "PH"):
                deposit[c] = self.open_bank(p, BANK_BY_COUNTRY[c], "vasp_deposit", self.before_start(400, 1500), label=name)
            hot = self.wallet("tron", "exchange_hot_wallet", p, f"{name} hot wallet", export=True)
            hot_e = self.wallet("ethereum", "exchange_hot_wallet", p, f"{name} ETH hot wallet", export=True)
            self.exchanges.append(Exchange(name, p, deposit, hot, hot_e))
        for j, (c, name) in enumerate((("KH", "Phnom Penh Gold OTC"), ("TH", "Ratchada Money Exchange OTC"))):
            p = self.party(self.people.company(name + " Co., Ltd.", c))
            self.otc_desks.append((self.open_bank(p, BANK_BY_COUNTRY[c], "otc_desk", self.before_start(300, 1200), label=name),
                                   self.wallet("tron", "otc_desk", p, name, export=True)))
        for j in range(max(2, int(4 * la))):
            c = ("TH", "PH", "MY", "KH")[j % 4]
            acct = self.new_customer(BANK_BY_COUNTRY[c], kind="p2p_merchant")
            self.p2p.append((acct, self.wallet("tron", "p2p_merchant", acct.holder, "P2P merchant", export=True)))
        for j, (c, name) in enumerate((("KH", "Ocean Pearl Casino & Resort"), ("PH", "Manila Bay Gaming Corp"))):
            p = self.party(self.people.company(name, c))
            self.casinos.append(self.open_bank(p, BANK_BY_COUNTRY[c], "casino", self.before_start(800, 3000), label=name))

    def _crypto_customers(self) -> None:
        """Customers who trade crypto, OTC clients, P2P buyers."""
        k = self.knobs
        la = k.lookalikes
        n = len(self.customers)  # the customers of the banks (only _customers adds to them)
        for i in range(3, n, max(2, int(25 / la))):
            acct = self.customers[i]
            ex = self.exchanges[i % len(self.exchanges)]
            if acct.country not in ex.deposit:
                continue
            w = self.wallet("tron", "customer", acct.holder, "self-custody wallet")
            self.traders.append((acct, w, ex))
            if i % 3 == 0:
                self.eth_traders.append((self.wallet("ethereum", "customer", acct.holder, "self-custody wallet"), ex))
        for i in range(5, n, max(3, int(60 / la))):
            acct = self.customers[i]
            self.otc_clients.append((acct, self.wallet("tron", "customer", acct.holder, "wallet")))
        for i in range(7, n, max(3, int(30 / la))):
            acct = self.customers[i]
            self.p2p_buyers.append((acct, self.wallet("tron", "customer", acct.holder, "wallet")))

    def _dormant(self) -> None:
        """Dormant accounts that wake up for ordinary reasons (back from abroad, inheritance, rent)."""
        k = self.knobs
        la = k.lookalikes
        n = len(self.customers)  # the customers of the banks (only _customers adds to them)
        for i in range(11, n, max(5, int(80 / la))):
            self.dormant.append(self.customers[i])
        if self.dormant:
            self.lookalikes.append(Lookalike(self.dormant[0].acct_id, "dormant_active",
                                             f"{len(self.dormant)} accounts quiet for ~100 days, then 2-3 ordinary payments",
                                             "<= 3 counterparties after waking", ">= 90 d quiet then >= 5 counterparties"))
        if self.traders:
            self.lookalikes.append(Lookalike(self.traders[0][0].acct_id, "victim_escalation",
                                             "crypto traders buy on exchanges weekly with amounts growing up to 1.4x",
                                             "each payment <= 1.4 x the last", ">= 3 payments each >= 1.5 x the last"))
            self.lookalikes.append(Lookalike(self.traders[0][0].acct_id, "off_ramp",
                                             "salary earners who send much of their inflow to an exchange",
                                             "a large share to a VASP, but 1-3 senders (salary, P2P): not a fan-in hub",
                                             ">= 70 % in 72 h from a fan-in hub (>= 3 senders)"))
        if self.p2p:
            self.lookalikes.append(Lookalike(self.p2p[0][0].acct_id, "mule_fan_in",
                                             "legitimate P2P merchants receive from many buyers a day",
                                             "up to ~8 distinct senders in 24 h", ">= 5 in 24 h or >= 10 in 7 d"))
        if self.merchants["TH"]:
            self.lookalikes.append(Lookalike(self.merchants["TH"][0].acct_id, "mule_fan_in",
                                             "popular merchants receive card/QR payments from many customers",
                                             "dozens of distinct senders in 24 h", ">= 5 in 24 h or >= 10 in 7 d"))
        if self.cash_shops:
            self.lookalikes.append(Lookalike(self.cash_shops[0].acct_id, "structuring",
                                             "shops deposit the day's cash; on some days the takings land at 90-99 % "
                                             "of the threshold (never more than one day in ten)", "at most 1 deposit at 90-99 % in 7 d",
                                             ">= 3 at 90-99.9 % of threshold in 7 d"))
        self.lookalikes.append(Lookalike(self.casinos[0].acct_id, "gather_scatter",
                                         "casinos take deposits from many players and pay winnings to many",
                                         "many -> hub -> many every weekend", "k >= 3 within the window"))
        self.lookalikes.append(Lookalike(self.otc_desks[0][0].acct_id, "off_ramp",
                                         "licensed OTC desk: bank inflow from clients converted to USDT",
                                         "one client at a time, amounts 2-20k USD", ">= 70 % in 72 h from a fan-in hub"))

    def _shop_name(self, c: str, j: int) -> str:
        kinds = ("Mini Mart", "Noodle House", "Mobile Phones", "Pharmacy", "Hardware", "Cafe", "Garage", "Tailor")
        return f"{CITIES[c][j % len(CITIES[c])][0]} {kinds[j % len(kinds)]} {j + 1}"

    def _employer_name(self, c: str, j: int) -> str:
        kinds = ("Garment Factory", "Logistics", "Construction", "Seafood Processing", "Software", "Hotel")
        return f"{CITIES[c][0][0]} {kinds[j % len(kinds)]} {j + 1} Co."
