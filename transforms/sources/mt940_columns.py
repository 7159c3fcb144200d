"""Plain MT940 statement blocks read on columns (polars), giving each :61: the row the library path gives it.

The mt-940 library builds Python objects for every tag: about 5,000 statement lines a second per core, while a
national year of statements holds millions. Most blocks are plain: :20:, :25:, an optional :28C:, one opening
balance, :61: lines each with an optional :86: (free text, keyword sub-fields or German structured details), a
closing balance, optional :64: / :65:. This module reads those blocks on columns and maps their fields as
mt940.py maps the library's parse. Every other block (MT942 tags, a lower-case mark, a day the library corrects,
structured details it reads in its own way, text beyond ASCII, ...) is declined and goes to the library, so
unusual input keeps the library's behaviour.
tests/test_mt940_columns.py holds the two paths equal on the reference statements and on generated variants.
"""

from __future__ import annotations

import polars as pl
from mt940.processors import GVC_KEYS

from transforms.sources.camt import GVC_CHANNEL, GVC_REVERSAL
from transforms.sources.mt940_fields import (
    IBAN_TOKEN, NL_CARD, NL_CASH_OUT, PLACEHOLDER_REFS, SLASH_KEY, SWIFT_TYPE_CHANNEL, UUID, iban_ok, split_account,
)

_TAG = r"^:(20|25|28C|60F|60M|61|86|62F|62M|64|65):"
# Only text of printable ASCII (the SWIFT character set is a part of it), tabs and line breaks is read on columns:
# beyond ASCII, Python's and polars' regular expressions (\w, \b, \s) and upper-casing follow different Unicode
# rules, and the markers used below must not occur in the text.
_UNSAFE = "[^\t\n\x20-\x7e]"
# the tags of a plain block in order, '+' where a tag goes on over further lines
_PLAIN = r"^20\+?,25,(28C,)?(60F|60M),(61,(86\+?,)?)*(62F|62M)\+?,(64\+?,)?(65\+?,)*$"
# value date, entry date, mark, a funds code (the currency's third letter: 'CR' in German files), amount, type, rest
_LINE = r"^([0-9]{2})([0-9]{2})([0-9]{2})([0-9]{4})?(RC|RD|C|D)[A-Z]?([0-9][0-9,]{0,14})([A-Z][A-Z0-9]{3})(.*)$"
_BALANCE = r"^[DC]([0-9]{6})([A-Z]{3})([0-9,]{1,16})$"
_NUMBER = r"^[0-9]{1,5}(/?[0-9]{1,5})?$"
_STRUCTURED = r"^\d{3}\?\d{2}"  # German structured details (GVC): '166?00text?20text...'
_WELL_STRUCTURED = r"^[0-9]{3}(\?[0-9]{2}[^?]*)+$"
# the SEPA keywords inside a structured purpose ('EREF+...SVWZ+...'), as the library knows them
_KEYWORD_MARK = "(" + "|".join(k for k in GVC_KEYS if k) + r")\+"  # letters and a space only
_KEY_MARK = SLASH_KEY.pattern
_YEAR_BOUNDARY_DAYS = 330  # the library's guess of the entry date's year (mt940.tags)


def plain_rows(blocks: list[str], bank: str | None) -> tuple[pl.DataFrame, list[int]]:
    """The rows (ROW_SCHEMA without row_no, raw left null, plus `_block` and `_line`: the block's index and the
    statement line's place in it) of the plain blocks, and the indices of the blocks declined."""
    c = pl.col
    items = _items(blocks)
    shape = (items.group_by("_block", maintain_order=True)
             .agg(c("_code").str.join(""), c("_bad").any(), c("_ok").all()))
    plain = shape.filter(c("_code").str.contains(_PLAIN) & ~c("_bad") & c("_ok")).select("_block")
    items = items.join(plain, on="_block", how="semi", maintain_order="left")
    account = items.filter(c("_tag") == "25").select("_block", c("_data").str.slice(0, 35).alias("_account"))
    currency = items.filter(c("_tag").is_in(["60F", "60M"])).select("_block", c("_data").str.slice(7, 3).alias("currency"))
    lines = (items.with_columns(_details=pl.when(c("_tag").shift(-1) == "86").then(c("_data").shift(-1)))
             .filter(c("_tag") == "61")
             .with_columns(_line=c("_tag").cum_count().over("_block"))
             .join(account, on="_block", how="left", maintain_order="left")
             .join(currency, on="_block", how="left", maintain_order="left"))
    rows = _rows(lines, bank)
    failed = set(items.filter(_spoils_block()).get_column("_block").unique().to_list())
    failed |= set(rows.filter(c("_spoilt")).get_column("_block").unique().to_list())
    accepted = set(plain.get_column("_block").to_list()) - failed
    rows = rows.filter(c("_block").is_in(list(accepted))).drop("_spoilt")
    return rows, sorted(set(range(len(blocks))) - accepted)


