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

import io
import json
import mmap
import re
import threading
from collections import deque
from concurrent.futures import ThreadPoolExecutor
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Any, Iterator

import polars as pl
from lxml import etree

from transforms import ids
from transforms.errors import InputError
from transforms.schema import CASH_CHANNELS
from transforms.sources import camt_shapes, xml_chunks, xml_safety
from transforms.sources.base import ReadContext, Reader

CHUNK_ENTRIES = 10_000  # entries per parsed chunk of a large file (xml_chunks); a chunk tree is ~10 KB an entry
CASH_ACCOUNT = "cash"  # same pseudo-account as delimited.CASH_ACCOUNT
NS_RE = re.compile(r"urn:iso:std:iso:20022:tech:xsd:camt\.(05[234])\.001\.(\d{2})")
# the root <Document> (or a prefixed ns:Document) in a camt namespace; an XSD naming the namespace is not one
DOC_RE = re.compile(r"<(?:[\w.-]+:)?Document\b[^>]*?xmlns(?::[\w.-]+)?\s*=\s*[\"']urn:iso:std:iso:20022:tech:xsd:camt\.(05[234])\.001\.(\d{2})")
SUPPORTED_VERSIONS = range(1, 14)
CONTAINER = {"052": "Rpt", "053": "Stmt", "054": "Ntfctn"}
KIND = {"052": "account report", "053": "statement", "054": "debit/credit notification"}

_DECIMAL = re.compile(r"^[0-9]{1,20}(\.[0-9]{1,18})?$")
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


def channel_expr(domain: pl.Expr, family: pl.Expr, sub: pl.Expr, proprietary: pl.Expr) -> pl.Expr:
    """Bank transaction code (ISO domain / family / sub-family, or a proprietary code) -> channel."""
    d, f, s = (x.fill_null("").str.to_uppercase() for x in (domain, family, sub))
    gvc = proprietary.str.strip_chars().str.extract(_GVC.pattern, 1)
    out = (
        pl.when(s.is_in(list(CASH_DEPOSIT_SUBFAMILIES))).then(pl.lit("cash_deposit"))
        .when(s.is_in(list(CASH_WITHDRAWAL_SUBFAMILIES))).then(pl.lit("cash_withdrawal"))
    )
    for code, channel in GVC_CHANNEL.items():
        out = out.when(gvc == code).then(pl.lit(channel))
    return (
        out.when(s.is_in(list(FEE_SUBFAMILIES)) | (f == "CHRG")).then(pl.lit("fee"))
        .when(f.is_in(list(CHEQUE_FAMILIES))).then(pl.lit("cheque"))
        .when(f.is_in(list(CARD_FAMILIES))).then(pl.lit("card"))
        .when(s == "XBCT").then(pl.lit("wire"))
        .when((d == "PMNT") | ((d == "") & (f == "") & (s == ""))).then(pl.lit("transfer"))
        .otherwise(pl.lit("other"))
    )


def channel_from_iso(domain: str | None, family: str | None, sub: str | None, proprietary: str | None) -> str:
    """channel_expr for one code."""
    frame = pl.DataFrame({"d": [domain], "f": [family], "s": [sub], "p": [proprietary]}, schema={k: pl.Utf8 for k in "dfsp"})
    return frame.select(channel_expr(pl.col("d"), pl.col("f"), pl.col("s"), pl.col("p")))[0, 0]


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
    try:
        return dt.astimezone(timezone.utc)
    except OverflowError:  # year 1 or 9999 with an offset that leaves the calendar
        return None


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


def statement_frame(rows: list[dict] | pl.DataFrame) -> pl.DataFrame:
    """Rows of one statement reader (ROW_SCHEMA columns, or plain dicts with its keys) -> canonical transaction
    columns."""
    if isinstance(rows, pl.DataFrame):
        f = rows.select([pl.col(k).cast(t) for k, t in ROW_SCHEMA.items()])
    else:
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


# ---------------------------------------------------------------- the XML walk
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


def _put(out: dict, key: str, value: str) -> None:
    if key in out:
        old = out[key]
        out[key] = old + [value] if isinstance(old, list) else [old, value]
    else:
        out[key] = value


