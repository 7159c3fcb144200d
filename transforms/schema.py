"""The canonical tables: the one place that names every column, its type and its meaning.

Readers fill these columns; rules read only these tables; exports read rules' outputs. DDL is generated
from here, so a column is added in one place. Conventions: `_id` keys, `_at` timestamps (TIMESTAMPTZ,
stored UTC), `is_` booleans, money as DECIMAL, provenance (source, file_id, row_no) on every loaded row.
"""

from __future__ import annotations

from dataclasses import dataclass

# ---------------------------------------------------------------------------------------------- vocabulary
# transactions.channel
CHANNELS = ("transfer", "wire", "cash_deposit", "cash_withdrawal", "card", "ewallet", "cheque", "fee", "onchain", "other")
CASH_CHANNELS = ("cash_deposit", "cash_withdrawal")

# dispositions.disposition: an analyst's decision on an alert's subject
DISPOSITIONS = ("confirmed", "false_positive", "inconclusive")

# accounts.kind (KYC): what an account is, which decides whether a rule may take it for a customer
ACCOUNT_KINDS = (
    "customer",             # a person's or a small business's ordinary account
    "corporate",            # a company's account
    "merchant",             # takes payments from many customers for goods and services
    "payroll",              # pays many employees
    "ewallet",              # an e-money wallet at a non-bank
    "vasp_deposit",         # a deposit address or account of a virtual-asset service (exchange, broker)
    "exchange_hot_wallet",  # an exchange's pooled hot wallet
    "otc_desk",             # an over-the-counter crypto / cash desk
    "p2p_merchant",         # a peer-to-peer crypto merchant
    "casino",               # a casino's account
    "junket",               # a junket operator's account
    "sanctioned",           # on a sanctions list (as labelled by the data provider)
    "external",             # held at another institution; known only as a counterparty
)
# Named groups of kinds: a rule.yml parameter of type list[str] names one as "@<group>" (rules/spec.py expands it).
KIND_GROUPS: dict[str, tuple[str, ...]] = {
    # services that many unrelated customers pay or are paid by in trade: not mules, victims or layers by their flows
    "services": ("merchant", "payroll", "exchange_hot_wallet", "vasp_deposit", "otc_desk", "p2p_merchant", "casino",
                 "junket"),
    # where value turns into crypto or is taken out of the banking system's view
    "vasps": ("vasp_deposit", "exchange_hot_wallet", "otc_desk", "p2p_merchant"),
    "off_ramps": ("vasp_deposit", "exchange_hot_wallet", "otc_desk", "p2p_merchant", "casino", "junket"),
    # reported to goAML as non-bank institutions
    "non_bank": ("vasp_deposit", "exchange_hot_wallet", "otc_desk", "p2p_merchant", "casino", "junket", "ewallet"),
}


@dataclass(frozen=True)
class Column:
    name: str
    type: str
    doc: str


@dataclass(frozen=True)
class Table:
    name: str
    doc: str
    columns: tuple[Column, ...]
    key: tuple[str, ...] = ()  # natural key used for de-duplication on load
    # True: a row with a known key is replaced when its content changed (KYC, registry, rates).
    # False: rows are immutable facts; a known key is a duplicate (transactions, events).
    replaceable: bool = False

    @property
    def names(self) -> list[str]:
        return [c.name for c in self.columns]

    @property
    def keys_table(self) -> str | None:
        """Immutable facts with one key column (transactions, events) have a side table
        `<name>_keys(h UBIGINT, file_id VARCHAR)` holding a 64-bit hash of every stored row's key and its file: the
        loader's "already stored?" probe reads these 8 bytes per row instead of the key strings. Maintained and
        checked by transforms/store.py (fact_keys), not by DDL."""
        return f"{self.name}_keys" if not self.replaceable and len(self.key) == 1 else None

    def ddl(self) -> str:
        cols = ",\n  ".join(f"{c.name} {c.type}" for c in self.columns)
        return f"CREATE TABLE IF NOT EXISTS {self.name} (\n  {cols}\n)"

    def upgrade(self) -> list[str]:
        """Statements that add columns introduced after a store was created (columns are only ever added)."""
        return [f"ALTER TABLE {self.name} ADD COLUMN IF NOT EXISTS {c.name} {c.type}" for c in self.columns]


