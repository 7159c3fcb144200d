"""ISO 20022 bank-to-customer cash management messages: camt.052 (account report), camt.053 (statement) and
camt.054 (debit/credit notification), message versions 001.01 to 001.13 (tested on 001.01 to 001.08).

Each entry (Ntry) becomes one transaction seen from the statement account's side; an entry with several
transaction details (a batch booking) becomes one row per detail (TxDtls) with the detail's own amount.
The counterparty is the debtor (credit entries) or creditor (debit entries) of the related parties, with
the agent's BIC as its institution. Field mapping: docs/statements.md.

The XML is parsed with transforms.sources.xml_safety: no DOCTYPE, no entities, no network, bounded size.

Keys: txn_key = UETR, else end-to-end id, else the account servicer's reference scoped by the statement
account, else the natural key (transforms.ids.txn_key_bank). A camt.053 entry and the camt.054
notification of the same entry carry the same references and so the same key; two banks' statements
of one transfer meet on UETR / end-to-end id. Reversals and returns get a 'rev|' prefix so that they never
collapse into the payment they reverse (they carry its end-to-end id).
"""

from __future__ import annotations

import json
import re
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Any, Iterator

import polars as pl

from transforms import ids
from transforms.errors import InputError
from transforms.schema import CASH_CHANNELS
from transforms.sources import xml_safety
from transforms.sources.base import ReadContext, Reader

CHUNK_ENTRIES = 50_000
CASH_ACCOUNT = "cash"  # same pseudo-account as delimited.CASH_ACCOUNT
NS_RE = re.compile(r"urn:iso:std:iso:20022:tech:xsd:camt\.(05[234])\.001\.(\d{2})")
# the root <Document> (or a prefixed ns:Document) in a camt namespace; an XSD naming the namespace is not one
DOC_RE = re.compile(r"<(?:[\w.-]+:)?Document\b[^>]*?xmlns(?::[\w.-]+)?\s*=\s*[\"']urn:iso:std:iso:20022:tech:xsd:camt\.(05[234])\.001\.(\d{2})")
SUPPORTED_VERSIONS = range(1, 14)
CONTAINER = {"052": "Rpt", "053": "Stmt", "054": "Ntfctn"}
KIND = {"052": "account report", "053": "statement", "054": "debit/credit notification"}

_DECIMAL = re.compile(r"^[0-9]{1,20}(\.[0-9]{1,18})?$")
_IBAN = re.compile(r"^[A-Z]{2}[0-9]{2}[A-Z0-9]{11,30}$")
_BIC = re.compile(r"^[A-Z]{4}[A-Z]{2}[A-Z0-9]{2}([A-Z0-9]{3})?$")
_FRACTION = re.compile(r"(\.\d{6})\d+")
_GVC = re.compile(r"(?:^|\+)(\d{3})(?:\+|$)")

# ---------------------------------------------------------------- bank transaction codes -> channel
CASH_DEPOSIT_SUBFAMILIES = {"CDPT", "BCDP", "FCDP"}  # cash / branch / foreign-currency cash deposit
CASH_WITHDRAWAL_SUBFAMILIES = {"CWDL", "BCWD", "FCWD"}  # cash (ATM) / branch / foreign-currency withdrawal
REVERSAL_SUBFAMILIES = {"RRTN", "RPCR", "UPDD", "PRDD"}  # returns and reversals of earlier payments
FEE_SUBFAMILIES = {"CHRG", "FEES", "COMM", "COME", "COMI", "COMT"}
CHEQUE_FAMILIES = {"ICHQ", "RCHQ", "CCHQ", "DRFT", "ORCQ"}
CARD_FAMILIES = {"CCRD", "MCRD"}
# German GVC codes (in camt Prtry codes like 'NMSC+082+...' and in MT940 :86:)
GVC_CHANNEL = {"082": "cash_deposit", "083": "cash_withdrawal", "805": "fee", "808": "fee", "809": "fee"}
GVC_REVERSAL = {"059", "159", "109"}