# ---------------------------------------------------------------- the fast path: XSLT rows, polars columns
XSLT_FILE = Path(__file__).with_name("camt_rows.xsl")
# The stylesheet's separators: private-use characters, which bank data does not carry; a file that does gets
# another set (_separators).
SEPARATOR_SETS = (("\ue000", "\ue001", "\ue002"), ("\uf8fd", "\uf8fe", "\uf8ff"), ("\ue100", "\ue101", "\ue102"))
# A field read from the first non-blank of several alternatives: the stylesheet writes each alternative as a column of
# its own (name_1, name_2, ... in this order; the values of all its elements, as a repeated leaf's) and _tidy picks.
ALTERNATIVES = {
    "s_no": 5, "s_inst": 4, "s_name": 3,  # Acct/Id: IBAN, Othr/Id, PrtryAcct/Id, BBAN, UPIC; Svcr: BICFI, BIC, ...
    "cdtr_acct": 5, "dbtr_acct": 5, "cdtr_nm": 4, "dbtr_nm": 4, "cdtr_agt": 4, "dbtr_agt": 4,
}


def _fields(*names: str) -> tuple[str, ...]:
    return tuple(x for n in names for x in ([f"{n}_{i}" for i in range(1, ALTERNATIVES[n] + 1)] if n in ALTERNATIVES else [n]))


RECORD_COLUMNS = _fields(
    "kind", "s_id", "s_no", "s_inst", "s_name",
    "e_amt", "e_ccy", "e_cdi", "e_sts", "e_booked_dttm", "e_booked_dt", "e_value_dt", "e_value_dttm", "e_rvsl",
    "e_ref", "e_dom", "e_fam", "e_sub", "e_prtry", "e_info",
    "d_i", "d_amt", "d_ccy", "d_txamt", "d_txamt_ccy", "d_ref", "d_e2e", "d_uetr", "d_txid",
    "d_dom", "d_fam", "d_sub", "d_prtry", "cdtr_acct", "dbtr_acct", "cdtr_nm", "dbtr_nm", "cdtr_agt", "dbtr_agt",
    "ustrd", "strd_ref", "strd_addtl", "addtl_tx_inf",
)
_PICKED_FROM = tuple(f"{n}_{i}" for n, k in ALTERNATIVES.items() for i in range(1, k + 1))
# blank as XPath's normalize-space sees it, with the no-break spaces that banks pad with counted as spaces too
_BLANK = " \t\r\n\u00a0\u2007\u202f\u3000"
MULTI_COLUMNS = ("ustrd", "strd_ref", "strd_addtl")
ATTRIBUTE_COLUMNS = ("e_ccy", "d_ccy", "d_txamt_ccy")  # Amt/@Ccy: the only attributes the stylesheet reads
_compiled = threading.local()  # an XSLT object per thread: lxml does not share one across threads


def _stylesheet(ns: str, container: str, seps: tuple[str, ...]) -> etree.XSLT:
    _stylesheets = _compiled.__dict__.setdefault("sheets", {})
    key = (ns, container, seps)
    if key not in _stylesheets:
        text = XSLT_FILE.read_text(encoding="utf-8").replace('xmlns:c="NS"', f'xmlns:c="{ns}"')
        text = text.replace("c:CONTAINER", f"c:{container}")
        for placeholder, sep in zip(SEPARATOR_SETS[0], seps):
            text = text.replace(f"&#x{ord(placeholder):X};", f"&#x{ord(sep):X};")
        _stylesheets[key] = etree.XSLT(etree.XML(text.encode("utf-8")))
    return _stylesheets[key]


_CHAR_REF = re.compile(rb"&#(?:[xX]([0-9a-fA-F]{1,6})|([0-9]{1,7}));")


def _separators(path: Path) -> tuple[str, ...] | None:
    """The first separator set none of whose characters occur in the file's text, written as the character or as
    a character reference (None: every set occurs)."""
    if path.stat().st_size:
        with open(path, "rb") as fh, mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ) as data:
            if data.find(b"\xee") < 0 and data.find(b"\xef") < 0 and data.find(b"&#") < 0:
                return SEPARATOR_SETS[0]  # the usual file: no private-use character at all, not even as a reference
    used: set[str] = set()
    wanted = {ch for sep in SEPARATOR_SETS for ch in sep}
    marks = {ch: ch.encode() for ch in wanted}
    with open(path, "rb") as fh:
        tail = b""
        for block in iter(lambda: fh.read(1 << 24), b""):
            window = tail + block
            if b"\xee" in window or b"\xef" in window:  # the lead byte of every private-use character used
                used |= {ch for ch, m in marks.items() if m in window}
            if b"&#" in window:
                for m in _CHAR_REF.finditer(window):
                    code = int(m.group(1), 16) if m.group(1) else int(m.group(2))
                    if 0xE000 <= code <= 0xF8FF:
                        used.add(chr(code))
            tail = block[-12:]
    free = [sep for sep in SEPARATOR_SETS if not set(sep) & used]
    return free[0] if free else None