def _items(blocks: list[str]) -> pl.DataFrame:
    """One row per tag of each block: its tag, its data as the library cuts it, and what the shape check needs."""
    c = pl.col
    frame = pl.DataFrame({"_text": blocks}, schema={"_text": pl.Utf8}).with_row_index("_block")
    frame = frame.with_columns(_ok=~c("_text").str.contains(_UNSAFE) & c("_text").str.starts_with(":20:"))
    lines = frame.select("_block", "_ok", c("_text").str.split("\n").alias("_line")).explode("_line")
    # the library's clean-up: lines right-stripped, empty lines and lines of a lone '-' dropped
    line = c("_line").str.strip_chars_end()
    lines = lines.with_columns(line).filter((c("_line") != "") & (c("_line").str.strip_chars() != "-"))
    tag = c("_line").str.extract(_TAG, 1)
    lines = lines.with_columns(_tag=tag, _bad=c("_line").str.starts_with(":") & tag.is_null())
    head = c("_tag").is_not_null() | (c("_block") != c("_block").shift(1)).fill_null(True)
    lines = lines.with_columns(
        _head=head,
        _item=head.cum_sum(),
        _line=pl.when(c("_tag").is_not_null()).then(c("_line").str.slice(c("_tag").str.len_chars() + 2)).otherwise(c("_line")),
    )
    # most tags are one line: only those that go on over more lines are joined (a group-by over every line costs
    # more than the rest of the parse)
    items = lines.filter(c("_head")).with_columns(_n=pl.lit(1, dtype=pl.UInt32))
    longer = lines.filter(~c("_head")).select("_item").unique()
    if longer.height:
        joined = (lines.join(longer, on="_item", how="semi", maintain_order="left")
                  .group_by("_item", maintain_order=True)
                  .agg(c("_line").str.join("\n").alias("_joined"), pl.len().alias("_len"), c("_bad").any().alias("_bad_any")))
        items = (items.join(joined, on="_item", how="left", maintain_order="left")
                 .with_columns(_line=pl.coalesce("_joined", "_line"), _n=pl.coalesce("_len", "_n"),
                               _bad=c("_bad") | c("_bad_any").fill_null(False))
                 .drop("_joined", "_len", "_bad_any"))
    items = items.rename({"_line": "_data"})
    return items.with_columns(
        _data=c("_data").str.strip_chars(),
        _code=pl.coalesce(c("_tag"), pl.lit("?")) + pl.when(c("_n") > 1).then(pl.lit("+")).otherwise(pl.lit("")) + ",",
    )


def _spoils_block() -> pl.Expr:
    """A tag the library would refuse (and with it the whole block): a statement number or a balance it cannot
    read; or German sub-fields in a :86: not cut cleanly into '?NN' fields (the library's reading of those is
    left to it)."""
    c = pl.col
    data = c("_data")
    balance = c("_tag").is_in(["60F", "60M", "62F", "62M", "64", "65"])
    amount = data.str.extract(_BALANCE, 3)
    day = ("20" + data.str.extract(_BALANCE, 1)).str.to_date("%Y%m%d", strict=False)
    bad_balance = balance & (amount.is_null() | day.is_null() | (amount.str.count_matches(",", literal=True) > 1)
                             | ~amount.str.contains("[0-9]"))
    bad_number = (c("_tag") == "28C") & ~data.str.contains(_NUMBER)
    joined = data.str.replace_all("\n", "", literal=True)
    odd_structure = (c("_tag") == "86") & joined.str.contains(_STRUCTURED) & ~joined.str.contains(_WELL_STRUCTURED)
    return (bad_balance | bad_number | odd_structure).fill_null(True)


