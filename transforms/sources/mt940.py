"""SWIFT MT940 (customer statement) and MT942 (interim transaction report), parsed with the maintained
`mt-940` library (import mt940); this module only maps its output to canonical transactions.

Each :61: statement line becomes one transaction from the :25: account's side. The counterparty comes from
the :86: details: German structured (GVC '?20..?32' sub-fields, parsed by mt940), SWIFT/SEPA keyword
sub-fields (/EREF/ /IBAN/ /BIC/ /NAME/ /REMI/ /CNTP/), or an IBAN in the supplementary details; where none
is recognisable it is left null (the loader gives such entries their own 'unknown:' account).
Field mapping and the codes recognised (cash deposits / withdrawals): docs/statements.md.

A statement block the library cannot parse does not vanish: each of its :61: lines is emitted with an
error and quarantined. A file with no :61: line at all is refused.

Speed: the library is pure Python, so a large file's blocks are parsed in worker processes (_parallel), and the
raw record of a row is only built for the rows being quarantined (raw_records).
"""

from __future__ import annotations

import json
from contextlib import contextmanager
import logging
import os
import re
from datetime import date, datetime, timezone
from decimal import Decimal
from pathlib import Path
from typing import Iterator

import mt940
import mt940.tags
import polars as pl

from transforms.errors import InputError
from transforms.sources.base import ReadContext, Reader
from transforms.sources import mt940_columns
from transforms.sources.camt import GVC_REVERSAL, ROW_SCHEMA, statement_frame
from transforms.sources.mt940_fields import (
    IBAN_TOKEN, UUID, channel_of, clean_ref, iban_ok, join_details, slash_fields, split_account,
)

CHUNK_ENTRIES = 20_000  # statement lines per group of blocks (a unit of work for a worker process)
MAX_BYTES = 1024**3
_TAG_LINE = re.compile(r"(?m)^:(20|21|25P?|28C?|60[FM]|61|62[FM]|64|65|86|NS|13D?|34F|90[CD]):")
_MT942_TAGS = re.compile(r"(?m)^:(34F|13D|90[CD]):")
_BALANCE_TAGS = re.compile(r"(?m)^:(60[FM]|62[FM]):")
_BLOCK_SPLIT = re.compile(r"(?m)^(?=:20:)")
_STATEMENT_LINE = re.compile(r"(?m)^:61:(.*)$")
_BIC_IN_TEXT = re.compile(r"(?<![A-Z])([A-Z]{4}(?:AD|AE|AT|BE|BG|CH|CN|CY|CZ|DE|DK|EE|ES|FI|FR|GB|GR|HK|HR|HU|IE|IT|JP|KH|LA|"
                          r"LI|LT|LU|LV|MM|MT|MY|NL|NO|PH|PL|PT|RO|SE|SG|SI|SK|TH|TR|US|VN)[A-Z2-9][A-NP-Z0-9])")


def looks_like_swift(head: str) -> bool:
    return bool(_TAG_LINE.search(head.lstrip("\ufeff")[:HEAD_LIMIT]))


HEAD_LIMIT = 64 * 1024


def is_mt942(text: str) -> bool:
    pre = text[:2000]
    if re.search(r"\{2:[IO]942", pre):
        return True
    if re.search(r"\{2:[IO]940", pre):
        return False
    return bool(_MT942_TAGS.search(text)) and not _BALANCE_TAGS.search(text)


def preamble_bic(text: str) -> str | None:
    """The bank's BIC from the header before the first :20: (SWIFT blocks, ABN/ING header lines)."""
    first = text.find(":20:")
    pre = text[: first if first >= 0 else 0][:2000]
    m = _BIC_IN_TEXT.search(pre.upper())
    return m.group(1) if m else None


def decode(data: bytes, path: Path) -> str:
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        text = data.decode("cp1252", errors="replace")  # ISO 8859-1 / Windows-1252 statements (umlauts)
    return text.replace("\x00", "").replace("\r\n", "\n").replace("\r", "\n")