def channel_from_iso(domain: str | None, family: str | None, sub: str | None, proprietary: str | None) -> str:
    d, f, s = (domain or "").upper(), (family or "").upper(), (sub or "").upper()
    if s in CASH_DEPOSIT_SUBFAMILIES:
        return "cash_deposit"
    if s in CASH_WITHDRAWAL_SUBFAMILIES:
        return "cash_withdrawal"
    if proprietary:
        m = _GVC.search(proprietary.strip())
        if m and m.group(1) in GVC_CHANNEL:
            return GVC_CHANNEL[m.group(1)]
    if s in FEE_SUBFAMILIES or f == "CHRG":
        return "fee"
    if f in CHEQUE_FAMILIES:
        return "cheque"
    if f in CARD_FAMILIES:
        return "card"
    if s == "XBCT":
        return "wire"
    if d == "PMNT" or not (d or f or s):
        return "transfer"
    return "other"


# ---------------------------------------------------------------- small value helpers
def to_utc(text: str | None) -> datetime | None:
    """ISO date or date-time -> aware UTC datetime; a time without offset is taken as UTC."""
    if not text:
        return None
    t = _FRACTION.sub(r"\1", text.strip())
    try:
        if len(t) == 10:
            d = date.fromisoformat(t)
            return datetime(d.year, d.month, d.day, tzinfo=timezone.utc)
        dt = datetime.fromisoformat(t.replace("Z", "+00:00"))
    except ValueError:
        return None
    if dt.tzinfo is None:
        return dt.replace(tzinfo=timezone.utc)
    return dt.astimezone(timezone.utc)


def country_of(account: str | None, bic: str | None) -> str | None:
    a = (account or "").replace(" ", "").upper()
    if _IBAN.match(a):
        return a[:2]
    b = (bic or "").upper()
    if _BIC.match(b):
        return b[4:6]
    return None


def clean_bic(value: str | None) -> str | None:
    v = (value or "").strip().upper()
    return v or None


# ---------------------------------------------------------------- frame builder shared with mt940.py
ROW_SCHEMA: dict[str, Any] = {
    "row_no": pl.Int64,
    "raw": pl.Utf8,
    "errors": pl.List(pl.Utf8),
    "stmt_no": pl.Utf8,  # statement account number or IBAN
    "stmt_inst": pl.Utf8,  # its servicer (BIC or bank code)
    "stmt_name": pl.Utf8,
    "cp_no": pl.Utf8,
    "cp_inst": pl.Utf8,
    "cp_name": pl.Utf8,
    "out": pl.Boolean,  # True: money left the statement account
    "amount": pl.Utf8,
    "currency": pl.Utf8,
    "booked_at": pl.Datetime("us", "UTC"),
    "value_date": pl.Date,
    "channel": pl.Utf8,
    "reference": pl.Utf8,
    "end_to_end_id": pl.Utf8,
    "uetr": pl.Utf8,
    "native_id": pl.Utf8,
    "source_txn_id": pl.Utf8,
    "bank_tx_code": pl.Utf8,
    "is_reversal": pl.Boolean,
}