def _rows(lines: pl.DataFrame, bank: str | None) -> pl.DataFrame:
    c = pl.col
    names = ["_yy", "_mm", "_dd", "_entry", "_mark", "_amount", "_kind", "_rest"]
    lines = lines.with_columns(c("_data").str.extract_groups(_LINE).struct.rename_fields(names).alias("_p")).unnest("_p")
    yy, mm, dd, entry, mark, amount = (c(n) for n in names[:6])
    value_date = ("20" + yy + mm + dd).str.to_date("%Y%m%d", strict=False)
    lines = lines.with_columns(_value=value_date)
    value_date = c("_value")
    entry_same_year = (value_date.dt.year().cast(pl.Utf8) + entry).str.to_date("%Y%m%d", strict=False)
    gap = (value_date - entry_same_year).dt.total_days()
    shift = pl.when(gap >= _YEAR_BOUNDARY_DAYS).then(1).when(-gap >= _YEAR_BOUNDARY_DAYS).then(-1).otherwise(0)
    entry_date = ((value_date.dt.year() + shift).cast(pl.Utf8).str.zfill(4) + entry).str.to_date("%Y%m%d", strict=False)
    parts = amount.str.split_exact(",", 1)
    whole = parts.struct.field("field_0").str.strip_chars_start("0").replace("", "0")
    fraction = parts.struct.field("field_1")
    f = lines.with_columns(
        _spoilt=(mark.is_null() | value_date.is_null() | (entry.is_not_null() & entry_date.is_null())
                 | (amount.str.count_matches(",", literal=True) > 1)).fill_null(True),
        out=mark.is_in(["D", "RC"]),
        is_reversal=mark.str.starts_with("R"),
        amount=pl.when(fraction.is_null() | (fraction == "")).then(whole).otherwise(whole + "." + fraction),
        value_date=value_date,
        booked_at=pl.coalesce(entry_date, value_date).cast(pl.Datetime("us", "UTC")),
    )
    f = _references(f)
    f = _details(f)
    f = _counterparty(f, bank)
    return f.select(
        "_block", "_line", "_spoilt",
        pl.lit(None, dtype=pl.Utf8).alias("raw"), "errors", "stmt_no", "stmt_inst",
        pl.lit(None, dtype=pl.Utf8).alias("stmt_name"), "cp_no", "cp_inst", "cp_name", "out", "amount", "currency",
        "booked_at", "value_date", "channel", "reference", "end_to_end_id", "uetr", "native_id", "source_txn_id",
        "bank_tx_code", "is_reversal",
    )


def _clean_ref(x: pl.Expr) -> pl.Expr:
    """mt940_fields.clean_ref: stripped, placeholders (NONREF ...) as null."""
    v = x.str.strip_chars()
    return pl.when(~v.str.to_uppercase().is_in(list(PLACEHOLDER_REFS))).then(v)


def _references(f: pl.DataFrame) -> pl.DataFrame:
    """The library's split of what follows the transaction type: up to 16 characters of customer reference
    (stopping at '//'), then '//' and up to 23 characters of bank reference, the rest supplementary details."""
    c = pl.col
    before = c("_rest").str.extract(r"^(.*?)//", 1)
    has_bank = before.is_not_null() & (before.str.len_chars() <= 16)
    after = c("_rest").str.slice(before.str.len_chars() + 2)
    return f.with_columns(
        _customer=pl.when(has_bank).then(before).otherwise(c("_rest").str.slice(0, 16)),
        _bank=pl.when(has_bank).then(after.str.slice(0, 23)),
        _extra=pl.when(has_bank).then(after.str.slice(23)).otherwise(c("_rest").str.slice(16)),
    ).with_columns(native_id=_clean_ref(c("_bank")))


def _field(marked: pl.Expr, key: str) -> pl.Expr:
    """The first /KEY/ sub-field's value, as mt940_fields.slash_fields strips it."""
    return (marked.str.extract(f"\x00{key}\x01([^\x00]*)", 1)
            .str.strip_chars().str.strip_chars("/").str.strip_chars())


