"""Identifiers: how accounts and transactions are named, so that two extracts of the same thing meet.

Account ids
  bank, with IBAN:      the IBAN, upper case, no spaces (globally unique)
  bank, other:          INSTITUTION:NUMBER, institution upper case, number without spaces or dashes
  crypto:               chain:address, EVM addresses lower-cased (hex is case-insensitive), TRON kept as is
Transaction keys (hashed into txn_id by the loader)
  UETR or end-to-end id when present (the same transfer seen by both banks meets here),
  else institution + the extract's own id, else the natural key (time, accounts, amount, currency).
"""

from __future__ import annotations

import re

import polars as pl

from transforms.sources.fields import canonical_amount

_IBAN = r"^[A-Z]{2}[0-9]{2}[A-Z0-9]{11,30}$"


def bank_account_id(number: pl.Expr, institution: pl.Expr) -> pl.Expr:
    n = number.str.to_uppercase().str.replace_all(r"[\s\-\.]", "")
    inst = institution.str.strip_chars().str.to_uppercase()
    return (
        pl.when(n.is_null() | (n == ""))
        .then(None)
        .when(n.str.contains(_IBAN))
        .then(n)
        .when(inst.is_null() | (inst == ""))
        .then(n)
        .otherwise(inst + pl.lit(":") + n)
    )


def crypto_account_id(chain: str, address: pl.Expr) -> pl.Expr:
    a = address.str.strip_chars()
    if chain in EVM_CHAINS:
        a = a.str.to_lowercase()
    return pl.when(a.is_null() | (a == "")).then(None).otherwise(pl.lit(f"{chain}:") + a)


EVM_CHAINS = {"ethereum", "bsc", "polygon", "arbitrum", "optimism", "base", "avalanche"}


def txn_key_native(scope: pl.Expr | str, native_id: pl.Expr) -> pl.Expr:
    scope_expr = pl.lit(scope) if isinstance(scope, str) else scope
    return pl.lit("id|") + scope_expr + pl.lit("|") + native_id.str.strip_chars()


def txn_key_natural(
    booked_at: pl.Expr, from_id: pl.Expr, to_id: pl.Expr, amount_text: pl.Expr, currency: pl.Expr
) -> pl.Expr:
    return pl.concat_str(
        [
            pl.lit("nat"),
            booked_at.dt.strftime("%Y-%m-%dT%H:%M:%S"),
            from_id,
            to_id,
            canonical_amount(amount_text),
            currency,
        ],
        separator="|",
        ignore_nulls=True,
    )


def txn_key_bank(
    uetr: pl.Expr, end_to_end_id: pl.Expr, scope: pl.Expr | str, native_id: pl.Expr, natural: pl.Expr
) -> pl.Expr:
    """Precedence: UETR, end-to-end id (unless the 'NOTPROVIDED' placeholder), native id, natural key."""
    has_uetr, has_e2e, has_native = _bank_ids(uetr, end_to_end_id, native_id)
    return (
        pl.when(has_uetr)
        .then(pl.lit("uetr|") + uetr.str.strip_chars().str.to_lowercase())
        .when(has_e2e)
        .then(pl.lit("e2e|") + end_to_end_id.str.strip_chars())
        .when(has_native)
        .then(txn_key_native(scope, native_id))
        .otherwise(natural)
    )


def has_bank_id(uetr: pl.Expr, end_to_end_id: pl.Expr, native_id: pl.Expr) -> pl.Expr:
    """True where txn_key_bank keys the row by an id the bank gave, so that it needs no natural key."""
    has_uetr, has_e2e, has_native = _bank_ids(uetr, end_to_end_id, native_id)
    return has_uetr | has_e2e | has_native


def _bank_ids(uetr: pl.Expr, end_to_end_id: pl.Expr, native_id: pl.Expr) -> tuple[pl.Expr, pl.Expr, pl.Expr]:
    e2e = end_to_end_id.str.strip_chars()
    return (
        (uetr.is_not_null() & (uetr.str.strip_chars() != "")).fill_null(False),
        (e2e.is_not_null() & (e2e != "") & (e2e.str.to_uppercase() != "NOTPROVIDED")).fill_null(False),
        (native_id.is_not_null() & (native_id.str.strip_chars() != "")).fill_null(False),
    )


def txn_key_crypto(chain: str, tx_hash: pl.Expr, from_id: pl.Expr, to_id: pl.Expr, amount_text: pl.Expr, token: pl.Expr) -> pl.Expr:
    """One hash can move several tokens; the transfer is the hash plus its endpoints, token and amount."""
    h = tx_hash.str.strip_chars()
    if chain in EVM_CHAINS:
        h = h.str.to_lowercase()
    return pl.concat_str(
        [pl.lit(f"tx|{chain}"), h, from_id, to_id, token, canonical_amount(amount_text)],
        separator="|",
        ignore_nulls=True,
    )


def txn_id_from_key(txn_key: str) -> str:
    """The txn_id the loader derives from a key (transforms/load.py does the same in SQL: 't' || sha256[:32])."""
    import hashlib

    return "t" + hashlib.sha256(txn_key.encode("utf-8")).hexdigest()[:32]


# ------------------------------------------------------------------------------------ listed addresses
# OFAC "Digital Currency Address - CODE" codes -> chain names used in account ids
OFAC_CODES = {
    "XBT": "bitcoin", "BTC": "bitcoin", "ETH": "ethereum", "TRX": "tron", "LTC": "litecoin", "BCH": "bitcoin_cash",
    "BSC": "bsc", "ARB": "arbitrum", "ETC": "ethereum_classic", "XMR": "monero", "DASH": "dash", "ZEC": "zcash",
    "BTG": "bitcoin_gold", "XVG": "verge", "SOL": "solana", "XRP": "ripple", "USDC": None, "USDT": None,
}
_EVM = re.compile(r"^0x[0-9a-fA-F]{40}$")
_TRON = re.compile(r"^T[1-9A-HJ-NP-Za-km-z]{33}$")
_BTC = re.compile(r"^(bc1[0-9a-z]{20,90}|[13][1-9A-HJ-NP-Za-km-z]{25,34})$")


def account_ids(address: str, chain: str | None = None) -> list[str]:
    """Canonical account ids for a listed address (sanctions lists, registries) (EVM addresses: one per EVM chain, as tokens move on all)."""
    address = address.strip()
    if ":" in address and chain is None:  # already an account id: chain:address or INSTITUTION:NUMBER
        prefix, rest = address.split(":", 1)
        return [f"{prefix.lower()}:{rest.lower()}"] if prefix.lower() in EVM_CHAINS else [address]
    if chain:
        chain = chain.strip().lower()
    if chain is None or chain in EVM_CHAINS:
        if _EVM.match(address):
            chains = [chain] if chain else sorted(EVM_CHAINS)
            return [f"{c}:{address.lower()}" for c in chains]
    if chain is None:
        if _TRON.match(address):
            chain = "tron"
        elif _BTC.match(address):
            chain = "bitcoin"
        else:
            return [address]  # a bank account id or an unknown format: kept as given
    return [f"{chain}:{address}"]