def _records(text: bytes, seps: tuple[str, ...]) -> pl.DataFrame:
    """The stylesheet's output -> one string column per field, stripped, blanks as null."""
    field, record, values = (x.encode() for x in seps)
    data = text.replace(field, b"\x1f").replace(record, b"\x1e").replace(values, b"\x1d")
    schema = {c: pl.Utf8 for c in RECORD_COLUMNS}
    if not data.strip(b"\x1e"):
        return _tidy(pl.DataFrame(schema=schema))
    f = pl.read_csv(io.BytesIO(data), separator="\x1f", eol_char="\x1e", quote_char=None, has_header=False,
                    new_columns=list(RECORD_COLUMNS), schema_overrides=schema, infer_schema=False)
    return _tidy(f.with_columns(pl.col(c).str.strip_suffix("\x1d") for c in _PICKED_FROM))  # each value ends so


def _tidy(f: pl.DataFrame) -> pl.DataFrame:
    """The stylesheet's fields (RECORD_COLUMNS; a repeated leaf's values joined by \x1d, none after the last
    value of an alternative) -> the first non-blank of each field's alternatives, values stripped, blanks as
    null, the statement's account on its entries' rows."""
    several = dict(zip(_PICKED_FROM, f.select(pl.col(c).str.contains("\x1d", literal=True).any() for c in _PICKED_FROM).row(0)))

    def first_not_blank(column: str) -> pl.Expr:  # of its values, separated by \x1d when there are several
        first = pl.col(column)
        if several[column]:  # rare: an element given twice where the schema allows it once
            first = first.str.replace(f"^(?:[{_BLANK}]*\x1d)+", "").str.replace("(?s)\x1d.*", "")
        return pl.when(first.str.contains(f"[^{_BLANK}]")).then(first)

    picked = [pl.coalesce([first_not_blank(f"{n}_{i}") for i in range(1, k + 1)]).alias(n) for n, k in ALTERNATIVES.items()]
    f = f.with_columns(picked).drop(_PICKED_FROM)
    single = [pl.col(c).str.strip_chars().replace("", None).alias(c) for c in f.columns if c not in MULTI_COLUMNS]
    multi = [pl.col(c).fill_null("").str.split("\x1d").list.eval(pl.element().str.strip_chars())
             .list.eval(pl.element().filter(pl.element() != "")).alias(c) for c in MULTI_COLUMNS]
    f = f.with_columns(single + multi)
    # each statement record's account goes down to the rows of its entries
    stmt = ["s_id", "s_no", "s_inst", "s_name"]
    is_stmt = (pl.col("kind") == "S").fill_null(False)
    return (f.with_columns([pl.when(is_stmt).then(pl.col(c)).otherwise(None).alias(c) for c in stmt])
            .with_columns([pl.col(c).forward_fill().over(is_stmt.cum_sum()) for c in stmt])
            .filter(~is_stmt).drop("kind"))


def _iso_utc(text: pl.Expr) -> pl.Expr:
    """to_utc in polars for the usual spellings (a date; a date-time with seconds, a fraction and an offset).
    _other_spellings reads the rest with to_utc itself, so every spelling it accepts is read the same."""
    t = text.str.replace(r"(\.\d{6})\d+", "${1}")
    day = r"(?:000[1-9]|00[1-9]\d|0[1-9]\d{2}|[1-9]\d{3})-(?:0[1-9]|1[0-2])-(?:0[1-9]|[12]\d|3[01])"  # no year 0
    date_only = t.str.contains(f"^{day}$")
    # no leap second (Python refuses :60), and no offset that would leave year 1 or 9999 (to_utc reads those)
    full = t.str.contains("^(?:00(?:0[2-9]|[1-9]\\d)|0[1-9]\\d{2}|[1-8]\\d{3}|9[0-8]\\d{2}|99[0-8]\\d)-"
                          r"(?:0[1-9]|1[0-2])-(?:0[1-9]|[12]\d|3[01])T(?:[01]\d|2[0-3]):[0-5]\d:[0-5]\d(\.\d{1,6})?"
                          r"(Z|[+-]\d{2}:\d{2})?$")
    zoned = pl.when(t.str.contains(r"(Z|[+-]\d{2}:\d{2})$")).then(t.str.replace(r"Z$", "+00:00")).otherwise(t + "+00:00")
    return (
        pl.when(date_only).then(t.str.to_datetime("%Y-%m-%d", time_zone="UTC", strict=False))
        .when(full).then(zoned.str.to_datetime("%Y-%m-%dT%H:%M:%S%.f%:z", time_zone="UTC", strict=False))
    )