AMOUNT = "DECIMAL(38,18)"  # asset units: 18 decimals covers ETH-style tokens
USD = "DECIMAL(18,2)"

PROVENANCE = (
    Column("source", "VARCHAR", "reader that loaded the row (e.g. delimited:kbank_th, tronscan_trc20)"),
    Column("file_id", "VARCHAR", "sha256 of the input file"),
    Column("row_no", "BIGINT", "1-based record number inside the file (header excluded)"),
)

TRANSACTIONS = Table(
    "transactions",
    "One movement of value between two accounts or addresses.",
    (
        Column("txn_id", "VARCHAR", "stable id: hash of UETR / end-to-end id, or institution + native id, or the natural key"),
        Column("source_txn_id", "VARCHAR", "the id as the extract gave it"),
        Column("rail", "VARCHAR", "bank | crypto"),
        Column("booked_at", "TIMESTAMPTZ", "booking time (bank) or block time (crypto), UTC"),
        Column("value_date", "DATE", "value date where the statement gives one"),
        Column("from_account_id", "VARCHAR", "payer account: institution:number, IBAN, or chain:address"),
        Column("to_account_id", "VARCHAR", "payee account, same forms"),
        Column("amount", AMOUNT, "positive amount in asset units"),
        Column("currency", "VARCHAR", "ISO 4217 code or token symbol"),
        Column("amount_usd", USD, "amount converted with the rate of the booking day (NULL: no rate, see fx_status)"),
        Column("fx_source", "VARCHAR", "where the rate came from: user (a rates file), ecb (ECB reference rates), "
                                       "peg (a USD stablecoin at par, an assumption), usd (no conversion); NULL: no rate"),
        Column("fx_status", "VARCHAR", "ok | no_rate (no rate for the currency within 7 days up to the booking day: "
                                       "loaded without amount_usd, filled in when a rates file brings one)"),
        Column("channel", "VARCHAR", "transfer, wire, cash_deposit, cash_withdrawal, card, ewallet, onchain, fee, other"),
        Column("reference", "VARCHAR", "remittance text / memo"),
        Column("from_name", "VARCHAR", "payer name as the extract gave it"),
        Column("to_name", "VARCHAR", "payee name as the extract gave it"),
        Column("from_institution", "VARCHAR", "payer bank (BIC or code) or VASP"),
        Column("to_institution", "VARCHAR", "payee bank (BIC or code) or VASP"),
        Column("from_country", "VARCHAR", "ISO 3166 alpha-2 of the payer account"),
        Column("to_country", "VARCHAR", "ISO 3166 alpha-2 of the payee account"),
        Column("end_to_end_id", "VARCHAR", "ISO 20022 end-to-end id where present"),
        Column("uetr", "VARCHAR", "SWIFT gpi UETR where present"),
        Column("bank_tx_code", "VARCHAR", "bank transaction code (ISO domain/family/sub-family or SWIFT/GVC code)"),
        Column("is_reversal", "BOOLEAN", "entry reverses an earlier one"),
        Column("chain", "VARCHAR", "tron, ethereum, ... (crypto only)"),
        Column("tx_hash", "VARCHAR", "on-chain transaction hash"),
        Column("block_number", "BIGINT", "block height"),
        Column("token_contract", "VARCHAR", "token contract address (crypto only)"),
        *PROVENANCE,
    ),
    key=("txn_id",),
)