class Mt940Reader(Reader):
    name = "mt940"
    table = "transactions"
    priority = 60
    detect_order = 30
    mt942 = False

    def detect(self, path: Path, head: str, ctx: ReadContext) -> bool:
        if not head:  # not UTF-8 (Latin-1 / Windows-1252 statements): look at the bytes as cp1252
            with open(path, "rb") as fh:
                head = decode(fh.read(HEAD_LIMIT), path)
        if not looks_like_swift(head):
            return False
        return is_mt942(head.lstrip("\ufeff")) == self.mt942

    def read(self, path: Path, ctx: ReadContext) -> Iterator[pl.DataFrame]:
        size = path.stat().st_size
        if size > MAX_BYTES:
            raise InputError(f"MT940 file of {size} bytes exceeds the {MAX_BYTES}-byte limit; split it", path=path)
        text = decode(path.read_bytes(), path)
        if not _STATEMENT_LINE.search(text):
            raise InputError("no statement lines (:61:) in the MT94x file: balances or headers only, nothing to load",
                             path=path)
        bank = preamble_bic(text)
        blocks = [b for b in _BLOCK_SPLIT.split(text) if _TAG_LINE.search(b)]
        row_no = unparsed = 0
        for frame, bad in _parallel(_rows_of_blocks, _groups(blocks), bank):
            frame = frame.with_columns(pl.int_range(row_no + 1, row_no + 1 + frame.height, dtype=pl.Int64).alias("row_no"))
            row_no += frame.height
            unparsed += bad
            if frame.height:
                yield statement_frame(frame)
        if unparsed:
            ctx.notes.append(f"{unparsed} statement line(s) in blocks the MT940 parser could not read (quarantined)")

    def raw_records(self, path: Path, ctx: ReadContext, row_nos: set[int]) -> dict[int, str]:
        """The raw records (the parser's fields of the :61: / :86: pair and the statement's references) of the
        given rows: read() leaves them out to be fast, only quarantined rows need them."""
        text = decode(path.read_bytes(), path)
        bank = preamble_bic(text)
        out: dict[int, str] = {}
        row_no = 0
        with _library_quiet():
            for block in (b for b in _BLOCK_SPLIT.split(text) if _TAG_LINE.search(b)):
                for row in _block_rows(block, bank, with_raw=True):
                    row_no += 1
                    if row_no in row_nos:
                        out[row_no] = row["raw"]
                if len(out) == len(row_nos):
                    break
        return out


PARALLEL_MIN_LINES = 40_000  # below this a file is parsed in this process: starting workers costs about a second
WORKERS = 2


def _groups(blocks: list[str]) -> list[list[str]]:
    """Consecutive blocks in groups of about CHUNK_ENTRIES statement lines."""
    groups: list[list[str]] = [[]]
    lines = 0
    for block in blocks:
        n = block.count("\n:61:") + block.startswith(":61:")
        if lines and lines + n > CHUNK_ENTRIES:
            groups.append([])
            lines = 0
        groups[-1].append(block)
        lines += n
    return groups


def _parallel(work, groups: list[list[str]], bank: str | None) -> Iterator[tuple[pl.DataFrame, int]]:
    """work(group, bank) for each group, in order: in worker processes for a large file (the parser is pure
    Python, so threads would not share the cores). Workers are spawned: a script that ingests a large MT940 file
    must run under `if __name__ == "__main__":`, as the CLI, the flows and the benchmarks do."""
    lines = sum(b.count("\n:61:") + b.startswith(":61:") for g in groups for b in g)
    workers = min(os.cpu_count() or 1, WORKERS)
    if lines < PARALLEL_MIN_LINES or workers <= 1 or len(groups) < 2:
        for group in groups:
            yield work(group, bank)
        return
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    with ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("spawn")) as pool:
        yield from pool.map(work, groups, [bank] * len(groups))


def _rows_of_blocks(blocks: list[str], bank: str | None) -> tuple[pl.DataFrame, int]:
    """ROW_SCHEMA rows of some statement blocks (row_no left to the caller) and how many lines were unparsable:
    the plain blocks read on columns (mt940_columns), the others by the library, in block order."""
    schema = {k: v for k, v in ROW_SCHEMA.items() if k != "row_no"}
    plain, declined = mt940_columns.plain_rows(blocks, bank)
    rows: list[dict] = []
    with _library_quiet():
        for i in declined:
            for line, row in enumerate(_block_rows(blocks[i], bank), start=1):
                rows.append({**row, "_block": i, "_line": line})
    unparsed = sum(1 for row in rows if any(e.startswith("statement: ") for e in row["errors"]))
    order = {"_block": pl.Int64, "_line": pl.Int64}
    library = pl.DataFrame(rows, schema={**schema, **order})
    if not plain.height:
        return library.drop(*order), unparsed
    plain = plain.select(*[pl.col(k).cast(t) for k, t in {**schema, **order}.items()])
    return pl.concat([plain, library]).sort(*order).drop(*order), unparsed