def _other_spellings(f: pl.DataFrame, text: pl.Expr, into: str, parse=None, dtype=None) -> pl.DataFrame:
    """Fill `into` for the rows whose text the fast path did not read (rare: one Python call per distinct text);
    parse is to_utc unless given."""
    c = pl.col
    parse = parse or to_utc
    todo = f.select(text.filter(c(into).is_null() & text.is_not_null()).unique()).to_series().to_list()
    if not todo:
        return f
    parsed = pl.DataFrame({"_t": todo, "_v": [parse(x) for x in todo]},
                          schema={"_t": pl.Utf8, "_v": dtype or pl.Datetime("us", "UTC")})
    return (f.with_columns(text.alias("_t")).join(parsed, on="_t", how="left", maintain_order="left")
            .with_columns(pl.coalesce(into, "_v").alias(into)).drop("_t", "_v"))


def _iso_day(text: str) -> date | None:
    try:
        return date.fromisoformat(text[:10])
    except ValueError:
        return None


def _amount_error(text: pl.Expr, field: str) -> pl.Expr:
    """The error text of an amount that is missing or not a plain positive decimal; null when it is one."""
    return (pl.when(text.is_null()).then(pl.lit(f"{field}: missing"))
            .when(~text.str.contains(_DECIMAL.pattern)).then(pl.format(f"{field}: not a plain decimal: '{{}}'", text.str.slice(0, 40))))


def _code_text_expr(d: pl.Expr, f: pl.Expr, s: pl.Expr, prtry: pl.Expr) -> pl.Expr:
    iso = pl.concat_str([d, f, s], separator="/", ignore_nulls=True).replace("", None)
    return pl.when(iso.is_not_null() & prtry.is_not_null()).then(pl.format("{}; {}", iso, prtry)).otherwise(pl.coalesce(iso, prtry))


