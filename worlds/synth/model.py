"""The objects of a synthetic world: parties, accounts, transfers, planted patterns.

Amounts are integers in micro-units (1e-6) of the account's currency, so that money is exact and formatting is
each writer's business. Times are integer epoch seconds, UTC.
"""

from __future__ import annotations

from dataclasses import dataclass, field

MICRO = 1_000_000


@dataclass(slots=True)
class Party:
    party_id: str
    party_type: str  # person | legal
    name: str
    latin_name: str
    country: str
    nationality: str = ""
    birth_date: str = ""
    id_number: str = ""
    registration_no: str = ""
    phone: str = ""
    email: str = ""
    address: str = ""


@dataclass(slots=True)
class Account:
    acct_id: str  # the store's account id (INSTITUTION:NUMBER, IBAN, chain:address)
    rail: str  # bank | crypto
    institution: str  # BIC-like code (bank) or chain name (crypto)
    number: str  # as printed in extracts (may hold dashes/spaces); crypto: the address
    currency: str  # ISO code or token symbol
    country: str
    kind: str
    holder: Party | None
    opened_at: int
    label: str = ""
    bank: object | None = None  # BankSpec when the account is held by a bank that exports an extract
    chain: str = ""
    export: bool = False  # crypto: an explorer export exists for this address
    decimals: int = 2

    @property
    def name(self) -> str:
        return self.holder.name if self.holder else self.label

    @property
    def latin_name(self) -> str:
        return self.holder.latin_name if self.holder else self.label


@dataclass(slots=True)
class Tx:
    ts: int
    src: Account | None  # None: cash
    dst: Account | None  # None: cash
    amount: int  # micro-units of src currency (of dst currency for a cash deposit)
    channel: str = "transfer"
    ref: str = ""
    pids: tuple = ()  # planted pattern ids this transfer belongs to
    op_flow: str = ""  # an operation's own flow outside any pattern (truth/operation_transactions.csv): its compound
    e2e: str = ""
    uetr: str = ""
    bad: str = ""  # a deliberately malformed row: which defect
    confirmed: bool = True
    subject: str = ""  # crypto: address whose explorer export carries the row
    tx_hash: str = ""
    dst_amount: int | None = None  # micro-units of dst currency when it differs (set by the engine)


@dataclass
class Pattern:
    pattern_id: str
    typology: str
    compound_id: str
    difficulty: str
    accounts: list = field(default_factory=list)  # (Account, role)
    note: str = ""

    def add(self, acct: Account, role: str) -> None:
        if all(a is not acct or r != role for a, r in self.accounts):
            self.accounts.append((acct, role))


@dataclass
class Lookalike:
    account_id: str
    typology: str
    description: str
    measured: str
    threshold: str