def statement_frame(rows: list[dict]) -> pl.DataFrame:
    """Rows of one statement reader (plain dicts with ROW_SCHEMA keys) -> canonical transaction columns."""
    f = pl.DataFrame(rows, schema=ROW_SCHEMA)
    c = pl.col
    stmt_id = ids.bank_account_id(c("stmt_no"), c("stmt_inst"))
    cp_id = ids.bank_account_id(c("cp_no"), c("cp_inst"))
    is_cash = c("channel").is_in(list(CASH_CHANNELS))
    f = f.with_columns(
        _stmt=stmt_id,
        _cp=pl.when(cp_id.is_null() & is_cash).then(pl.lit(CASH_ACCOUNT)).otherwise(cp_id),
        _stmt_country=_country_expr(c("stmt_no"), c("stmt_inst")),
        _cp_country=_country_expr(c("cp_no"), c("cp_inst")),
    )
    o = c("out")
    frm = pl.when(o).then(c("_stmt")).otherwise(c("_cp"))
    to = pl.when(o).then(c("_cp")).otherwise(c("_stmt"))
    cp_inst = pl.when(c("_cp") != CASH_ACCOUNT).then(c("cp_inst"))
    natural = ids.txn_key_natural(c("booked_at"), frm, to, c("amount"), c("currency"))
    key = ids.txn_key_bank(c("uetr"), c("end_to_end_id"), c("_stmt"), c("native_id"), natural)
    return f.select(
        "row_no",
        "raw",
        "errors",
        pl.when(c("is_reversal")).then(pl.lit("rev|") + key).otherwise(key).alias("txn_key"),
        "source_txn_id",
        pl.lit("bank").alias("rail"),
        "booked_at",
        "value_date",
        frm.alias("from_account_id"),
        to.alias("to_account_id"),
        "amount",
        "currency",
        "channel",
        "reference",
        pl.when(o).then(c("stmt_name")).otherwise(c("cp_name")).alias("from_name"),
        pl.when(o).then(c("cp_name")).otherwise(c("stmt_name")).alias("to_name"),
        pl.when(o).then(c("stmt_inst")).otherwise(cp_inst).alias("from_institution"),
        pl.when(o).then(cp_inst).otherwise(c("stmt_inst")).alias("to_institution"),
        pl.when(o).then(c("_stmt_country")).otherwise(c("_cp_country")).alias("from_country"),
        pl.when(o).then(c("_cp_country")).otherwise(c("_stmt_country")).alias("to_country"),
        "end_to_end_id",
        c("uetr").str.to_lowercase().alias("uetr"),
        "bank_tx_code",
        c("is_reversal").fill_null(False).alias("is_reversal"),
    )


def _country_expr(number: pl.Expr, inst: pl.Expr) -> pl.Expr:
    n = number.str.to_uppercase().str.replace_all(r"[\s\-\.]", "")
    i = inst.str.to_uppercase()
    return (
        pl.when(n.str.contains(r"^[A-Z]{2}[0-9]{2}[A-Z0-9]{11,30}$"))
        .then(n.str.slice(0, 2))
        .when(i.str.contains(r"^[A-Z]{6}[A-Z0-9]{2}([A-Z0-9]{3})?$"))
        .then(i.str.slice(4, 2))
    )


def check_amount(text: str | None, field: str, errors: list[str]) -> str | None:
    """Plain positive decimal text, or None with an error."""
    if text is None or not text.strip():
        errors.append(f"{field}: missing")
        return None
    t = text.strip()
    if not _DECIMAL.match(t):
        errors.append(f"{field}: not a plain decimal: '{t[:40]}'")
        return None
    return t


# ---------------------------------------------------------------- the XML walk
class _Paths:
    """Namespaced element paths for one message namespace, built once."""

    def __init__(self, ns: str):
        self.ns = ns
        self._cache: dict[str, str] = {}

    def __call__(self, path: str) -> str:
        p = self._cache.get(path)
        if p is None:
            p = "/".join(f"{{{self.ns}}}{part}" if part not in (".", "..") else part for part in path.split("/"))
            self._cache[path] = p
        return p


def _text(el, path: str) -> str | None:
    v = el.findtext(path)
    if v is None:
        return None
    v = v.strip()
    return v or None


def flatten(el, prefix: str = "", out: dict | None = None, skip: str | None = None) -> dict:
    """Leaf texts and attributes of an element as {'Path/To/Leaf': text}; repeated leaves become lists.

    One walk per entry: the reader then looks fields up in this dict (much faster than one XPath per field)
    and keeps it as the row's `raw` record.
    """
    if out is None:
        out = {}
    for child in el:
        tag = child.tag
        if not isinstance(tag, str):
            continue
        name = tag[tag.index("}") + 1:] if tag[0] == "{" else tag
        if skip and name == skip:
            continue
        key = prefix + name
        if child.attrib:
            for a, v in child.attrib.items():
                _put(out, f"{key}@{a}", v)
        if len(child):
            flatten(child, key + "/", out)
        else:
            text = child.text
            if text:
                text = text.strip()
                if text:
                    _put(out, key, text)
    return out


def _get(d: dict, *keys: str) -> str | None:
    """First non-empty value among keys (the first occurrence of a repeated leaf)."""
    for k in keys:
        v = d.get(k)
        if v is not None:
            return v[0] if isinstance(v, list) else v
    return None


def _all(d: dict, key: str) -> list[str]:
    v = d.get(key)
    return [] if v is None else v if isinstance(v, list) else [v]