def _rows(records: pl.DataFrame) -> tuple[pl.DataFrame, int, int]:
    """Stylesheet records -> ROW_SCHEMA rows (raw left null: raw_records gives it for the rows that need it),
    with the number of pending entries and of batch entries kept whole."""
    c = pl.col
    has_detail = c("d_i").is_not_null()
    f = records.with_columns(
        _entry=(c("d_i").is_null() | (c("d_i") == "1")).cum_sum(),
        _n=c("d_i").cast(pl.Int64, strict=False),
    ).with_columns(_n=c("_n").max().over("_entry").fill_null(0))
    many = c("_n") > 1
    lacks_amount = has_detail & c("d_amt").is_null() & c("d_txamt").is_null()
    f = f.with_columns(_unsplit=many & lacks_amount.any().over("_entry"))
    # entry-level checks, in the order the reader has always reported them
    booked_raw = pl.coalesce("e_booked_dttm", "e_booked_dt")
    value_raw = pl.coalesce("e_value_dt", "e_value_dttm")
    status = c("e_sts")
    f = f.with_columns(
        _booked=_iso_utc(booked_raw),
        _value=_iso_utc(value_raw),
        _ccy=c("e_ccy").fill_null("").str.strip_chars().str.to_uppercase(),
    )
    f = _other_spellings(_other_spellings(f, booked_raw, "_booked"), value_raw, "_value")
    entry_errors = [
        _amount_error(c("e_amt"), "amount"),
        pl.when(c("e_amt").is_not_null() & (c("_ccy") == "")).then(pl.lit("currency: missing (Amt/@Ccy)")),
        pl.when(~c("e_cdi").fill_null("").is_in(["CRDT", "DBIT"]))
        .then(pl.format("direction: CdtDbtInd must be CRDT or DBIT, got '{}'", c("e_cdi").fill_null(""))),
        pl.when(status.is_not_null() & (status.str.to_uppercase() != "BOOK"))
        .then(pl.format("status: entry is {} (not booked); only booked entries are transactions", status)),
        pl.when(booked_raw.is_null()).then(pl.lit("booked_at: entry has no booking date (BookgDt)"))
        .when(c("_booked").is_null()).then(pl.format("booked_at: not an ISO date or date-time: '{}'", booked_raw.str.slice(0, 40))),
        pl.when(c("s_no").is_null()).then(pl.lit("account: the statement has no account identification (Acct/Id)")),
    ]
    split = many & ~c("_unsplit")
    d_key_amt = pl.when(c("d_amt").is_not_null()).then(c("d_amt")).otherwise(c("d_txamt"))
    d_ccy = (pl.when(c("d_amt").is_not_null()).then(c("d_ccy")).otherwise(c("d_txamt_ccy"))
             .fill_null("").str.strip_chars().str.to_uppercase())
    detail_errors = [
        pl.when(split).then(_amount_error(d_key_amt, "amount")),
        pl.when(split & (d_ccy == "")).then(pl.lit("currency: missing on the batch detail amount")),
    ]
    detail_code = [c("d_dom"), c("d_fam"), c("d_sub"), c("d_prtry")]
    entry_code = [c("e_dom"), c("e_fam"), c("e_sub"), c("e_prtry")]
    use_detail_code = has_detail & ~c("_unsplit") & pl.any_horizontal([x.is_not_null() for x in detail_code])
    code = [pl.when(use_detail_code).then(d).otherwise(e) for d, e in zip(detail_code, entry_code)]
    gvc = c("_prtry").str.extract(_GVC.pattern, 1)
    out = pl.when(c("e_cdi") == "DBIT").then(True).when(c("e_cdi") == "CRDT").then(False)
    f = f.with_columns(
        pl.concat_list([*entry_errors, *detail_errors]).list.drop_nulls().alias("errors"),
        out.alias("out"),
        *[x.alias(n) for x, n in zip(code, ("_dom", "_fam", "_sub", "_prtry"))],
        pl.when(split).then(d_key_amt).otherwise(pl.when(_amount_error(c("e_amt"), "amount").is_null()).then(c("e_amt"))).alias("amount"),
        pl.when(split).then(d_ccy).otherwise(c("_ccy")).replace("", None).alias("currency"),
    ).with_columns(
        # a split detail's amount counts only when it is a plain decimal, as the entry's
        pl.when(split & _amount_error(d_key_amt, "amount").is_not_null()).then(None).otherwise(c("amount")).alias("amount"),
        (c("e_rvsl").fill_null("").str.to_lowercase().is_in(["true", "1"])
         | c("_sub").fill_null("").str.to_uppercase().is_in(list(REVERSAL_SUBFAMILIES))
         | gvc.is_in(list(GVC_REVERSAL)).fill_null(False)).alias("is_reversal"),
    )
    # the counterparty: the creditor of a debit, the debtor of a credit (a reversal swaps them back); the side whose
    # account is the statement's own account is never the counterparty
    side_out = c("out").fill_null(False) != c("is_reversal")
    own = c("s_no").str.replace_all(" ", "").str.to_uppercase()
    acct_first = pl.when(side_out).then(c("cdtr_acct")).otherwise(c("dbtr_acct"))
    acct_second = pl.when(side_out).then(c("dbtr_acct")).otherwise(c("cdtr_acct"))

    def norm(x: pl.Expr) -> pl.Expr:
        return x.str.replace_all(" ", "").str.to_uppercase()

    take_second = (own.fill_null("") != "") & (norm(acct_first) == own).fill_null(False) & \
        acct_second.is_not_null() & (norm(acct_second) != own).fill_null(False)
    creditor = side_out != take_second
    texts = pl.when(c("ustrd").list.len() > 0).then(c("ustrd")).otherwise(pl.concat_list("strd_ref", "strd_addtl"))
    e2e = pl.when(c("d_e2e").str.to_uppercase().is_in(["NOTPROVIDED", "NONREF"])).then(None).otherwise(c("d_e2e"))
    ref = (pl.when(has_detail & ~c("_unsplit")).then(
        pl.coalesce(c("d_ref"), pl.when(many).then(pl.when(c("e_ref").is_not_null()).then(pl.format("{}/{}", c("e_ref"), c("d_i"))))
                    .otherwise(c("e_ref"))))
        .otherwise(c("e_ref")))
    f = f.with_columns(
        pl.when(has_detail).then(pl.when(creditor).then(c("cdtr_acct")).otherwise(c("dbtr_acct"))).alias("cp_no"),
        pl.when(has_detail).then(pl.when(creditor).then(c("cdtr_nm")).otherwise(c("dbtr_nm"))).alias("cp_name"),
        pl.when(has_detail).then(pl.when(creditor).then(c("cdtr_agt")).otherwise(c("dbtr_agt")).str.to_uppercase()).alias("cp_inst"),
        pl.when(has_detail).then(
            pl.when(texts.list.len() > 0).then(texts.list.join(" ")).otherwise(pl.coalesce("addtl_tx_inf", "e_info"))
        ).otherwise(c("e_info")).alias("reference"),
        e2e.alias("end_to_end_id"),
        c("d_uetr").alias("uetr"),
        ref.alias("native_id"),
        channel_expr(c("_dom"), c("_fam"), c("_sub"), c("_prtry")).alias("channel"),
        _code_text_expr(c("_dom"), c("_fam"), c("_sub"), c("_prtry")).alias("bank_tx_code"),
        pl.when(c("_value").is_not_null()).then(value_raw.str.slice(0, 10).str.to_date("%Y-%m-%d", strict=False)).alias("value_date"),
        value_raw.alias("_value_raw"),
    )
    f = f.with_columns(pl.coalesce("native_id", pl.when(has_detail).then(pl.coalesce("d_txid", "end_to_end_id", "uetr")))
                       .alias("source_txn_id"))
    # a value date in another spelling that to_utc reads (20260302, 2026-W10-1): the bank's day, as date.fromisoformat
    f = _other_spellings(f, pl.when(c("_value").is_not_null()).then(c("_value_raw")), "value_date", _iso_day, pl.Date)
    f = _keep_batches_whole(f)
    pending = int(f.select(c("errors").list.eval(pl.element().str.starts_with("status: ")).list.any().sum()).item())
    unsplit = int(f.select(c("_unsplit").sum()).item())
    rows = f.select(
        pl.lit(None, dtype=pl.Utf8).alias("raw"), "errors",
        c("s_no").alias("stmt_no"), c("s_inst").str.to_uppercase().alias("stmt_inst"), c("s_name").alias("stmt_name"),
        "cp_no", "cp_inst", "cp_name", "out", "amount", "currency", c("_booked").alias("booked_at"), "value_date",
        "channel", "reference", "end_to_end_id", "uetr", "native_id", "source_txn_id", "bank_tx_code", "is_reversal",
    )
    return rows, pending, unsplit


