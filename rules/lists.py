"""listed_addresses: watched wallets and accounts, from the compounds registry and sanctions files.

A deployment names its lists in the config (`listed_addresses.files`, paths relative to the config file).
Accepted files:
  - OFAC SDN exports (sdn.csv, SDN.XML, ...): every "Digital Currency Address - <CODE> <address>" is taken;
  - CSV with a header holding `address` or `account_id` (optional `chain`, `list_name`);
  - plain text: one `chain:address` or bare address per line, `#` comments.
Addresses are written in the store's account id form (chain:address, EVM lower-cased; see transforms/ids.py).
Accounts that the KYC / attribution extract itself marks as sanctioned (accounts.kind in SANCTIONED_KINDS, e.g. a
VASP's screening label) are listed too, as list `kyc_sanctioned` (source `accounts.kind`), with the compounds.
"""

from __future__ import annotations

import csv
import re
from pathlib import Path

import duckdb

from rules.spec import DeployConfig, SpecError
from transforms import store
from transforms.ids import OFAC_CODES, account_ids

SANCTIONED_KINDS = ("sanctioned",)  # accounts.kind values that list an account (list_name kyc_sanctioned)
_OFAC = re.compile(r"Digital Currency Address - ([A-Z0-9]+)\s+([A-Za-z0-9]{20,120})")


def read_list_file(path: Path) -> list[tuple[str, str]]:
    """(account_id, list_name) pairs from one list file."""
    text = path.read_text(encoding="utf-8", errors="replace")
    name = "ofac_sdn" if _OFAC.search(text) else path.stem
    out: list[tuple[str, str]] = []
    if _OFAC.search(text):
        for code, addr in _OFAC.findall(text):
            out += [(a, name) for a in account_ids(addr, OFAC_CODES.get(code))]
        return out
    lines = text.splitlines()
    if path.suffix.lower() == ".csv" and lines:
        reader = csv.DictReader(lines)
        fields = {f.strip().lower(): f for f in reader.fieldnames or []}
        key = fields.get("account_id") or fields.get("address")
        if key is None:
            raise SpecError(f"{path}: a list CSV needs an 'address' or 'account_id' column")
        for row in reader:
            value = (row.get(key) or "").strip()
            if not value:
                continue
            chain = (row.get(fields["chain"]) or "").strip() or None if "chain" in fields else None
            list_name = (row.get(fields["list_name"]) or "").strip() if "list_name" in fields else ""
            out += [(a, list_name or name) for a in account_ids(value, chain)]
        return out
    for line in lines:
        line = line.split("#", 1)[0].strip()
        if line:
            out += [(a, name) for a in account_ids(line)]
    return out


def refresh_listed_addresses(con: duckdb.DuckDBPyConnection, cfg: DeployConfig) -> int:
    """Rebuild listed_addresses from the compounds table and the config's files. Returns the row count."""
    rows: list[list] = []
    for f in cfg.listed_addresses.files:
        path = Path(f)
        if not path.is_absolute() and cfg.base_dir is not None:
            path = cfg.base_dir / path
        if not path.exists():
            raise SpecError(f"listed_addresses.files: {path} not found")
        rows += [[a, n, None, str(path), 1.0] for a, n in read_list_file(path)]
    with store.transaction(con):
        con.execute("DELETE FROM listed_addresses")
        if cfg.listed_addresses.include_compounds:
            compound_rows = con.execute(
                """
                SELECT compound_id, unnest(coalesce(wallets, []) || coalesce(accounts, [])) AS entry,
                       coalesce(confidence, 1.0)
                FROM compounds
                """
            ).fetchall()
            for cid, entry, conf in compound_rows:
                if entry:
                    rows += [[a, "compounds", cid, "compounds", conf] for a in account_ids(entry)]
            kinds = list(SANCTIONED_KINDS)
            for (acc,) in con.execute("SELECT DISTINCT account_id FROM accounts WHERE list_contains(?, kind)", [kinds]).fetchall():
                rows.append([acc, "kyc_sanctioned", None, "accounts.kind", 1.0])
        if rows:
            con.executemany("INSERT INTO listed_addresses VALUES (?, ?, ?, ?, ?)", rows)
    return len(rows)