def _put(out: dict, key: str, value: str) -> None:
    if key in out:
        old = out[key]
        out[key] = old + [value] if isinstance(old, list) else [old, value]
    else:
        out[key] = value


class CamtReader(Reader):
    table = "transactions"
    priority = 60
    detect_order = 20
    message = "053"

    def detect(self, path: Path, head: str, ctx: ReadContext) -> bool:
        m = DOC_RE.search(head)
        return m is not None and m.group(1) == self.message

    def read(self, path: Path, ctx: ReadContext) -> Iterator[pl.DataFrame]:
        kind = f"camt.{self.message}"
        container = CONTAINER[self.message]
        rows: list[dict] = []
        p: _Paths | None = None
        stmt: dict | None = None
        n_containers = 0
        n_entries = 0
        pending = unsplit = 0
        row_no = 0
        tags = ("{*}Acct", "{*}Ntry", f"{{*}}{container}")
        for _event, el in xml_safety.iterparse(path, tags):
            if p is None:
                ns = el.tag[1:].split("}", 1)[0] if el.tag.startswith("{") else ""
                m = NS_RE.fullmatch(ns)
                if not m or m.group(1) != self.message:
                    raise InputError(f"namespace '{ns}' is not a {kind} namespace", path=path)
                if int(m.group(2)) not in SUPPORTED_VERSIONS:
                    raise InputError(f"{kind} version 001.{m.group(2)} is not supported (001.01 to 001.13)", path=path)
                p = _Paths(ns)
            name = xml_safety.local(el.tag)
            if name == "Acct":
                parent = el.getparent()
                if parent is not None and xml_safety.local(parent.tag) == container:
                    stmt = _statement_account(el, p, parent)
                continue
            if name == container:
                n_containers += 1
                stmt = None
                el.clear()
                continue
            # Ntry
            n_entries += 1
            if stmt is None:
                parent = el.getparent()
                stmt = {"no": None, "inst": None, "name": None, "id": _text(parent, p("Id")) if parent is not None else None}
            for row in _entry_rows(el, p, stmt):
                row_no += 1
                row["row_no"] = row_no
                rows.append(row)
                if any(e.startswith("status: ") for e in row["errors"]):
                    pending += 1
                if row.pop("batch_unsplit", False):
                    unsplit += 1
            el.clear()
            parent = el.getparent()
            if parent is not None:
                while el.getprevious() is not None:
                    del parent[0]
            if len(rows) >= CHUNK_ENTRIES:
                yield statement_frame(rows)
                rows = []
        if n_containers == 0:
            raise InputError(f"invalid {kind}: no <{container}> element (the message is incomplete)", path=path)
        if n_entries == 0:
            raise InputError(f"{kind} has no entries (<Ntry>): balances only, nothing to load", path=path)
        if pending:
            ctx.notes.append(f"{pending} pending or information-only entries not loaded (quarantined with status reason)")
        if unsplit:
            ctx.notes.append(f"{unsplit} batch entries kept as one row each (their details carry no amounts)")
        if rows:
            yield statement_frame(rows)


def _account_number(acct_el, p: _Paths) -> str | None:
    if acct_el is None:
        return None
    return _acct(flatten(acct_el), "")


def _acct(d: dict, prefix: str) -> str | None:
    return _get(d, f"{prefix}Id/IBAN", f"{prefix}Id/Othr/Id", f"{prefix}Id/PrtryAcct/Id", f"{prefix}Id/BBAN",
                f"{prefix}Id/UPIC")


def _agent(d: dict, prefix: str) -> str | None:
    return clean_bic(_get(d, f"{prefix}FinInstnId/BICFI", f"{prefix}FinInstnId/BIC", f"{prefix}FinInstnId/ClrSysMmbId/MmbId",
                          f"{prefix}FinInstnId/Othr/Id"))


def _statement_account(acct, p: _Paths, container_el) -> dict:
    d = flatten(acct)
    return {
        "no": _acct(d, ""),
        "inst": _agent(d, "Svcr/"),
        "name": _get(d, "Nm", "Ownr/Nm", "Ownr/Pty/Nm"),
        "id": _text(container_el, p("Id")),
    }