def _keep_batches_whole(f: pl.DataFrame) -> pl.DataFrame:
    """A batch entry whose details carry no amounts of their own cannot be split: it stays one row (its first
    detail's) and keeps what all its details agree on (counterparty, references)."""
    c = pl.col
    if not f.select(c("_unsplit").any()).item():
        return f
    agreed = ("cp_no", "cp_inst", "cp_name", "end_to_end_id", "uetr")
    f = f.with_columns(
        *[pl.when(c("_unsplit") & (c(k).n_unique().over("_entry") > 1)).then(None).otherwise(c(k)).alias(k) for k in agreed],
        pl.when(c("_unsplit")).then(
            pl.coalesce(c("reference").drop_nulls().unique(maintain_order=True).str.join(" / ").replace("", None).over("_entry"),
                        c("e_info"))
        ).otherwise(c("reference")).alias("reference"),
    )
    f = f.with_columns(pl.when(c("_unsplit")).then(pl.coalesce("e_ref", "end_to_end_id", "uetr")).otherwise(c("source_txn_id"))
                       .alias("source_txn_id"))
    first = ~c("_unsplit") | (c("d_i") == "1")
    return f.filter(first)


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
        xml_safety.check_file(path)
        seps = _separators(path)
        if seps is None:
            raise InputError("the file carries private-use characters (U+E000 ...) of every set the reader can use as "
                             "separators; remove them (they carry no meaning in bank data) and ingest again", path=path)
        n_containers = n_entries = pending = unsplit = row_no = 0
        shapes = camt_shapes.Shapes(RECORD_COLUMNS, MULTI_COLUMNS + _PICKED_FROM, ATTRIBUTE_COLUMNS, seps, "Ntry")

        def document_of(root) -> tuple[Any, str]:
            """The Document element (in an envelope too) and the message's namespace, checked."""
            document = next((el for el in root if xml_safety.local(el.tag) == "Document"), root)
            return document, _namespace(document.tag, kind, path, self.message)

        def extract(chunk: xml_chunks.Chunk) -> tuple[int, int, int, int, pl.DataFrame | None]:
            """(containers, entries, pending, unsplit, the chunk's transactions with row numbers from 1)"""
            found, records = read_records(chunk)
            if not records.height:
                return found, 0, 0, 0, None
            entries = int(records.select((pl.col("d_i").is_null() | (pl.col("d_i") == "1")).sum()).item())
            rows, p, u = _rows(records)
            rows = rows.with_columns(pl.int_range(1, 1 + rows.height, dtype=pl.Int64).alias("row_no"))
            return found, entries, p, u, statement_frame(rows)

        def read_records(chunk: xml_chunks.Chunk) -> tuple[int, pl.DataFrame]:
            if chunk.units:  # a chunk of a large file: the stylesheet once per shape of entry (camt_shapes)
                try:  # the file's prefix alone (_parse would read the whole file again to place an error)
                    _, ns = document_of(xml_safety.parse_bytes(chunk.prefix + chunk.closers, path).getroot())
                except InputError:
                    pass  # the whole parse below says it of the file
                else:
                    # a shape the parser refuses only sends the chunk to the whole parse: no line number to find
                    raw = shapes.records(chunk, lambda doc: bytes(_stylesheet(ns, container, seps)(xml_safety.parse_bytes(doc, path))))
                    if raw is not None:
                        return len(chunk.units), _tidy(raw)
            tree = _parse(chunk.doc, path)
            root = tree.getroot()
            document, ns = document_of(root)
            found = len(document.findall(f"*/{{{ns}}}{container}"))
            placed = f"count(/c:Document/*/c:{container}/c:Ntry | /*/c:Document/*/c:{container}/c:Ntry)"
            # every Ntry, of any namespace (lxml's own walk: several times faster than an XPath on local-name())
            stray = sum(1 for _ in root.iter("{*}Ntry")) - int(tree.xpath(placed, namespaces={"c": ns})) if found else 0
            if stray:  # the stylesheet reads the entries of the statements only: none may be left behind
                raise InputError(f"{int(stray)} <Ntry> entries outside a <{container}> of the message's namespace: "
                                 f"not a valid {kind}; ask the bank for a corrected file", path=path)
            return found, _records(bytes(_stylesheet(ns, container, seps)(tree)), seps)

        for found, entries, p, u, frame in _ahead(extract, xml_chunks.chunks(path, container, "Ntry", CHUNK_ENTRIES)):
            n_containers, n_entries, pending, unsplit = n_containers + found, n_entries + entries, pending + p, unsplit + u
            if frame is None:
                continue
            yield frame.with_columns(pl.col("row_no") + row_no) if row_no else frame
            row_no += frame.height
        if n_containers == 0:
            raise InputError(f"invalid {kind}: no <{container}> element (the message is incomplete)", path=path)
        if n_entries == 0:
            raise InputError(f"{kind} has no entries (<Ntry>): balances only, nothing to load", path=path)
        _notes(ctx, pending, unsplit)

    def raw_records(self, path: Path, ctx: ReadContext, row_nos: set[int]) -> dict[int, str]:
        """The raw record (every leaf of the entry and its detail, as JSON) of the given rows: the fast path does
        not build it for every row, only the quarantined rows need it."""
        out: dict[int, str] = {}
        row_no = 0
        for raws in self._entry_raws(path):
            for raw in raws:
                row_no += 1
                if row_no in row_nos:
                    out[row_no] = json.dumps(raw, ensure_ascii=False)
            if len(out) == len(row_nos):
                break
        return out

    def _entry_raws(self, path: Path) -> Iterator[list[dict]]:
        """Per entry, the raw records of its rows (one per detail, one for an entry kept whole), in file order."""
        container = CONTAINER[self.message]
        stmt: dict | None = None
        for _event, el in xml_safety.iterparse(path, ("{*}Acct", "{*}Ntry", f"{{*}}{container}")):
            name = xml_safety.local(el.tag)
            if name == "Acct":
                parent = el.getparent()
                if parent is not None and xml_safety.local(parent.tag) == container:
                    stmt = _statement_account(el, parent)
                continue
            if name == container:
                stmt = None
                el.clear()
                continue
            if stmt is None:
                parent = el.getparent()
                stmt = {"no": None, "id": _child_text(parent, "Id") if parent is not None else None}
            yield _raws_of_entry(el, stmt)
            el.clear()
            parent = el.getparent()
            if parent is not None:
                while el.getprevious() is not None:
                    del parent[0]