def _block_rows(block: str, bank: str | None, with_raw: bool = False) -> list[dict]:
    stmt, problem = _parse_block(block)
    if stmt is None:
        return [_unparsed_row(line, problem) for line in _STATEMENT_LINE.findall(block)]
    data = stmt.data
    inst, number, acct_err = split_account(data.get("account_identification"), bank)
    stmt_currency = stmt.currency
    stmt_raw = {k: str(data[k]) for k in ("transaction_reference", "account_identification", "statement_number",
                                           "sequence_number") if data.get(k) is not None} if with_raw else None
    rows = [_transaction_row(t.data, inst, number, acct_err, stmt_currency, stmt_raw) for t in stmt.transactions]
    lines = _STATEMENT_LINE.findall(block)
    if len(lines) > len(rows):  # a :61: the library skipped must still be counted and quarantined
        rows += [_unparsed_row(line, "statement line not recognised by the MT940 parser") for line in lines[len(rows):]]
    return rows


class Mt942Reader(Mt940Reader):
    name = "mt942"
    mt942 = True


_MT940_LOG = logging.getLogger("mt940")


@contextmanager
def _library_quiet() -> Iterator[None]:
    """The library logs every failed pattern fragment at ERROR: silenced around a whole parse, not per block
    (each setLevel clears every logger's level cache: a seventh of the parse when done per block)."""
    previous = _MT940_LOG.level
    _MT940_LOG.setLevel(logging.CRITICAL)
    try:
        yield
    finally:
        _MT940_LOG.setLevel(previous)


def _parse_block(block: str):
    """Parse one statement block; ASN Bank's variant of :61: is tried when the standard one fails."""
    problem = ""
    asnb: dict[int | str, mt940.tags.Tag] = {61: mt940.tags.StatementASNB()}
    for tags in (None, asnb):
        stmt = mt940.models.Transactions(tags=tags, options=mt940.Options.all())
        try:
            stmt.parse(block)
            return stmt, ""
        except Exception as exc:  # the library raises RuntimeError / ValueError / KeyError on bad input
            problem = _short(exc)
    return None, problem


def _short(exc: Exception) -> str:
    msg = str(exc.args[0]) if exc.args else type(exc).__name__
    msg = msg.replace("\n", " ")
    msg = re.sub(r"<mt940\.tags\.(\w+) object at 0x[0-9a-f]+>", r"\1", msg)
    return msg[:160]


def _unparsed_row(line: str, problem: str) -> dict:
    return _empty_row({"61": line}, [f"statement: MT940 block could not be parsed ({problem}); statement line "
                                     f"':61:{line[:50]}' is not loaded"])


def _empty_row(raw: dict, errors: list[str]) -> dict:
    return {"raw": json.dumps(raw, ensure_ascii=False), "errors": errors, "stmt_no": None, "stmt_inst": None,
            "stmt_name": None, "cp_no": None, "cp_inst": None, "cp_name": None, "out": None, "amount": None,
            "currency": None, "booked_at": None, "value_date": None, "channel": "transfer", "reference": None,
            "end_to_end_id": None, "uetr": None, "native_id": None, "source_txn_id": None, "bank_tx_code": None,
            "is_reversal": False}


def _to_date(value) -> date | None:
    if isinstance(value, date):
        return date(value.year, value.month, value.day)
    return None