def _code(d: dict, prefix: str = "") -> tuple[str | None, str | None, str | None, str | None]:
    return (
        _get(d, f"{prefix}BkTxCd/Domn/Cd"),
        _get(d, f"{prefix}BkTxCd/Domn/Fmly/Cd"),
        _get(d, f"{prefix}BkTxCd/Domn/Fmly/SubFmlyCd"),
        _get(d, f"{prefix}BkTxCd/Prtry/Cd"),
    )


def _code_text(code: tuple) -> str | None:
    d, f, s, prtry = code
    iso = "/".join(x for x in (d, f, s) if x) or None
    if iso and prtry:
        return f"{iso}; {prtry}"
    return iso or prtry


def _entry_rows(ntry, p: _Paths, stmt: dict) -> list[dict]:
    e = flatten(ntry, skip="NtryDtls")
    errors: list[str] = []
    amount = check_amount(_get(e, "Amt"), "amount", errors)
    currency = (_get(e, "Amt@Ccy") or "").strip().upper()
    if "Amt" in e and not currency:
        errors.append("currency: missing (Amt/@Ccy)")
    cdi = _get(e, "CdtDbtInd")
    if cdi not in ("CRDT", "DBIT"):
        errors.append(f"direction: CdtDbtInd must be CRDT or DBIT, got '{cdi or ''}'")
    out = True if cdi == "DBIT" else False if cdi == "CRDT" else None
    status = _get(e, "Sts", "Sts/Cd")
    if status and status.upper() != "BOOK":
        errors.append(f"status: entry is {status} (not booked); only booked entries are transactions")
    booked_raw = _get(e, "BookgDt/DtTm", "BookgDt/Dt")
    booked_at = to_utc(booked_raw)
    if booked_raw is None:
        errors.append("booked_at: entry has no booking date (BookgDt)")
    elif booked_at is None:
        errors.append(f"booked_at: not an ISO date or date-time: '{booked_raw[:40]}'")
    val_raw = _get(e, "ValDt/Dt", "ValDt/DtTm")
    value_date = date.fromisoformat(val_raw[:10]) if val_raw and to_utc(val_raw) is not None else None  # bank's day
    if stmt.get("no") is None:
        errors.append("account: the statement has no account identification (Acct/Id)")
    reversal = (_get(e, "RvslInd") or "").lower() in ("true", "1")
    entry_ref = _get(e, "AcctSvcrRef")
    entry_code = _code(e)
    entry_info = _get(e, "AddtlNtryInf")

    details = ntry.findall(p("NtryDtls/TxDtls")) or ntry.findall(p("TxDtls"))
    e["Stmt/Id"] = stmt.get("id")
    e["Stmt/Acct"] = stmt.get("no")
    if not details:
        batch = ntry.find(p("NtryDtls/Btch"))
        if batch is not None:
            e.update({f"Btch/{k}": v for k, v in flatten(batch).items()})
        return [_row(stmt, errors, amount, currency, out, booked_at, value_date, reversal, entry_ref, entry_code,
                     entry_info, None, e)]
    flat = [flatten(tx) for tx in details]
    many = len(details) > 1
    if many and any("Amt" not in d and "AmtDtls/TxAmt/Amt" not in d for d in flat):
        # The details carry no amounts of their own: they cannot be split, so the entry stays one row and
        # keeps what all its details agree on (counterparty, references).
        parts = [_row(stmt, list(errors), amount, currency, out, booked_at, value_date, reversal, entry_ref,
                      entry_code, entry_info, d, None) for d in flat]
        row = parts[0]
        for k in ("cp_no", "cp_inst", "cp_name", "end_to_end_id", "uetr"):
            if any(x[k] != row[k] for x in parts):
                row[k] = None
        refs = list(dict.fromkeys(x["reference"] for x in parts if x["reference"]))
        row["reference"] = " / ".join(refs) or entry_info
        row["source_txn_id"] = entry_ref or row["end_to_end_id"] or row["uetr"]
        row["batch_unsplit"] = True
        e["TxDtls"] = flat
        row["raw"] = json.dumps(e, ensure_ascii=False)
        return [row]
    rows = []
    for i, d in enumerate(flat, start=1):
        errs = list(errors)
        d_amount, d_currency = amount, currency
        if many:
            key = "Amt" if "Amt" in d else "AmtDtls/TxAmt/Amt"
            d_amount = check_amount(_get(d, key), "amount", errs)
            d_currency = (_get(d, key + "@Ccy") or "").strip().upper()
            if not d_currency:
                errs.append("currency: missing on the batch detail amount")
        ref = _get(d, "Refs/AcctSvcrRef") or (f"{entry_ref}/{i}" if entry_ref and many else entry_ref)
        code = _code(d)
        if not any(code):
            code = entry_code
        raw = dict(e)
        raw.update({f"TxDtls/{k}": v for k, v in d.items()})
        if many:
            raw["TxDtls#"] = f"{i} of {len(details)}"
        rows.append(_row(stmt, errs, d_amount, d_currency, out, booked_at, value_date, reversal, ref, code, entry_info,
                         d, raw))
    return rows