def _ahead(work, items: Iterator) -> Iterator:
    """work(item) for each item, in order, in two worker threads while this one cuts the next chunks: lxml and
    polars let go of the GIL while they work, so two cores share it. At most two chunks are in flight."""
    with ThreadPoolExecutor(max_workers=2, thread_name_prefix="camt") as pool:
        pending: deque = deque()
        for item in items:
            pending.append(pool.submit(work, item))
            if len(pending) >= 2:
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()


def _parse(doc: bytes, path: Path) -> etree._ElementTree:
    try:
        return xml_safety.parse_bytes(doc, path)
    except InputError:
        if path.stat().st_size > xml_chunks.SPLIT_ABOVE_BYTES:  # a chunk's line numbers are not the file's
            for _ in xml_safety.iterparse(path, ("{*}Ntry",)):
                pass
        raise


def _namespace(tag: str, kind: str, path: Path, message: str) -> str:
    ns = tag[1:].split("}", 1)[0] if tag.startswith("{") else ""
    m = NS_RE.fullmatch(ns)
    if not m or m.group(1) != message:
        raise InputError(f"namespace '{ns}' is not a {kind} namespace", path=path)
    if int(m.group(2)) not in SUPPORTED_VERSIONS:
        raise InputError(f"{kind} version 001.{m.group(2)} is not supported (001.01 to 001.13)", path=path)
    return ns