def _details(f: pl.DataFrame) -> pl.DataFrame:
    """The :86: free text joined as mt940_fields.join_details joins it, its keyword sub-fields, the reference and
    the channel; German structured details as the library reads them (_structured)."""
    c = pl.col
    d = c("_details")
    f = _structured(f)
    plain = d.is_not_null() & ~c("_gvc_form")
    text = (d.str.split("\n").list.eval(pl.when(pl.element().str.len_chars() >= 65).then(pl.element())
                                        .otherwise(pl.element() + " ")).list.join("")
            .str.replace_all(r"\s+", " ").str.strip_chars())
    text = pl.when(~plain | (d == "")).then(pl.lit("")).otherwise(text)
    marked = pl.when(plain & d.str.contains("/", literal=True)).then(
        d.str.replace_all("\n", "", literal=True).str.replace_all(_KEY_MARK, "\x00${1}\x01"))
    f = f.with_columns(_text=text, _marked=marked)
    f = f.with_columns(**{f"_{k}": _field(c("_marked"), k) for k in ("IBAN", "BIC", "NAME", "CNTP", "EREF", "UETR", "REMI")})
    cntp = c("_CNTP").str.split("/")
    remi = c("_REMI").fill_null("").str.replace(r"^(USTD|STRD)/+((CUR|ISO)/+)?", "").str.strip_chars("/ ")
    reference = _first(c("_purpose"), remi, c("_text"))
    kind_channel = c("_kind").str.slice(1).replace_strict(SWIFT_TYPE_CHANNEL, default="transfer")
    channel = (pl.when(c("_gvc").is_in(list(GVC_CHANNEL))).then(c("_gvc").replace_strict(GVC_CHANNEL, default=None))
               .when(c("_text").str.contains("(?is)" + NL_CASH_OUT.pattern)).then(pl.lit("cash_withdrawal"))
               .when(c("_text").str.contains("(?is)" + NL_CARD.pattern)).then(pl.lit("card"))
               .otherwise(kind_channel))
    e2e = pl.coalesce(_clean_ref(c("_e2e_gvc")), _clean_ref(c("_EREF")))
    return f.with_columns(
        _cp_no=_first(c("_applicant_iban"), c("_IBAN"), cntp.list.get(0, null_on_oob=True)),
        _cp_inst=_first(c("_applicant_bin"), c("_BIC"), cntp.list.get(1, null_on_oob=True)),
        _cp_name=_first(c("_applicant_name"), c("_NAME"), cntp.list.get(2, null_on_oob=True)),
        end_to_end_id=e2e,
        uetr=pl.when(c("_UETR").str.contains(UUID.pattern)).then(c("_UETR")),
        reference=reference.str.replace_all(r"\s+", " ").str.strip_chars().replace("", None),
        channel=channel,
        is_reversal=c("is_reversal") | c("_gvc").is_in(list(GVC_REVERSAL)).fill_null(False),
        bank_tx_code=pl.concat_str([c("_kind"), pl.when(c("_gvc").is_not_null()).then("GVC " + c("_gvc"))],
                                   separator="; ", ignore_nulls=True),
        source_txn_id=pl.coalesce(c("native_id"), _clean_ref(c("_customer")), e2e),
    )


def _first(*options: pl.Expr) -> pl.Expr:
    """Python's `a or b or c` on texts: an empty text counts as missing."""
    return pl.coalesce([pl.when(x != "").then(x) for x in options])