def _row(stmt, errors, amount, currency, out, booked_at, value_date, reversal, ref, code, entry_info, tx, raw):
    e2e = uetr = tx_id = None
    reference = entry_info
    cp_no = cp_inst = cp_name = None
    if code[2] and code[2].upper() in REVERSAL_SUBFAMILIES:
        reversal = True
    prtry = code[3]
    if prtry:
        m = _GVC.search(prtry)
        if m and m.group(1) in GVC_REVERSAL:
            reversal = True
    if tx is not None:
        e2e = _get(tx, "Refs/EndToEndId")
        if e2e and e2e.upper() in ("NOTPROVIDED", "NONREF"):
            e2e = None
        uetr = _get(tx, "Refs/UETR")
        tx_id = _get(tx, "Refs/TxId")
        # The counterparty: the creditor of a debit, the debtor of a credit; a reversal swaps them back.
        # The side whose account is the statement's own account is never the counterparty.
        side_out = (out is True) != reversal
        first, second = ("Cdtr", "Dbtr") if side_out else ("Dbtr", "Cdtr")
        own = (stmt.get("no") or "").replace(" ", "").upper()
        acct_first = _acct(tx, f"RltdPties/{first}Acct/")
        acct_second = _acct(tx, f"RltdPties/{second}Acct/")
        chosen = first
        if own and acct_first and acct_first.replace(" ", "").upper() == own and acct_second and \
                acct_second.replace(" ", "").upper() != own:
            chosen = second
        cp_no = acct_first if chosen == first else acct_second
        cp_name = _get(tx, f"RltdPties/{chosen}/Nm", f"RltdPties/{chosen}/Pty/Nm", f"RltdPties/Ultmt{chosen}/Nm",
                       f"RltdPties/Ultmt{chosen}/Pty/Nm")
        cp_inst = _agent(tx, f"RltdAgts/{chosen}Agt/")
        texts = _all(tx, "RmtInf/Ustrd") or (_all(tx, "RmtInf/Strd/CdtrRefInf/Ref") + _all(tx, "RmtInf/Strd/AddtlRmtInf"))
        reference = " ".join(texts) if texts else (_get(tx, "AddtlTxInf") or entry_info)
    return {
        "raw": json.dumps(raw, ensure_ascii=False) if raw is not None else None,
        "errors": errors,
        "stmt_no": stmt.get("no"),
        "stmt_inst": stmt.get("inst"),
        "stmt_name": stmt.get("name"),
        "cp_no": cp_no,
        "cp_inst": cp_inst,
        "cp_name": cp_name,
        "out": out,
        "amount": amount,
        "currency": currency or None,
        "booked_at": booked_at,
        "value_date": value_date,
        "channel": channel_from_iso(*code),
        "reference": reference,
        "end_to_end_id": e2e,
        "uetr": uetr,
        "native_id": ref,
        "source_txn_id": ref or tx_id or e2e or uetr,
        "bank_tx_code": _code_text(code),
        "is_reversal": reversal,
    }


class Camt053Reader(CamtReader):
    name = "camt053"
    message = "053"


class Camt052Reader(CamtReader):
    name = "camt052"
    message = "052"


class Camt054Reader(CamtReader):
    name = "camt054"
    message = "054"


READERS = [Camt053Reader(), Camt052Reader(), Camt054Reader()]