def _transaction_row(d: dict, inst, number, acct_err, stmt_currency, stmt_raw: dict | None) -> dict:
    """One :61: (with its :86:) as a ROW_SCHEMA row; its raw record only when stmt_raw is given (raw_records)."""
    errors: list[str] = []
    if acct_err:
        errors.append(acct_err)
    raw = None
    if stmt_raw is not None:
        raw = dict(stmt_raw)
        raw.update({k: (str(v) if v is not None else None) for k, v in d.items() if v not in (None, "")})
    status = str(d.get("status") or "").upper()
    if status not in ("C", "D", "RC", "RD"):
        errors.append(f"direction: debit/credit mark must be C, D, RC or RD, got '{status}'")
    out = True if status in ("D", "RC") else False if status in ("C", "RD") else None
    reversal = status.startswith("R")
    amt = d.get("amount")
    amount = currency = None
    if amt is None or getattr(amt, "amount", None) is None:
        errors.append("amount: missing")
    else:
        amount = format(abs(Decimal(amt.amount)), "f")
        currency = getattr(amt, "currency", None) or stmt_currency
    if not currency:
        errors.append("currency: the statement gives none (no :60F:/:60M: balance or :34F: floor limit)")
    value_date = _to_date(d.get("date"))
    booked = _to_date(d.get("entry_date")) or value_date
    if booked is None:
        errors.append("booked_at: the :61: line has no valid date")
    booked_at = datetime(booked.year, booked.month, booked.day, tzinfo=timezone.utc) if booked else None

    details = d.get("transaction_details")
    text = join_details(details)
    fields = slash_fields(details) if details and "/" in details else {}
    # counterparty
    cp_no = d.get("applicant_iban") or d.get("gvc_applicant_iban")
    cp_inst = d.get("applicant_bin") or d.get("gvc_applicant_bin")
    cp_name = d.get("applicant_name")
    cntp = fields.get("CNTP", "").split("/") if fields.get("CNTP") else []
    if not cp_no:
        cp_no = fields.get("IBAN") or (cntp[0] if cntp and cntp[0] else None)
    if not cp_inst:
        cp_inst = fields.get("BIC") or (cntp[1] if len(cntp) > 1 and cntp[1] else None)
    if not cp_name:
        cp_name = fields.get("NAME") or (cntp[2] if len(cntp) > 2 and cntp[2] else None)
    if not cp_no:
        for candidate in (d.get("customer_reference"), d.get("extra_details"), text[:40]):
            m = IBAN_TOKEN.search(str(candidate or "").upper())
            if m and iban_ok(m.group(1)):
                cp_no = m.group(1)
                break
    cp_no = (str(cp_no).strip().replace(" ", "") or None) if cp_no else None
    if cp_no and number and cp_no.upper() == number.upper():
        cp_no = None  # the statement's own account named in the details is not the counterparty
    cp_inst = (str(cp_inst).strip().upper() or None) if cp_inst else None
    cp_name = re.sub(r"\s+", " ", str(cp_name)).strip() or None if cp_name else None

    e2e = clean_ref(d.get("end_to_end_reference")) or clean_ref(fields.get("EREF"))
    uetr = fields.get("UETR") if fields.get("UETR") and UUID.match(fields["UETR"]) else None
    bank_ref = clean_ref(d.get("bank_reference"))
    gvc = str(d.get("transaction_code") or "").strip() or None
    if gvc in GVC_REVERSAL:
        reversal = True
    swift_type = str(d.get("id") or "").strip().upper() or None
    channel = channel_of(gvc, swift_type, text)
    remi = re.sub(r"^(USTD|STRD)/+((CUR|ISO)/+)?", "", fields.get("REMI") or "").strip("/ ") or None
    reference = (d.get("purpose") or remi or text or None)
    if isinstance(reference, str):
        reference = re.sub(r"\s+", " ", reference).strip() or None
    code = "; ".join(x for x in (swift_type, f"GVC {gvc}" if gvc else None) if x) or None
    return {
        "raw": json.dumps(raw, ensure_ascii=False) if raw is not None else None,
        "errors": errors,
        "stmt_no": number,
        "stmt_inst": inst,
        "stmt_name": None,
        "cp_no": cp_no,
        "cp_inst": cp_inst,
        "cp_name": cp_name,
        "out": out,
        "amount": amount,
        "currency": currency,
        "booked_at": booked_at,
        "value_date": value_date,
        "channel": channel,
        "reference": reference,
        "end_to_end_id": e2e,
        "uetr": uetr,
        "native_id": bank_ref,
        "source_txn_id": bank_ref or clean_ref(d.get("customer_reference")) or e2e,
        "bank_tx_code": code,
        "is_reversal": reversal,
    }


READERS = [Mt940Reader(), Mt942Reader()]