def _structured(f: pl.DataFrame) -> pl.DataFrame:
    """German structured details ('166?00GUTSCHRIFT?20EREF+E1SVWZ+rent?30BIC?31IBAN?32name') as the library's
    processors read them: the code before the first '?', '?20'-'?29' the purpose (a dangling ' BIC' / ' IBAN'
    label dropped from '?21'-'?29'), '?30' the counterparty's bank, '?31' its account, '?32'/'?33' its name; in
    the purpose, SEPA keywords (EREF+ SVWZ+ IBAN+ BIC + ...) split it further. A field code or keyword given
    twice, or a KREF+ (the library appends it to the :61: reference), spoils the block: the library reads it."""
    c = pl.col
    joined = c("_details").str.replace_all("\n", "", literal=True)
    f = f.with_columns(_gvc_form=joined.str.contains(_STRUCTURED).fill_null(False))
    segments = pl.when(c("_gvc_form")).then(joined.str.split("?"))
    f = f.with_columns(_gvc=segments.list.first(), _segs=segments.list.slice(1))
    seg, key = pl.element(), pl.element().str.slice(0, 2)

    def joined_values(condition: pl.Expr, value: pl.Expr) -> pl.Expr:
        return c("_segs").list.eval(pl.when(condition).then(value)).list.drop_nulls().list.join("").replace("", None)

    def dangling(v: pl.Expr) -> pl.Expr:
        return (pl.when(v.str.ends_with(" BIC")).then(v.str.strip_suffix(" BIC").str.strip_chars_end())
                .when(v.str.ends_with(" IBAN")).then(v.str.strip_suffix(" IBAN").str.strip_chars_end()).otherwise(v))

    value = seg.str.slice(2)
    f = f.with_columns(
        _purpose=c("_segs").list.eval(pl.when(key == "20").then(value).when(key.str.starts_with("2")).then(dangling(value)))
        .list.drop_nulls().list.join("").replace("", None),
        _applicant_bin=joined_values(key == "30", value),
        _applicant_iban=joined_values(key == "31", value),
        _applicant_name=joined_values(key.is_in(["32", "33"]), value),
        _twice=c("_segs").list.eval(key).list.n_unique() < c("_segs").list.len(),
    )
    # the SEPA keywords of the purpose: when there is one, the text before the first is dropped and SVWZ+ is the
    # purpose (none without it)
    marked = c("_purpose").str.replace_all(_KEYWORD_MARK, "\x00${1}\x01")
    parts = pl.when(c("_purpose").str.contains(_KEYWORD_MARK)).then(marked.str.split("\x00").list.slice(1))
    f = f.with_columns(_kw=parts)

    def keyword(name: str) -> pl.Expr:
        return c("_kw").list.eval(pl.element().filter(pl.element().str.starts_with(name + "\x01"))
                                  .str.slice(len(name) + 1)).list.first()

    kw_names = c("_kw").list.eval(pl.element().str.split("\x01").list.first())
    f = f.with_columns(
        _purpose=pl.when(c("_kw").is_not_null()).then(keyword("SVWZ")).otherwise(c("_purpose")),
        _applicant_iban=_first(c("_applicant_iban"), keyword("IBAN")),
        _applicant_bin=_first(c("_applicant_bin"), keyword("BIC ")),
        _e2e_gvc=keyword("EREF"),
        _twice=c("_twice") | (kw_names.list.n_unique() < kw_names.list.len()) | kw_names.list.contains("KREF"),
    )
    return f.with_columns(
        _purpose=pl.when(c("_purpose").str.ends_with(" BIC")).then(c("_purpose").str.strip_suffix(" BIC"))
        .otherwise(c("_purpose")),
        _spoilt=c("_spoilt") | c("_twice").fill_null(False),
    )


def _counterparty(f: pl.DataFrame, bank: str | None) -> pl.DataFrame:
    """The statement account (mt940_fields.split_account, once per distinct :25:) and the counterparty: the
    keyword sub-fields, else the first valid IBAN in the references or the details (looked for in Python, only
    on the rows without one)."""
    c = pl.col
    accounts = f.get_column("_account").unique().to_list()
    split = [split_account(a, bank) for a in accounts]
    stmt = pl.DataFrame({"_account": accounts, "stmt_inst": [s[0] for s in split], "stmt_no": [s[1] for s in split],
                         "_acct_err": [s[2] for s in split]}, schema={"_account": pl.Utf8, "stmt_inst": pl.Utf8,
                                                                       "stmt_no": pl.Utf8, "_acct_err": pl.Utf8})
    f = f.join(stmt, on="_account", how="left", maintain_order="left", nulls_equal=True)
    todo = f.select(pl.int_range(pl.len()).alias("_i"), "_cp_no", "_customer", "_extra", "_text").filter(c("_cp_no").is_null())
    found: dict[int, str] = {}
    for i, customer, extra, text in todo.select("_i", "_customer", "_extra", "_text").iter_rows():
        for candidate in (customer, extra, text[:40]):
            m = IBAN_TOKEN.search(str(candidate or "").upper())
            if m and iban_ok(m.group(1)):
                found[i] = m.group(1)
                break
    if found:
        extra_ids = pl.DataFrame({"_i": list(found), "_iban": list(found.values())}, schema={"_i": pl.UInt32, "_iban": pl.Utf8})
        f = (f.with_row_index("_i").join(extra_ids, on="_i", how="left", maintain_order="left")
             .with_columns(_cp_no=pl.coalesce("_cp_no", "_iban")).drop("_i", "_iban"))
    cp_no = c("_cp_no").str.strip_chars().str.replace_all(" ", "", literal=True).replace("", None)
    own = cp_no.is_not_null() & c("stmt_no").is_not_null() & (cp_no.str.to_uppercase() == c("stmt_no").str.to_uppercase())
    return f.with_columns(
        cp_no=pl.when(~own.fill_null(False)).then(cp_no),
        cp_inst=c("_cp_inst").str.strip_chars().str.to_uppercase().replace("", None),
        cp_name=c("_cp_name").str.replace_all(r"\s+", " ").str.strip_chars().replace("", None),
        errors=pl.concat_list(c("_acct_err")).list.drop_nulls(),
    )