def _notes(ctx: ReadContext, pending: int, unsplit: int) -> None:
    if pending:
        ctx.notes.append(f"{pending} pending or information-only entries not loaded (quarantined with status reason)")
    if unsplit:
        ctx.notes.append(f"{unsplit} batch entries kept as one row each (their details carry no amounts)")


# ---------------------------------------------------------------- raw records (quarantine)
def _child_text(el, name: str) -> str | None:
    for child in el:
        if isinstance(child.tag, str) and xml_safety.local(child.tag) == name:
            text = (child.text or "").strip()
            return text or None
    return None


def _acct(d: dict, prefix: str) -> str | None:
    return _get(d, f"{prefix}Id/IBAN", f"{prefix}Id/Othr/Id", f"{prefix}Id/PrtryAcct/Id", f"{prefix}Id/BBAN",
                f"{prefix}Id/UPIC")


def _statement_account(acct, container_el) -> dict:
    return {"no": _acct(flatten(acct), ""), "id": _child_text(container_el, "Id")}


def _amount_in(d: dict) -> bool:
    return "Amt" in d or "AmtDtls/TxAmt/Amt" in d


def _raws_of_entry(ntry, stmt: dict) -> list[dict]:
    """The raw records of one entry's rows: the entry's leaves, with each detail's under TxDtls/."""
    e = flatten(ntry, skip="NtryDtls")
    details = [x for x in ntry if isinstance(x.tag, str) and xml_safety.local(x.tag) == "NtryDtls"]
    tx = [t for nd in details for t in nd if isinstance(t.tag, str) and xml_safety.local(t.tag) == "TxDtls"]
    if not tx:
        tx = [t for t in ntry if isinstance(t.tag, str) and xml_safety.local(t.tag) == "TxDtls"]
    e["Stmt/Id"] = stmt.get("id")
    e["Stmt/Acct"] = stmt.get("no")
    if not tx:
        batch = [b for nd in details for b in nd if isinstance(b.tag, str) and xml_safety.local(b.tag) == "Btch"]
        if batch:
            e.update({f"Btch/{k}": v for k, v in flatten(batch[0]).items()})
        return [e]
    flat = [flatten(t) for t in tx]
    many = len(flat) > 1
    if many and not all(_amount_in(d) for d in flat):
        e["TxDtls"] = flat
        return [e]
    raws = []
    for i, d in enumerate(flat, start=1):
        raw = dict(e)
        raw.update({f"TxDtls/{k}": v for k, v in d.items()})
        if many:
            raw["TxDtls#"] = f"{i} of {len(flat)}"
        raws.append(raw)
    return raws


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