ACCOUNTS = Table(
    "accounts",
    "Bank accounts and crypto addresses known from KYC or registries.",
    (
        Column("account_id", "VARCHAR", "institution:number, IBAN, or chain:address"),
        Column("rail", "VARCHAR", "bank | crypto"),
        Column("institution", "VARCHAR", "bank (BIC or code) or VASP holding the account"),
        Column("holder_id", "VARCHAR", "party_id of the holder"),
        Column("opened_at", "TIMESTAMPTZ", "account opening time, UTC"),
        Column("country", "VARCHAR", "ISO 3166 alpha-2"),
        Column("kind", "VARCHAR", "one of ACCOUNT_KINDS (customer, corporate, merchant, payroll, vasp_deposit, ...), or empty"),
        Column("label", "VARCHAR", "free label (e.g. exchange name)"),
        *PROVENANCE,
    ),
    key=("account_id",),
    replaceable=True,
)

PARTIES = Table(
    "parties",
    "People and legal persons from KYC.",
    (
        Column("party_id", "VARCHAR", "id as the KYC extract gave it, prefixed by institution where not global"),
        Column("party_type", "VARCHAR", "person | legal"),
        Column("name", "VARCHAR", "full name as written in KYC (any script)"),
        Column("birth_date", "DATE", "persons only"),
        Column("nationality", "VARCHAR", "ISO 3166 alpha-2"),
        Column("id_number", "VARCHAR", "national id / passport number"),
        Column("registration_no", "VARCHAR", "company registration number (legal persons)"),
        Column("phone", "VARCHAR", "E.164 where possible"),
        Column("email", "VARCHAR", "lower-cased e-mail"),
        Column("address", "VARCHAR", "postal address"),
        Column("country", "VARCHAR", "ISO 3166 alpha-2 of residence / incorporation"),
        *PROVENANCE,
    ),
    key=("party_id",),
    replaceable=True,
)

EVENTS = Table(
    "events",
    "Logins, device bindings and account openings.",
    (
        Column("event_id", "VARCHAR", "id from the extract, or a hash of the row"),
        Column("account_id", "VARCHAR", "account the event concerns (may be null)"),
        Column("party_id", "VARCHAR", "party the event concerns (may be null)"),
        Column("occurred_at", "TIMESTAMPTZ", "UTC"),
        Column("kind", "VARCHAR", "login, account_opening, device_binding, password_reset, ..."),
        Column("ip", "VARCHAR", "IPv4 or IPv6 address as text"),
        Column("device_id", "VARCHAR", "device fingerprint / id"),
        Column("phone", "VARCHAR", "phone used"),
        Column("lat", "DOUBLE", "latitude (WGS84)"),
        Column("lon", "DOUBLE", "longitude (WGS84)"),
        *PROVENANCE,
    ),
    key=("event_id",),
)

COMPOUNDS = Table(
    "compounds",
    "Registry of suspected scam compounds (human-edited YAML).",
    (
        Column("compound_id", "VARCHAR", "short stable id"),
        Column("name", "VARCHAR", "common name"),
        Column("aliases", "VARCHAR[]", "other names and spellings"),
        Column("country", "VARCHAR", "ISO 3166 alpha-2"),
        Column("lat", "DOUBLE", "centre latitude"),
        Column("lon", "DOUBLE", "centre longitude"),
        Column("radius_km", "DOUBLE", "radius of the area"),
        Column("ip_cidrs", "VARCHAR[]", "IP ranges seen from the compound"),
        Column("phone_prefixes", "VARCHAR[]", "phone number prefixes (E.164) used there"),
        Column("wallets", "VARCHAR[]", "chain:address of known wallets"),
        Column("accounts", "VARCHAR[]", "known bank accounts"),
        Column("companies", "VARCHAR[]", "operating / front companies"),
        Column("sources", "VARCHAR[]", "citations for the entry"),
        Column("confidence", "DOUBLE", "0..1 confidence of the registry entry"),
        *PROVENANCE,
    ),
    key=("compound_id",),
    replaceable=True,
)

FX_RATES = Table(
    "fx_rates",
    "Daily rates to USD.",
    (
        Column("rate_date", "DATE", "day the rate applies to"),
        Column("currency", "VARCHAR", "ISO 4217 code or token symbol"),
        Column("usd_per_unit", "DECIMAL(24,12)", "USD value of one unit"),
        *PROVENANCE,
    ),
    key=("rate_date", "currency"),
    replaceable=True,
)

WATCHLIST_ENTITIES = Table(
    "watchlist_entities",
    "Designated persons, companies and wallets from sanctions and watch lists (OFAC SDN, UN, UK, FollowTheMoney /"
    " OpenSanctions): what parties and counterparties are screened against (rules/screening).",
    (
        Column("entity_id", "VARCHAR", "list name + ':' + the list's own id (e.g. ofac_sdn:36, un_sc:QDi.001)"),
        Column("list_name", "VARCHAR", "ofac_sdn | un_sc | uk_hmt | uk_fcdo | opensanctions (or the FtM dataset)"),
        Column("list_version", "VARCHAR", "the list's publication date or version as the file states it (else the file's date)"),
        Column("native_id", "VARCHAR", "the entity's id in the list"),
        Column("schema", "VARCHAR", "FollowTheMoney schema: Person, Organization, Company, LegalEntity, Vessel, Airplane, CryptoWallet"),
        Column("name", "VARCHAR", "primary name as listed (any script)"),
        Column("aliases", "VARCHAR[]", "other names: a.k.a., f.k.a., original-script names, weak aliases"),
        Column("birth_dates", "VARCHAR[]", "ISO dates, possibly partial (1970, 1970-05, 1970-05-12)"),
        Column("countries", "VARCHAR[]", "ISO 3166 alpha-2 (lower case, FtM style): nationality, citizenship, jurisdiction, address"),
        Column("id_numbers", "VARCHAR[]", "passport and national id numbers, upper case letters and digits only"),
        Column("registration_nos", "VARCHAR[]", "company registration / tax numbers, upper case letters and digits only"),
        Column("wallets", "VARCHAR[]", "crypto addresses as account ids (chain:address, see transforms/ids.py)"),
        Column("phones", "VARCHAR[]", "phone numbers, digits only"),
        Column("emails", "VARCHAR[]", "lower-cased e-mail addresses"),
        Column("addresses", "VARCHAR[]", "postal addresses as listed"),
        Column("programs", "VARCHAR[]", "sanctions programmes / regimes (e.g. TCO, SDGT, CAMBODIA, Global Human Rights)"),
        Column("authority", "VARCHAR", "who designated (OFAC, UN Security Council, HM Treasury / FCDO, ...)"),
        Column("listed_at", "DATE", "designation date where the list gives one"),
        Column("remarks", "VARCHAR", "the list's free-text remarks"),
        *PROVENANCE,
    ),
    key=("entity_id",),
    replaceable=True,
)

DISPOSITIONS_TABLE = Table(
    "dispositions",
    "Analysts' decisions on alert subjects (a dispositions file, or the review workbench): the labels of the model.",
    (
        Column("subject_id", "VARCHAR", "as in alerts.csv: an account id (e.g. tron:T...) or a party id"),
        Column("disposition", "VARCHAR", "confirmed | false_positive | inconclusive"),
        Column("decided_at", "TIMESTAMPTZ", "when the analyst decided, UTC; the latest decision per subject holds"),
        Column("analyst", "VARCHAR", "who decided"),
        Column("note", "VARCHAR", "the analyst's note"),
        *PROVENANCE,
    ),
    key=("subject_id", "decided_at"),
    replaceable=True,
)

APPROVALS = Table(
    "approvals",
    "Four-eyes approvals from the review workbench's case store, replaced at each sync. While this table exists the"
    " workbench is in use, and a goAML report is released (goaml/) only for a case approved here; the rest are drafts.",
    (
        Column("case_id", "VARCHAR", "alerts.alert_id or networks.network_id"),
        Column("kind", "VARCHAR", "alert | network"),
        Column("subject_id", "VARCHAR", "the alert's subject (NULL for a network)"),
        Column("decided_by", "VARCHAR", "the analyst who confirmed the case"),
        Column("decided_at", "TIMESTAMPTZ", "when"),
        Column("approved_by", "VARCHAR", "the supervisor who approved it (never the decider)"),
        Column("approved_at", "TIMESTAMPTZ", "when"),
        Column("fingerprint", "VARCHAR", "the evidence approved: alerts.evidence_hash or networks.core_hash then; a report"
                                         " is released only while its case still has it"),
    ),
    key=("case_id",),
)

FX_FILLS = Table(
    "fx_fills",
    "Transactions loaded without a rate and converted later, when a rates file brought one: what the next"
    " incremental detect re-covers.",
    (
        Column("file_id", "VARCHAR", "the rates file whose rates filled them"),
        Column("n_transactions", "BIGINT", "how many were filled"),
        Column("first_booked_at", "TIMESTAMPTZ", "earliest booking among them"),
        Column("last_booked_at", "TIMESTAMPTZ", "latest booking among them"),
    ),
)

QUARANTINE = Table(
    "quarantine",
    "Every input row that was not loaded, with why.",
    (
        Column("file_id", "VARCHAR", "sha256 of the input file"),
        Column("path", "VARCHAR", "file path as given"),
        Column("source", "VARCHAR", "reader"),
        Column("target_table", "VARCHAR", "canonical table the row was meant for"),
        Column("row_no", "BIGINT", "record number in the file"),
        Column("raw", "VARCHAR", "the raw record (JSON object of field -> text)"),
        Column("reasons", "VARCHAR[]", "failed checks: 'check: explanation'"),
        Column("run_id", "VARCHAR", "ingest run"),
    ),
)

FILES = Table(
    "ingested_files",
    "Per-file reconciliation: rows_read = rows_loaded + rows_quarantined + rows_duplicate.",
    (
        Column("file_id", "VARCHAR", "sha256 of the file"),
        Column("path", "VARCHAR", "path as given"),
        Column("source", "VARCHAR", "reader"),
        Column("target_table", "VARCHAR", "canonical table"),
        Column("rows_read", "BIGINT", "records read"),
        Column("rows_loaded", "BIGINT", "records loaded (new or changed)"),
        Column("rows_quarantined", "BIGINT", "records quarantined"),
        Column("rows_duplicate", "BIGINT", "records already present (same key) or repeated in the file"),
        Column("notes", "VARCHAR", "reader notes, e.g. unconfirmed transfers excluded"),
        Column("run_id", "VARCHAR", "ingest run"),
        Column("ingested_at", "TIMESTAMPTZ", "commit time"),
    ),
)

RUNS = Table(
    "runs",
    "Run log: one row per ingest / detect / export run.",
    (
        Column("run_id", "VARCHAR", "uuid"),
        Column("command", "VARCHAR", "ingest | detect | export | run"),
        Column("started_at", "TIMESTAMPTZ", "UTC"),
        Column("finished_at", "TIMESTAMPTZ", "UTC"),
        Column("status", "VARCHAR", "running | ok | failed"),
        Column("params", "JSON", "arguments of the run"),
        Column("summary", "JSON", "counts and notes"),
    ),
)

LOADED_TABLES = {t.name: t for t in (TRANSACTIONS, ACCOUNTS, PARTIES, EVENTS, COMPOUNDS, FX_RATES, DISPOSITIONS_TABLE,
                                      WATCHLIST_ENTITIES)}
ALL_TABLES = (*LOADED_TABLES.values(), QUARANTINE, FILES, RUNS, FX_FILLS)
